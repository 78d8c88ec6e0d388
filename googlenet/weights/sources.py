"""The pretrained releases ``googlenet convert`` reads, with the preprocessing each expects.

Each release is written down once, in its family module's registry entry
(``googlenet.specs.<family>.ENTRIES``, beside its citations); this table is the view over
all of them that ``convert`` writes into every file it makes and ``googlenet info MODEL``
lists, so a registry model's defaults (what a fresh model is trained with) never silently
stand in for a release's.
"""

from __future__ import annotations

from googlenet.errors import WeightsError
from googlenet.models import MODELS
from googlenet.specs import Release

__all__ = ["RELEASES", "SOURCES", "Release", "release", "releases_for"]

SOURCES = ("torchvision", "keras", "caffe", "timm")
"""The importers (``googlenet convert --from``), the ``source`` a release names."""

RELEASES: tuple[Release, ...] = tuple(r for info in MODELS.values() for r in info.releases)


def releases_for(source: str | None = None, model: str | None = None) -> list[Release]:
    """The releases of ``source`` and/or for ``model`` (both optional filters)."""
    return [r for r in RELEASES
            if (source is None or r.source == source) and (model is None or r.model == model)]


def release(source: str, model: str) -> Release:
    """The release of ``source`` that fills ``model``; a pair that does not exist raises
    a one-line error listing the models ``source`` fills."""
    if source not in SOURCES:
        raise WeightsError(f"unknown source {source!r} (one of {', '.join(SOURCES)})")
    found = releases_for(source, model)
    if not found:
        models = ", ".join(r.model for r in releases_for(source))
        raise WeightsError(f"{source} weights load into {models}, not {model!r}")
    return found[0]
