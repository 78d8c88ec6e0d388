"""The explain page's header says what the model reads (issue 31's papercut: "RGB" for a
one-channel model)."""

from __future__ import annotations

from googlenet.explain.html import _header
from googlenet.explain.subject import load_subject


def test_the_header_names_a_grey_models_one_channel() -> None:
    grey = _header(load_subject(None, "googlenet_mnist", None))
    assert "1-channel grey" in grey and "RGB" not in grey
    assert "RGB" in _header(load_subject(None, "googlenet_cifar", None))
