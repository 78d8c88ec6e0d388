"""The explain page's header says what the model reads (issue 31's papercut: "RGB" for a
one-channel model)."""

from __future__ import annotations

from googlenet.explain.html import _header
from googlenet.weights.loaded import resolve_model


def test_the_header_names_a_grey_models_one_channel() -> None:
    grey = _header(resolve_model("googlenet_mnist"))
    assert "1-channel grey" in grey and "RGB" not in grey
    assert "RGB" in _header(resolve_model("googlenet_cifar"))
