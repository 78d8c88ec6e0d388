"""The common dataset interface: uint8 CHW images and integer labels held in memory."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

from googlenet.errors import DataError


def dataset_len(ds: Dataset[Any]) -> int:
    """``len(ds)``: torch's ``Dataset`` declares no ``__len__``, every dataset here has one."""
    return len(ds)  # type: ignore[arg-type]  # see the docstring


class TensorImageDataset(Dataset[Any]):
    """An in-memory image classification dataset.

    Items are ``(image, label)`` with ``image`` a uint8 tensor of shape (C, H, W) and
    ``label`` a Python int. The whole set is also exposed as ``.images`` (N, C, H, W) uint8
    and ``.targets`` (N,) int64 so :class:`~googlenet.data.loaders.TensorBatchLoader` can
    slice batches without a Python call per item.
    """

    def __init__(
        self, images: torch.Tensor, targets: torch.Tensor, classes: list[str], source: str = ""
    ) -> None:
        where = source or type(self).__name__
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise DataError(f"{where}: images must be uint8 (N, C, H, W), got "
                            f"{images.dtype} {tuple(images.shape)}")
        if targets.ndim != 1 or targets.shape[0] != images.shape[0]:
            raise DataError(f"{where}: {images.shape[0]} images but {targets.shape[0]} labels")
        targets = targets.to(torch.int64)
        if targets.numel() and (int(targets.min()) < 0 or int(targets.max()) >= len(classes)):
            raise DataError(f"{where}: label {int(targets.max())} out of range for "
                            f"{len(classes)} classes")
        self.images = images
        self.targets = targets
        self.classes = list(classes)
        self.source = where

    @property
    def num_classes(self) -> int:
        """Number of classes (``len(self.classes)``)."""
        return len(self.classes)

    @property
    def channels(self) -> int:
        """Channels per image (1 for grayscale, 3 for RGB)."""
        return int(self.images.shape[1])

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images[index], int(self.targets[index])

    def __repr__(self) -> str:
        n, c, h, w = self.images.shape
        return (f"{type(self).__name__}(n={n}, shape=({c}, {h}, {w}), "
                f"classes={self.num_classes}, source={self.source!r})")
