"""Flip + translate test-time augmentation (TTA), the view scheme of fast-training recipes.

David Page's DAWNBench CIFAR-10 ResNet ("How to train your ResNet") averages each test
image with its mirror; Keller Jordan's airbench (``tta_level=2`` in ``airbench94.py``) adds
the image moved by one pixel up-left and down-right, each mirrored too: 6 views.
:class:`TTA` generalises the shift to ``1..shift`` pixels along that diagonal, so
``TTA(shift=2)`` takes 10 views; the mirror of a view moved by (dy, dx) is the mirror
image moved by (dy, -dx), so both diagonals are covered.

Three choices, each differing from airbench for a stated reason:

- **softmax, not logits, is averaged**, uniformly over the views. airbench averages logits,
  with weight 1/2 on the unshifted pair. Here every view scheme (1/2/10/144 crops, TTA)
  and every ensemble goes through one rule, :func:`googlenet.evaluate.crop_probs`: the
  mean of the softmax (the paper's "averaging the softmax probabilities over multiple
  crops"), so crops, TTA and ensembles compose and the result is a probability
  distribution that top-5, the confusion matrix and the report read directly.
- **the fill of pixels moved in from outside follows the training's shift**: the trainer's
  ``--shift`` warps with ``fill_mode`` (default "constant": 0, black, the background of
  MNIST-like images), so a TTA view at an integer shift equals the training warp at that
  shift (a test checks it against :class:`googlenet.data.BatchAugment`'s own warp for
  every fill). airbench pads by reflection because its random crops do.
- **the window moves inside the resized image**: images resized to a shorter side R
  larger than the input size S (ImageNet weights: R=256, S=224) are shifted by moving the
  S x S crop window, so real pixels come in; only where the window leaves the image (always
  when R = S, as for models trained here) does the fill apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..data import resize
from ..data.augment import FILL_MODES
from ..errors import ConfigError

TTA_FILLS = tuple(FILL_MODES)  # the fills the training warp implements


@dataclass(frozen=True)
class TTA:
    """Flip + translate TTA: the 1-crop view moved by (0, 0) and by (-k, -k), (+k, +k)
    for k = 1..``shift``, and the mirror image of each.

    ``fill`` is how pixels from outside the image are filled, as the training warp's
    ``fill_mode``: "constant" (0), "nearest" (the edge pixel) or "reflect" (mirrored
    about the edge, the edge pixel repeated: ``grid_sample``'s "reflection").
    """

    shift: int = 1
    fill: str = "constant"

    def __post_init__(self) -> None:
        if isinstance(self.shift, bool) or not isinstance(self.shift, int) or self.shift < 1:
            raise ConfigError(f"tta shift must be a whole number of pixels >= 1, got "
                              f"{self.shift!r}", field="tta")
        if self.fill not in TTA_FILLS:
            raise ConfigError(f"tta fill must be one of {', '.join(TTA_FILLS)} (as the "
                              f"training's fill_mode), got {self.fill!r}", field="fill_mode")

    @property
    def offsets(self) -> list[tuple[int, int]]:
        """The (dy, dx) translations, in pixels (positive: down / right), unshifted first."""
        out = [(0, 0)]
        for k in range(1, self.shift + 1):
            out += [(-k, -k), (k, k)]
        return out

    @property
    def views(self) -> int:
        """Views per image: every offset, and its mirror image."""
        return 2 * len(self.offsets)

    def describe(self) -> str:
        """One line for logs and reports, e.g. "TTA: flip + shift 1 px (6 views, constant fill)"."""
        return f"TTA: flip + shift {self.shift} px ({self.views} views, {self.fill} fill)"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the shift, the fill and the number of views."""
        return {"shift": self.shift, "fill": self.fill, "views": self.views}


def _window(n: int, start: int, length: int, fill: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Source indices of ``length`` positions from ``start`` along an axis of ``n`` pixels,
    mapped into the axis as ``fill`` says, and the mask of positions inside it."""
    idx = torch.arange(start, start + length)
    inside = (idx >= 0) & (idx < n)
    if fill == "reflect":  # period 2n, mirrored about -0.5 and n - 0.5
        idx = idx % (2 * n)
        idx = torch.where(idx >= n, 2 * n - 1 - idx, idx)
    else:  # "nearest" clamps; "constant" reads any pixel, then the mask zeroes it
        idx = idx.clamp(0, n - 1)
    return idx, inside


def shifted_center_crop(x: torch.Tensor, size: int, dy: int, dx: int,
                        fill: str = "constant") -> torch.Tensor:
    """The central ``size`` x ``size`` crop of a (B, C, H, W) batch with its content moved
    by (dy, dx) pixels: ``out[..., i, j] = x[..., top + i - dy, left + j - dx]``, where
    (top, left) is the center crop's corner; positions outside ``x`` follow ``fill``.
    With dy = dx = 0 it equals :func:`googlenet.data.center_crop` exactly."""
    h, w = x.shape[-2:]
    top, left = (h - size) // 2, (w - size) // 2
    rows, row_in = _window(h, top - dy, size, fill)
    cols, col_in = _window(w, left - dx, size, fill)
    out = x.index_select(-2, rows.to(x.device)).index_select(-1, cols.to(x.device))
    if fill == "constant" and not (bool(row_in.all()) and bool(col_in.all())):
        keep = (row_in[:, None] & col_in[None, :]).to(x.device)
        out = out * keep.to(out.dtype)
    return out


def tta_views(x: torch.Tensor, size: int, resize_size: int | None = None,
              tta: TTA | None = None) -> torch.Tensor:
    """(2 * len(offsets), B, C, S, S): the 1-crop view (shorter side to R, default S)
    moved by each of ``tta``'s offsets, then the mirror image of each, in that order:
    view 0 is the 1-crop view and view ``K / 2`` its mirror."""
    tta = tta or TTA()
    full = resize(x, resize_size or size)
    moved = torch.stack([shifted_center_crop(full, size, dy, dx, tta.fill)
                         for dy, dx in tta.offsets])
    return torch.cat([moved, moved.flip(-1)])
