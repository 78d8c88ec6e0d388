"""Datasets by name: ``build_dataset("fashion-mnist", "train")`` and friends."""

from __future__ import annotations

import logging
import os
from typing import Any

from torch.utils.data import Dataset

from googlenet.data.base import TensorImageDataset
from googlenet.data.cifar import CIFARDataset
from googlenet.data.folder import ImageFolderDataset
from googlenet.data.idx import IDXDataset, find_idx_dataset
from googlenet.data.synthetic import SyntheticDataset
from googlenet.errors import DataError

log = logging.getLogger("googlenet.data")

DATASETS = ("fashion-mnist", "mnist", "cifar10", "cifar100", "folder", "synthetic")
# Synthetic sizes per split when the caller gives none: big enough to learn, quick to make.
_SYNTHETIC_SIZES = {"train": 10_000, "val": 2_000, "test": 2_000}


def list_datasets() -> list[str]:
    """Names accepted by :func:`build_dataset`."""
    return list(DATASETS)


def build_dataset(
    name: str,
    split: str = "train",
    root: str | os.PathLike[str] | None = None,
    **kwargs: Any,
) -> Dataset[Any]:
    """Build a dataset by name.

    Args:
        name: one of :func:`list_datasets`.
        split: "train" or "test" ("val" too for synthetic). For "folder", ``root`` is the
            folder itself, or a folder containing ``<split>/`` sub-folders.
        root: where the files are (the CLI's ``--data``); None searches the usual places.
        **kwargs: passed on: ``download`` for IDX sets, ``label_mode`` for cifar100,
            ``size``/``channels``/``verify`` for folders, ``num_samples``/
            ``num_classes``/``image_size``/``channels``/``seed`` for synthetic.
    """
    if name in ("mnist", "fashion-mnist"):
        return IDXDataset(name, split, root, **kwargs)
    if name in ("cifar10", "cifar100"):
        return CIFARDataset(name, split, root, **kwargs)
    if name == "folder":
        if root is None:
            raise DataError("the folder dataset needs a path (--data PATH)")
        path = os.path.join(root, split)
        return ImageFolderDataset(path if os.path.isdir(path) else root, **kwargs)
    if name == "synthetic":
        kwargs.setdefault("num_samples", _SYNTHETIC_SIZES.get(split, 2_000))
        return SyntheticDataset(split=split, **kwargs)
    raise DataError(f"unknown dataset {name!r}: expected one of {', '.join(DATASETS)}")


def default_dataset_name(root: str | os.PathLike[str] | None = None) -> str:
    """"fashion-mnist" when its files can be found, else "synthetic"."""
    try:
        find_idx_dataset("fashion-mnist", root)
    except DataError:
        return "synthetic"
    return "fashion-mnist"


def default_dataset(
    split: str = "train", root: str | os.PathLike[str] | None = None, **synthetic_kwargs: Any
) -> TensorImageDataset:
    """Fashion-MNIST if present, else the synthetic set (for demos that must always run).

    ``synthetic_kwargs`` only apply to the synthetic fallback; the chosen dataset is
    logged so the user knows which one they got.
    """
    name = default_dataset_name(root)
    if name == "synthetic":
        log.info("Fashion-MNIST not found; using the built-in synthetic dataset")
        ds = build_dataset("synthetic", split, **synthetic_kwargs)
    else:
        ds = build_dataset(name, split, root)
    assert isinstance(ds, TensorImageDataset)  # IDX and synthetic sets are in memory
    return ds


def has_split(name: str, split: str, root: str | os.PathLike[str] | None = None) -> bool:
    """Whether ``split`` exists as data of its own: always for the named datasets, and
    for an image folder only when ``root/<split>/`` does (``build_dataset`` would fall
    back to ``root`` itself, i.e. to the training images)."""
    if name == "folder":
        return root is not None and os.path.isdir(os.path.join(root, split))
    return True


def dataset_kwargs(name: str, input_size: int, in_chans: int) -> dict[str, Any]:
    """What :func:`build_dataset` needs to fit a model: the synthetic set is drawn at the
    model's size and channel count, folders are resized to it."""
    if name == "synthetic":
        return {"image_size": input_size, "channels": in_chans}
    if name == "folder":
        return {"size": input_size, "channels": in_chans}
    return {}
