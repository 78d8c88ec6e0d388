"""ImageNet-1k class names in the standard index order.

torchvision, Keras and the BVLC Caffe models all index the 1000 ILSVRC-2012 classes by
their WordNet ids (wnids) sorted as strings, so index 0 is ``n01440764`` ("tench") for all
three. The files shipped in ``googlenet/data/`` were built from timm 1.0.31 (Apache-2.0):
``imagenet_synsets.txt`` is copied from ``timm/data/_info/imagenet_synsets.txt`` and each
line of ``imagenet_classes.txt`` is the first WordNet lemma of that synset, taken from
``timm/data/_info/imagenet_synset_to_lemma.txt``. The result equals torchvision's
category list, including its two duplicated names ("crane", bird and machine; "maillot").
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from googlenet.errors import DataError

NUM_IMAGENET_CLASSES = 1000


def _read_lines(filename: str) -> tuple[str, ...]:
    # importlib.resources finds the file inside a wheel or an editable checkout alike;
    # googlenet/data needs no __init__.py for this (it is traversed from the package root).
    resource = resources.files("googlenet") / "data" / filename
    try:
        text = resource.read_text(encoding="utf-8")
    except (FileNotFoundError, OSError) as exc:
        raise DataError(f"googlenet/data/{filename}: cannot read packaged file ({exc})") from None
    lines = tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(lines) != NUM_IMAGENET_CLASSES:
        raise DataError(
            f"googlenet/data/{filename}: expected {NUM_IMAGENET_CLASSES} lines, got {len(lines)}"
        )
    return lines


@lru_cache(maxsize=1)
def _class_names() -> tuple[str, ...]:
    return _read_lines("imagenet_classes.txt")


@lru_cache(maxsize=1)
def _synsets() -> tuple[str, ...]:
    return _read_lines("imagenet_synsets.txt")


def imagenet_class_names() -> list[str]:
    """Return the 1000 human-readable ImageNet-1k class names, index 0 = "tench"."""
    return list(_class_names())


def imagenet_synsets() -> list[str]:
    """Return the 1000 ImageNet-1k WordNet ids in index order, index 0 = "n01440764"."""
    return list(_synsets())
