"""CIFAR-10 and CIFAR-100 from the official "python version" pickled batches.

The batches are pickles, and ``pickle.load`` on a file from the internet runs whatever
code the file names. :class:`SafeUnpickler` allows only the few globals a batch needs to
rebuild a numpy array (verified against the real files: a dict of bytes keys, lists of
ints/bytes and one uint8 ndarray), so a tampered file fails with :class:`DataError`.
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from googlenet.data.base import TensorImageDataset
from googlenet.errors import DataError
from googlenet.paths import data_cache_dir

# (module, name) pairs a CIFAR batch may reference. numpy moved numpy.core to numpy._core in
# 2.0, and pickles written by either name exist, so both spellings are listed.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),  # protocol-5 pickles of arrays
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    # Python 3 pickles at protocol 2 spell bytes as _codecs.encode(str, "latin1").
    ("_codecs", "encode"),
}

_LAYOUT: dict[str, dict[str, Any]] = {
    "cifar10": {
        "folder": "cifar-10-batches-py",
        "train": [f"data_batch_{i}" for i in range(1, 6)],
        "test": ["test_batch"],
        "meta": "batches.meta",
    },
    "cifar100": {"folder": "cifar-100-python", "train": ["train"], "test": ["test"],
                 "meta": "meta"},
}


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that refuses every global except numpy array reconstruction."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")


def safe_load_pickle(path: str | os.PathLike[str]) -> Any:
    """Load a CIFAR-style pickle with :class:`SafeUnpickler`; errors become DataError."""
    path = Path(path)
    try:
        data = path.read_bytes()
        # encoding="bytes" keeps the Python 2 str keys (b"data") as bytes, as in the files.
        return SafeUnpickler(io.BytesIO(data), encoding="bytes").load()
    except FileNotFoundError as exc:
        raise DataError(f"{path}: file not found") from exc
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, OSError) as exc:
        raise DataError(f"{path}: not a valid CIFAR pickle ({exc})") from exc


def _field(batch: Any, path: Path, *keys: str) -> Any:
    if not isinstance(batch, dict):
        raise DataError(f"{path}: expected a dict, found {type(batch).__name__}")
    for key in keys:
        for k in (key.encode(), key):
            if k in batch:
                return batch[k]
    raise DataError(f"{path}: missing key {keys[0]!r}")


def read_cifar_batch(
    path: str | os.PathLike[str], label_key: str = "labels"
) -> tuple[np.ndarray, np.ndarray]:
    """Read one batch file into uint8 images (N, 3, 32, 32) and int64 labels (N,)."""
    path = Path(path)
    batch = safe_load_pickle(path)
    data = _field(batch, path, "data")
    labels = np.asarray(_field(batch, path, label_key))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
        raise DataError(f"{path}: 'data' must be a uint8 array")
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(f"{path}: 'data' has shape {data.shape}, expected (N, 3072)")
    if labels.shape != (data.shape[0],):
        raise DataError(f"{path}: {labels.size} labels but {data.shape[0]} images")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def find_cifar(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """The directory with the batches of ``name`` ("cifar10"/"cifar100"): ``root``, or
    ``$GOOGLENET_DATA``, or the cache dir, each as is or with the official folder name."""
    layout = _LAYOUT[name]
    if root is not None:
        bases = [Path(root).expanduser()]
    else:
        env = os.environ.get("GOOGLENET_DATA")
        bases = ([Path(env).expanduser()] if env else []) + [data_cache_dir(name)]
    searched = []
    for base in bases:
        for directory in (base, base / layout["folder"], base / name / layout["folder"]):
            searched.append(directory)
            if (directory / layout["meta"]).is_file():
                return directory
    raise DataError(f"{name} not found: searched {', '.join(map(str, searched))}; "
                    f"extract the official python-version archive there or pass --data PATH")


class CIFARDataset(TensorImageDataset):
    """CIFAR-10 or CIFAR-100 as uint8 (3, 32, 32) images.

    Args:
        name: ``"cifar10"`` or ``"cifar100"``.
        split: ``"train"`` or ``"test"``.
        root: directory with the batches (or their parent); None searches the usual places.
        label_mode: for CIFAR-100, ``"fine"`` (100 classes) or ``"coarse"`` (20).
    """

    def __init__(
        self,
        name: str = "cifar10",
        split: str = "train",
        root: str | os.PathLike[str] | None = None,
        label_mode: str = "fine",
    ) -> None:
        if name not in _LAYOUT:
            raise DataError(f"unknown CIFAR dataset {name!r}: expected cifar10 or cifar100")
        if split not in ("train", "test"):
            raise DataError(f"unknown split {split!r}: expected train or test")
        directory = find_cifar(name, root)
        layout = _LAYOUT[name]
        meta_path = directory / layout["meta"]
        meta = safe_load_pickle(meta_path)
        if name == "cifar10":
            label_key, names_key = "labels", "label_names"
        elif label_mode in ("fine", "coarse"):
            label_key, names_key = f"{label_mode}_labels", f"{label_mode}_label_names"
        else:
            raise DataError(f"unknown label_mode {label_mode!r}: expected fine or coarse")
        classes = [c.decode() if isinstance(c, bytes) else str(c)
                   for c in _field(meta, meta_path, names_key)]
        parts = [read_cifar_batch(directory / f, label_key) for f in layout[split]]
        images = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
        if labels.size and (labels.min() < 0 or labels.max() >= len(classes)):
            raise DataError(f"{directory / layout[split][0]}: label {int(labels.max())} out "
                            f"of range for {len(classes)} classes in {meta_path.name}")
        super().__init__(torch.from_numpy(np.ascontiguousarray(images)),
                         torch.from_numpy(labels), classes, source=str(directory))
        self.name = name
        self.split = split
        self.root = directory
