"""The weights catalogue: every pretrained release by a short stable name.

A name is ``<registry model>.<tag>`` (``googlenet_bn.tv_in1k``): the part before the dot is
the model the release fills. Each entry says where the publisher serves the original file,
its checksum in the publisher's own algorithm, its size, licence and the ImageNet accuracy
the publisher reports; its ``release`` (:mod:`googlenet.weights.sources`) says how it is
imported and preprocessed. The entries are written down in their family modules'
registry entries (``googlenet.specs.<family>.ENTRIES``, ``weights=``), and this is the
view over all of them. Every fact is copied from the publisher's own source, cited beside
it; a fact the publisher does not give is None, with a comment saying so (tests/weights/
test_catalogue.py lists those entries by name).

``googlenet eval RELEASE --dataset folder --data imagenet/val`` reproduces an entry's
accuracy on ImageNet's validation set.
"""

from __future__ import annotations

import difflib

from googlenet.errors import UnknownReleaseError
from googlenet.models import MODELS
from googlenet.specs import Accuracy, PublishedWeights

__all__ = ["CATALOGUE", "RELEASE_NAMES", "Accuracy", "PublishedWeights", "default_release",
           "find_release", "get_release", "release_hint"]

CATALOGUE: tuple[PublishedWeights, ...] = tuple(
    w for info in MODELS.values() for w in info.weights)

RELEASE_NAMES: tuple[str, ...] = tuple(entry.name for entry in CATALOGUE)


def find_release(name: str) -> PublishedWeights | None:
    """The entry called ``name``, or None."""
    return next((entry for entry in CATALOGUE if entry.name == name), None)


def get_release(name: str) -> PublishedWeights:
    """The entry called ``name``; an unknown name raises a one-line
    :class:`UnknownReleaseError` with the closest names (see :func:`release_hint`)."""
    entry = find_release(name)
    if entry is None:
        raise UnknownReleaseError(f"unknown weights release {name!r}{release_hint(name)}")
    return entry


def release_hint(name: str) -> str:
    """What ``name`` may have meant: the closest release names or, for a model name, its
    default release; then where to look them up."""
    default = default_release(name)
    if default is not None:
        hint = f"; {name} is a model: its default weights are {default.name}"
    else:
        close = difflib.get_close_matches(name, RELEASE_NAMES, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"{hint} (see `googlenet weights list`)"


def default_release(model: str) -> PublishedWeights | None:
    """The release ``create_model(model, pretrained=True)`` loads, or None."""
    return next((e for e in CATALOGUE if e.model == model and e.default), None)
