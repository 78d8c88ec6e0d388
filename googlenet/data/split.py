"""Hold out a validation set: a stratified, seeded split of one dataset.

A single folder of photos (``cats/``, ``dogs/``) has no validation split; evaluating on
the training images would report a memorised score as if it were a held-out one. The
split keeps each class's share, is the same for the same seed, and keeps the dataset's
type (in-memory sets stay fast to batch).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch.utils.data import Dataset

from googlenet.data.base import TensorImageDataset, dataset_len
from googlenet.data.folder import ImageFolderDataset
from googlenet.errors import DataError


def _targets(ds: Dataset[Any]) -> torch.Tensor:
    targets = getattr(ds, "targets", None)
    if isinstance(targets, torch.Tensor):
        return targets
    return torch.tensor([int(ds[i][1]) for i in range(dataset_len(ds))])


def stratified_indices(targets: torch.Tensor, fraction: float, seed: int
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(train, held_out)`` index tensors: ``fraction`` of every class (at least one
    image of each class with two or more), chosen by a generator seeded with ``seed``."""
    if not 0 < fraction < 1:
        raise DataError(f"validation fraction must be in (0, 1), got {fraction}")
    gen = torch.Generator().manual_seed(seed)
    keep, held = [], []
    for label in torch.unique(targets).tolist():
        idx = torch.nonzero(targets == label).flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)]
        n = min(len(idx) - 1, max(1, round(fraction * len(idx)))) if len(idx) > 1 else 0
        held.append(idx[:n])
        keep.append(idx[n:])
    return torch.cat(keep).sort().values, torch.cat(held).sort().values


def subset(ds: Dataset[Any], indices: torch.Tensor) -> Dataset[Any]:
    """The items ``indices`` of ``ds`` as a dataset of the same kind (same classes)."""
    if isinstance(ds, TensorImageDataset):
        return TensorImageDataset(ds.images[indices], ds.targets[indices], ds.classes,
                                  source=ds.source)
    if isinstance(ds, ImageFolderDataset):
        out = copy.copy(ds)
        out.samples = [ds.samples[i] for i in indices.tolist()]
        out.targets = ds.targets[indices]
        out.skipped = []
        return out
    raise DataError(f"cannot split a {type(ds).__name__}")


def split_dataset(ds: Dataset[Any], fraction: float, seed: int
                  ) -> tuple[Dataset[Any], Dataset[Any]]:
    """``(train, validation)``: :func:`stratified_indices` applied to ``ds``."""
    keep, held = stratified_indices(_targets(ds), fraction, seed)
    if len(held) == 0:
        raise DataError(f"cannot hold out {fraction:.0%} of {len(keep)} images: every class "
                        "needs two or more")
    return subset(ds, keep), subset(ds, held)
