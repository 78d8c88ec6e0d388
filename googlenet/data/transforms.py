"""Deterministic batch transforms on (B, C, H, W) tensors: resize, crops, flips, normalise.

Everything works on whole batches on any device. uint8 in gives uint8 out (the
pipeline stays uint8 until :func:`to_float`), float in gives float out.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from googlenet.errors import DataError
from googlenet.preprocessing import eval_resize_size

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
def _check_batch(x: torch.Tensor) -> None:
    if x.ndim != 4:
        raise DataError(f"expected a (B, C, H, W) batch, got shape {tuple(x.shape)}")


def _like(out: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Cast a float result back to ``ref``'s dtype (rounding and clamping for uint8)."""
    if ref.dtype == torch.uint8:
        return out.round_().clamp_(0, 255).to(torch.uint8)
    return out.to(ref.dtype)


def to_float(
    x: torch.Tensor, mean: Sequence[float] = (0.5,), std: Sequence[float] = (0.5,)
) -> torch.Tensor:
    """uint8 (0..255) batch -> float32 ``(x / 255 - mean) / std``; a 1-element mean/std
    applies to every channel."""
    _check_batch(x)
    m = torch.as_tensor(mean, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    s = torch.as_tensor(std, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    if m.shape[1] not in (1, x.shape[1]) or s.shape[1] not in (1, x.shape[1]):
        raise DataError(f"mean/std have {m.shape[1]}/{s.shape[1]} values for "
                        f"{x.shape[1]} channels")
    scale = 255.0 if x.dtype == torch.uint8 else 1.0
    return (x.float() / scale - m) / s


class Normalize:
    """Callable form of :func:`to_float` with fixed mean and std."""

    def __init__(self, mean: Sequence[float] = (0.5,), std: Sequence[float] = (0.5,)) -> None:
        self.mean, self.std = tuple(mean), tuple(std)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return to_float(x, self.mean, self.std)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


def resize(x: torch.Tensor, size: int | tuple[int, int], antialias: bool = True) -> torch.Tensor:
    """Bilinear resize; an int resizes the shorter side to ``size`` keeping aspect."""
    _check_batch(x)
    h, w = x.shape[-2:]
    if isinstance(size, int):
        if min(h, w) == size:
            return x
        out_hw = (size, max(1, round(w * size / h))) if h <= w else \
            (max(1, round(h * size / w)), size)
    else:
        out_hw = (int(size[0]), int(size[1]))
    # Antialiasing matters when shrinking large photos; it is a no-op when enlarging.
    out = F.interpolate(x.float(), size=out_hw, mode="bilinear", align_corners=False,
                        antialias=antialias)
    return _like(out, x)


def center_crop(x: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """The central ``size`` crop (a view, no copy)."""
    _check_batch(x)
    th, tw = (size, size) if isinstance(size, int) else size
    h, w = x.shape[-2:]
    if th > h or tw > w:
        raise DataError(f"crop {th}x{tw} is larger than the {h}x{w} images")
    top, left = (h - th) // 2, (w - tw) // 2
    return x[..., top:top + th, left:left + tw]


def to_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """Match a model's input channels: repeat grayscale to 3, or average RGB to 1."""
    _check_batch(x)
    c = x.shape[1]
    if c == channels:
        return x
    if c == 1 and channels == 3:
        return x.expand(-1, 3, -1, -1)
    if c == 3 and channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114], device=x.device).view(1, 3, 1, 1)
        return _like((x.float() * weights).sum(1, keepdim=True), x)
    raise DataError(f"cannot convert {c}-channel images to {channels} channels")


def hflip(x: torch.Tensor) -> torch.Tensor:
    """Mirror left-right."""
    return x.flip(-1)


def vflip(x: torch.Tensor) -> torch.Tensor:
    """Mirror top-bottom."""
    return x.flip(-2)


def five_crop(x: torch.Tensor, size: int) -> torch.Tensor:
    """Four corner crops and the center crop: shape (5, B, C, size, size)."""
    _check_batch(x)
    h, w = x.shape[-2:]
    if size > h or size > w:
        raise DataError(f"crop {size} is larger than the {h}x{w} images")
    corners = [x[..., :size, :size], x[..., :size, w - size:],
               x[..., h - size:, :size], x[..., h - size:, w - size:]]
    return torch.stack([*corners, center_crop(x, size)])


def ten_crop(x: torch.Tensor, size: int) -> torch.Tensor:
    """:func:`five_crop` of the batch and of its mirror image: shape (10, B, C, size, size)."""
    crops = five_crop(x, size)
    return torch.cat([crops, crops.flip(-1)])


def eval_transform(
    x: torch.Tensor, size: int, resize_size: int | None = None,
    mean: Sequence[float] = (0.5,), std: Sequence[float] = (0.5,),
) -> torch.Tensor:
    """Resize the shorter side (default ``size / 0.875``), center-crop ``size``, normalise."""
    resize_size = resize_size or eval_resize_size(size)
    return to_float(center_crop(resize(x, resize_size), size), mean, std)
