"""The registered networks whose registry-wide checks take over ~20 s each on 2 cores at
full size: those tests run them smaller by default (at the minimum input size, or at a
quarter of their widths) and in full in the slow suite (``make test-all``)."""

from __future__ import annotations

import pytest

LARGE = ("inception_resnet_v1", "inception_resnet_v2", "inception_v4")


def cases(names: list[str], small: object, full: object) -> list[object]:
    """``pytest.param(name, variant)`` per model: ``full`` for most; for LARGE models
    ``small`` (id ``<name>-small``), and ``full`` marked slow."""
    out: list[object] = []
    for name in names:
        if name in LARGE:
            out.append(pytest.param(name, small, id=f"{name}-small"))
        marks = [pytest.mark.slow] if name in LARGE else []
        out.append(pytest.param(name, full, id=name, marks=marks))
    return out
