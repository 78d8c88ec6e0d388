"""MNIST and Fashion-MNIST from IDX files (gzipped or raw), found on disk or downloaded.

The IDX format is a 4-byte magic number ``0x0000TTNN`` (TT = element type, 0x08 for
uint8; NN = number of dimensions), then NN big-endian uint32 sizes, then the payload.
Image files are ``0x00000803`` (N, rows, cols); label files ``0x00000801`` (N,).
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from googlenet.data.base import TensorImageDataset
from googlenet.data.download import download_idx_dataset
from googlenet.errors import DataError
from googlenet.paths import data_cache_dir

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801

IDX_DATASETS = ("mnist", "fashion-mnist")
CLASSES: dict[str, list[str]] = {
    "mnist": [str(d) for d in range(10)],
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
}
# Where Debian's packages put the files (`apt-get install dataset-fashion-mnist`).
SYSTEM_DIRS: dict[str, list[Path]] = {
    "mnist": [],
    "fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")],
}
# torchvision keeps its copies under <root>/<ClassName>/raw; accept that layout too so a
# user can point --data at an existing torchvision root.
_TORCHVISION_DIRS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
SPLIT_PREFIX = {"train": "train", "test": "t10k"}


def idx_file_names(split: str) -> tuple[str, str]:
    """The (images, labels) base file names of a split, without a ``.gz`` suffix."""
    if split not in SPLIT_PREFIX:
        raise DataError(f"unknown split {split!r}: expected one of {sorted(SPLIT_PREFIX)}")
    prefix = SPLIT_PREFIX[split]
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _resolve(directory: Path, base: str) -> Path | None:
    for candidate in (directory / base, directory / f"{base}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _has_all(directory: Path) -> bool:
    names = [n for split in SPLIT_PREFIX for n in idx_file_names(split)]
    return all(_resolve(directory, n) is not None for n in names)


def _candidates(directory: Path, name: str) -> list[Path]:
    return [directory, directory / name, directory / _TORCHVISION_DIRS[name] / "raw"]


def search_dirs(name: str, root: str | os.PathLike[str] | None = None) -> list[Path]:
    """The directories searched for ``name``, in order: ``root``, ``$GOOGLENET_DATA``,
    the cache dir, then the system dir (for fashion-mnist, Debian's) unless
    ``$GOOGLENET_SYSTEM_DATA`` is ``0``: a machine that has the package then behaves as
    one without it (a newcomer's, for a check)."""
    if name not in IDX_DATASETS:
        raise DataError(f"unknown IDX dataset {name!r}: expected one of {list(IDX_DATASETS)}")
    if root is not None:
        # An explicit path is what the user asked for: never silently use another copy.
        return _candidates(Path(root).expanduser(), name)
    dirs: list[Path] = []
    env = os.environ.get("GOOGLENET_DATA")
    if env:
        dirs += _candidates(Path(env).expanduser(), name)
    dirs.append(data_cache_dir(name))
    if os.environ.get("GOOGLENET_SYSTEM_DATA") != "0":
        dirs += SYSTEM_DIRS[name]
    return dirs


def find_idx_dataset(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Return the directory holding all four IDX files of ``name``.

    Raises :class:`DataError` listing every place searched when none has them.
    """
    dirs = search_dirs(name, root)
    for directory in dirs:
        if _has_all(directory):
            return directory
    places = ", ".join(str(d) for d in dirs)
    hint = " (or `apt-get install dataset-fashion-mnist`)" if name == "fashion-mnist" else ""
    raise DataError(f"{name} not found: searched {places}; pass --data PATH, set "
                    f"$GOOGLENET_DATA, or download it{hint}")


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        # gzip raises EOFError for a cut-off stream and BadGzipFile (an OSError) for junk.
        raise DataError(f"{path}: cannot read ({exc})") from exc


def read_idx(path: str | os.PathLike[str], expected_magic: int | None = None) -> np.ndarray:
    """Read a uint8 IDX file (``.gz`` or raw) into a numpy array of its declared shape."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DataError(f"{path}: truncated IDX header ({len(data)} bytes)")
    (magic,) = struct.unpack(">I", data[:4])
    if expected_magic is not None and magic != expected_magic:
        raise DataError(f"{path}: wrong magic number 0x{magic:08x}, "
                        f"expected 0x{expected_magic:08x}")
    dtype_code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    if magic >> 16 != 0 or dtype_code != 0x08 or ndim == 0:
        raise DataError(f"{path}: not a uint8 IDX file (magic 0x{magic:08x})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated IDX header ({len(data)} bytes)")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected = int(np.prod(dims))
    got = len(data) - header
    if got != expected:
        problem = "truncated" if got < expected else "has trailing bytes"
        raise DataError(f"{path}: {problem}: dims {list(dims)} need {expected} bytes of "
                        f"data, file has {got}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def load_idx_pair(
    images_path: str | os.PathLike[str], labels_path: str | os.PathLike[str], num_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Read and cross-check an images file (N, H, W) and its labels file (N,)."""
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"{labels_path}: {labels.shape[0]} labels but {images_path} has "
                        f"{images.shape[0]} images")
    if labels.size and int(labels.max()) >= num_classes:
        bad = int(np.argmax(labels >= num_classes))
        raise DataError(f"{labels_path}: label {int(labels[bad])} at index {bad} out of "
                        f"range 0..{num_classes - 1}")
    return images, labels


class IDXDataset(TensorImageDataset):
    """MNIST or Fashion-MNIST as uint8 (1, 28, 28) images.

    Args:
        name: ``"mnist"`` or ``"fashion-mnist"``.
        split: ``"train"`` (60,000 items) or ``"test"`` (10,000).
        root: a directory with the IDX files; if None, the standard places are searched
            (see :func:`find_idx_dataset`).
        download: fetch the files into the cache dir when they are not found.
    """

    def __init__(
        self,
        name: str,
        split: str = "train",
        root: str | os.PathLike[str] | None = None,
        download: bool = False,
    ) -> None:
        try:
            directory = find_idx_dataset(name, root)
        except DataError:
            if not download:
                raise
            directory = download_idx_dataset(name, Path(root) if root else None)
        img_name, lbl_name = idx_file_names(split)
        img_path, lbl_path = _resolve(directory, img_name), _resolve(directory, lbl_name)
        assert img_path is not None and lbl_path is not None  # checked by find_idx_dataset
        images, labels = load_idx_pair(img_path, lbl_path, len(CLASSES[name]))
        # frombuffer gives a read-only view; copy once so torch owns writable memory.
        super().__init__(
            torch.from_numpy(images.copy()).unsqueeze(1),
            torch.from_numpy(labels.astype(np.int64)),
            CLASSES[name],
            source=str(img_path),
        )
        self.name = name
        self.split = split
        self.root = directory
