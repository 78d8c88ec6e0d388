"""Image folders with one sub-folder per class (the cats-vs-dogs layout).

Files are checked when the dataset is built (``verify="header"``: Pillow's cheap
``verify()``, which catches non-images and most broken headers; ``"full"`` decodes every
file, which also catches truncated JPEGs but costs a full pass). A file that still fails
at load time is recorded in ``.skipped`` too and replaced by the next good item, so one
bad file never stops an epoch. Every skip is logged with its path and the reason.
(Load-time skips found inside DataLoader worker processes are logged there but do not
reach the parent's ``.skipped``; use ``verify="full"`` when the exact count matters.)
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps, features
from torch.utils.data import Dataset

from googlenet.data.base import TensorImageDataset
from googlenet.errors import DataError

log = logging.getLogger("googlenet.data")

_WEBP = (".webp",) if features.check("webp") else ()
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", *_WEBP)
VERIFY_MODES = ("none", "header", "full")
# UnidentifiedImageError is an OSError; SyntaxError is what some Pillow plugins raise on junk.
BAD_IMAGE_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)
"""What opening or decoding an unreadable image file raises (corrupt, truncated, not an
image, a decompression bomb): the errors to skip a file on."""


def image_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Every image file under ``folder``, recursively, sorted; hidden files are left out
    (``.DS_Store``, editors' ``._name`` copies), as are other extensions."""
    return sorted(p for p in Path(folder).rglob("*")
                  if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
                  and not p.name.startswith("."))


# 16-bit (and 32-bit integer) grey images: Pillow's convert("L"/"RGB") clips them at 255
# instead of scaling, so a 16-bit PNG comes out almost white. Scaled by 255/65535 here.
_WIDE_GREY = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def _regular_file(path: str | os.PathLike[str]) -> None:
    """Refuse what is not a regular file before opening it: opening a FIFO named
    ``x.png`` would block until someone writes to it, a device would be read forever."""
    mode = os.stat(path).st_mode  # follows symlinks: a link to an image is fine
    if not stat.S_ISREG(mode):
        raise ValueError("not a regular file (a folder, FIFO, socket or device)")


def _scale_wide_grey(im: Image.Image) -> Image.Image:
    values = np.asarray(im, dtype=np.float64)
    return Image.fromarray(np.clip(np.rint(values * (255 / 65535)), 0, 255).astype(np.uint8),
                           mode="L")


def load_image(path: str | os.PathLike[str], channels: int = 3) -> Image.Image:
    """Open an image as RGB (``channels=3``) or L (``channels=1``), the way it is shown.

    Only regular files are opened (a FIFO would block). The EXIF orientation a camera
    wrote is applied, so a phone photo is upright. 16-bit grey images are scaled to 8
    bits, not clipped. Transparent images (RGBA, LA, palette with a transparent colour)
    are composited on white first: a plain ``convert("RGB")`` would expose whatever
    colour the transparent pixels happen to store, often black.
    """
    _regular_file(path)
    with Image.open(path) as im:
        im.load()
        ImageOps.exif_transpose(im, in_place=True)  # in place: no copy of every image
        if im.mode in _WIDE_GREY:
            im = _scale_wide_grey(im)
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            rgba = im.convert("RGBA")
            im = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            im.alpha_composite(rgba)
        out: Image.Image = im.convert("L" if channels == 1 else "RGB")
        return out


def resize_shorter(im: Image.Image, size: int) -> Image.Image:
    """Resize the shorter side to ``size`` (bilinear), keeping the aspect ratio."""
    w, h = im.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    return im if (nw, nh) == (w, h) else im.resize((nw, nh), Image.Resampling.BILINEAR)


def resize_center_crop(im: Image.Image, size: int) -> Image.Image:
    """Resize the shorter side to ``size`` (bilinear) and crop the central square."""
    im = resize_shorter(im, size)
    nw, nh = im.size
    left, top = (nw - size) // 2, (nh - size) // 2
    return im.crop((left, top, left + size, top + size))


def pil_to_tensor(im: Image.Image) -> torch.Tensor:
    """A PIL image (L or RGB) as a uint8 CHW tensor."""
    arr = np.asarray(im, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return torch.from_numpy(arr.transpose(2, 0, 1).copy())


class ImageFolderDataset(Dataset[Any]):
    """Images under ``root/<class_name>/*.{jpg,jpeg,png,bmp,webp}``.

    Args:
        root: the folder; class names are its sorted sub-folder names.
        size: if given, every image is resized (shorter side) and center-cropped to
            ``size`` x ``size`` so batches can be stacked; None keeps native sizes.
        shorter_side: with ``size`` None, resize the shorter side to this, keeping the
            aspect ratio (evaluation crops from it, see googlenet.evaluate.crops).
        channels: 3 (RGB) or 1 (grayscale).
        verify: "none", "header" (default) or "full"; see the module docstring.

    Attributes:
        classes, samples (list of (path, label)), targets (int64 tensor),
        skipped (list of (path, reason)) for files that could not be read.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        size: int | None = None,
        channels: int = 3,
        verify: str = "header",
        shorter_side: int | None = None,
    ) -> None:
        self.root = Path(root).expanduser()
        if channels not in (1, 3):
            raise DataError(f"{self.root}: channels must be 1 or 3, got {channels}")
        if verify not in VERIFY_MODES:
            raise DataError(f"unknown verify mode {verify!r}: expected one of {VERIFY_MODES}")
        if not self.root.is_dir():
            raise DataError(f"{self.root}: image folder not found")
        self.size, self.channels, self.shorter_side = size, channels, shorter_side
        self.classes = sorted(p.name for p in self.root.iterdir()
                              if p.is_dir() and not p.name.startswith("."))
        if not self.classes:
            raise DataError(f"{self.root}: no class sub-folders (expected root/<class>/*.jpg)")
        self.skipped: list[tuple[Path, str]] = []
        self._bad: set[int] = set()  # samples that failed to decode at load time
        self.samples: list[tuple[Path, int]] = []
        for label, name in enumerate(self.classes):
            good = [p for p in image_files(self.root / name)
                    if verify == "none" or self._check(p, verify)]
            if not good:
                raise DataError(f"{self.root / name}: class folder has no readable images "
                                f"(extensions {', '.join(IMAGE_EXTENSIONS)})")
            self.samples += [(p, label) for p in good]
        self.targets = torch.tensor([label for _, label in self.samples], dtype=torch.int64)
        if self.skipped:
            log.warning("%s: skipped %d unreadable file(s) of %d", self.root,
                        len(self.skipped), len(self.samples) + len(self.skipped))

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.classes)

    def _skip(self, path: Path, reason: str) -> None:
        self.skipped.append((path, reason))
        log.warning("skipping %s: %s", path, reason)

    def _load_good(self, index: int) -> torch.Tensor | None:
        """Item ``index``, or None for a file that failed to decode, which is recorded
        and reported the first time only: every later epoch passes over it quietly."""
        if index in self._bad:
            return None
        try:
            return self.load(index)
        except BAD_IMAGE_ERRORS as exc:
            self._bad.add(index)
            self._skip(self.samples[index][0], f"{type(exc).__name__}: {exc}")
            return None

    def _check(self, path: Path, mode: str) -> bool:
        try:
            if mode == "full":
                load_image(path, self.channels)
            else:
                with Image.open(path) as im:
                    im.verify()
        except BAD_IMAGE_ERRORS as exc:
            self._skip(path, f"{type(exc).__name__}: {exc}")
            return False
        return True

    def __len__(self) -> int:
        return len(self.samples)

    def load(self, index: int) -> torch.Tensor:
        """Decode item ``index`` as a uint8 CHW tensor (raises on a bad file)."""
        im = load_image(self.samples[index][0], self.channels)
        if self.size is not None:
            im = resize_center_crop(im, self.size)
        elif self.shorter_side is not None:
            im = resize_shorter(im, self.shorter_side)
        return pil_to_tensor(im)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        # A file that passed the up-front check can still fail to decode (a truncated
        # JPEG): record it and serve the next item instead of killing the epoch.
        for step in range(len(self.samples)):
            i = (index + step) % len(self.samples)
            image = self._load_good(i)
            if image is not None:
                return image, self.samples[i][1]
        raise DataError(f"{self.root}: no image could be decoded")

    def to_memory(self) -> TensorImageDataset:
        """Decode everything into a :class:`TensorImageDataset` (needs ``size``)."""
        if self.size is None:
            raise DataError(f"{self.root}: to_memory() needs a fixed size")
        items = [self[i] for i in range(len(self))]
        images = torch.stack([x for x, _ in items])
        targets = torch.tensor([y for _, y in items], dtype=torch.int64)
        return TensorImageDataset(images, targets, self.classes, source=str(self.root))
