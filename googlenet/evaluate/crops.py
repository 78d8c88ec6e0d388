"""Multi-crop testing (paper, section 7), with crop sizes relative to the model's input.

For a model of input size S (224 in the paper) whose images are resized to a shorter
side R before the center crop (R = 256 for ImageNet weights at 224; R = S for models
trained here, which see their images at the input size):

- ``1``: resize the shorter side to R, take the central S x S crop.
- ``2``: that crop and its mirror image: the cheapest test-time averaging, and the one
  that adds no view a model trained with flips but without zoom has not seen (10 crops
  resize a model trained at R = S by 8/7).
- ``10``: resize the shorter side to R (S / 0.875 when R = S, i.e. 256 for 224), four
  corners + center, and their mirror images.
- ``144``: the paper's scheme: the shorter side resized to 4 scales (256, 288, 320, 352
  for S=224, i.e. S * {8/7, 9/7, 10/7, 11/7}); 3 squares per scale (left/center/right, or
  top/middle/bottom for portrait images); per square the 4 corner and the center S x S
  crops plus the whole square resized to S; each also mirrored: 4 x 3 x 6 x 2 = 144.

- ``tta`` (a :class:`~googlenet.evaluate.tta.TTA`, in place of a crop count): the 1-crop
  view and its mirror, each also shifted by a pixel or two (flip + translate test-time
  augmentation, see tta.py). It already holds the mirror, so it goes with 1 crop only.

Each function maps a uint8 batch (B, C, H, W) to views (K, B, C, S, S); the caller
averages the softmax over K. :func:`crop_views` also takes a list of images of different
sizes (a folder read at its native aspect ratios), which the 144-crop squares need.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..data import center_crop, five_crop, resize, ten_crop
from ..errors import ConfigError, UsageError
from ..preprocessing import eval_resize_size
from .tta import TTA, tta_views

CROP_SCHEMES = (1, 2, 10, 144)
PAPER_SCALES = (256, 288, 320, 352)  # shorter sides for S = 224


def scales_for(size: int) -> list[int]:
    """The 144-crop shorter sides for input size ``size`` (256..352 for 224)."""
    return [round(size * s / 224) for s in PAPER_SCALES]


def ten_crop_resize(size: int, resize_size: int | None = None) -> int:
    """The shorter side for 10-crop testing: R, or S / 0.875 when R is S or unknown."""
    if resize_size and resize_size > size:
        return resize_size
    return eval_resize_size(size)


def load_size(size: int, crops: int, resize_size: int | None = None) -> int:
    """The largest shorter side a crop scheme resizes to: images can be read at this
    size (keeping their aspect ratio) without losing anything the crops use."""
    if crops == 144:
        return max(scales_for(size))
    if crops == 10:
        return ten_crop_resize(size, resize_size)
    return resize_size or size


def one_crop(x: torch.Tensor, size: int, resize_size: int | None = None) -> torch.Tensor:
    """(1, B, C, S, S): shorter side to R (default S), center crop."""
    return center_crop(resize(x, resize_size or size), size).unsqueeze(0)


def mirror_crops(x: torch.Tensor, size: int, resize_size: int | None = None) -> torch.Tensor:
    """(2, B, C, S, S): the 1-crop view and its mirror image."""
    view = one_crop(x, size, resize_size)
    return torch.cat([view, view.flip(-1)])


def ten_crops(x: torch.Tensor, size: int, resize_size: int | None = None) -> torch.Tensor:
    """(10, B, C, S, S): shorter side to :func:`ten_crop_resize`, five crops and their
    mirrors."""
    return ten_crop(resize(x, ten_crop_resize(size, resize_size)), size)


def three_squares(x: torch.Tensor) -> list[torch.Tensor]:
    """Left/center/right squares of a landscape batch (top/middle/bottom if portrait)."""
    h, w = x.shape[-2:]
    side = min(h, w)
    if w >= h:
        starts = (0, (w - side) // 2, w - side)
        return [x[..., :, s:s + side] for s in starts]
    starts = (0, (h - side) // 2, h - side)
    return [x[..., s:s + side, :] for s in starts]


def paper_crops(x: torch.Tensor, size: int) -> torch.Tensor:
    """(144, B, C, S, S): the paper's 4 scales x 3 squares x 6 crops x 2 mirrors."""
    views = []
    for scale in scales_for(size):
        for square in three_squares(resize(x, scale)):
            six = torch.cat([five_crop(square, size), resize(square, (size, size))[None]])
            views.append(six)
            views.append(six.flip(-1))
    return torch.cat(views)


def check_views(crops: int, tta: TTA | None = None) -> None:
    """Raise a one-line error unless ``crops`` (and ``tta``) name a view scheme: 1, 2, 10
    or 144 crops, or TTA on the 1-crop view (TTA adds its own mirror and shifts; with 2,
    10 or 144 crops it would flip and shift zoomed crops no model was tested on)."""
    if crops not in CROP_SCHEMES:
        raise UsageError(f"crops must be one of {CROP_SCHEMES}, got {crops}")
    if tta is not None and crops != 1:
        raise ConfigError(f"--tta flips and shifts the 1-crop view (its own mirror included); "
                          f"it does not combine with --crops {crops}: give one of the two")


def views_label(crops: int, tta: TTA | None = None) -> str:
    """How the images are viewed, for logs: "2 crop(s)" or TTA's description."""
    return tta.describe() if tta is not None else f"{crops} crop(s)"


def view_count(crops: int, tta: TTA | None = None) -> int:
    """Views per image (K) of a scheme."""
    return tta.views if tta is not None else crops


def crop_views(x: torch.Tensor | Sequence[torch.Tensor], size: int, crops: int,
               resize_size: int | None = None, tta: TTA | None = None) -> torch.Tensor:
    """Dispatch on the number of crops (1, 2, 10 or 144), or on ``tta`` (with 1 crop).
    ``x`` is a uint8 batch or a list of uint8 (C, H, W) images of any sizes; either way the
    result is (K, B, C, S, S)."""
    check_views(crops, tta)
    if not isinstance(x, torch.Tensor):
        return torch.cat([crop_views(img[None], size, crops, resize_size, tta) for img in x],
                         1)
    if tta is not None:
        return tta_views(x, size, resize_size, tta)
    if crops == 1:
        return one_crop(x, size, resize_size)
    if crops == 2:
        return mirror_crops(x, size, resize_size)
    if crops == 10:
        return ten_crops(x, size, resize_size)
    return paper_crops(x, size)
