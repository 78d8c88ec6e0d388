"""Seeded, batched training augmentation: one affine warp per batch, then photometrics.

Geometry (random-resized crop, flips, whole-pixel translation, and the Keras
``ImageDataGenerator`` list: rotation, shifts, shear, zoom) is composed into one 2x3
matrix per image and applied with a single
``affine_grid`` + ``grid_sample`` call for the whole batch, so the cost is one bilinear
resample regardless of how many operations are on. Random numbers come only from the
``torch.Generator`` passed in (drawn on the CPU, then moved), so a run is reproducible
on any device. Cutout (a square of each image set to the mean) runs after the warp.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from googlenet.data.transforms import IMAGENET_MEAN, IMAGENET_STD, to_float
from googlenet.errors import DataError

FILL_MODES = {"nearest": "border", "reflect": "reflection", "constant": "zeros"}
# AlexNet's PCA lighting noise: eigenvalues/vectors of ImageNet RGB covariance (0..1 scale).
_EIGVAL = torch.tensor([0.2175, 0.0188, 0.0045])
_EIGVEC = torch.tensor([[-0.5675, 0.7192, 0.4009],
                        [-0.5808, -0.0045, -0.8140],
                        [-0.5836, -0.6948, 0.4203]])


def _uniform(n: int, lo: float, hi: float, g: torch.Generator) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=g, dtype=torch.float64)


def sample_crop_boxes(
    n: int, height: int, width: int, scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3), generator: torch.Generator | None = None,
    attempts: int = 10,
) -> torch.Tensor:
    """Random-resized-crop boxes ``(top, left, h, w)`` in pixels, shape (n, 4), float64.

    As in the paper (and Inception's training code): area uniform in ``scale`` times the
    image area, aspect ratio log-uniform in ``ratio``. Each image gets ``attempts``
    candidates drawn at once and keeps the first that fits; if none fits, the
    largest central crop with the ratio clamped into ``ratio``.
    """
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    area = height * width * _uniform(n * attempts, *scale, g).view(n, attempts)
    log_r = _uniform(n * attempts, math.log(ratio[0]), math.log(ratio[1]), g).view(n, attempts)
    r = log_r.exp()
    w, h = (area * r).sqrt(), (area / r).sqrt()
    ok = (w <= width) & (h <= height)
    first = torch.where(ok.any(1), ok.float().argmax(1), torch.full((n,), -1))
    pick = first.clamp(min=0).unsqueeze(1)
    h, w = h.gather(1, pick).squeeze(1), w.gather(1, pick).squeeze(1)
    # Fallback: whole image, cropped to the nearest allowed aspect ratio.
    img_r = width / height
    fb_w = width if img_r <= ratio[1] else height * ratio[1]
    fb_w = fb_w if img_r >= ratio[0] else width
    fb_h = height if img_r >= ratio[0] else width / ratio[0]
    fb_h = fb_h if img_r <= ratio[1] else height
    miss = first < 0
    h = torch.where(miss, torch.full_like(h, fb_h), h)
    w = torch.where(miss, torch.full_like(w, fb_w), w)
    top = torch.rand(n, generator=g, dtype=torch.float64) * (height - h)
    left = torch.rand(n, generator=g, dtype=torch.float64) * (width - w)
    return torch.stack([top, left, h, w], 1)


def _range(value: float | Sequence[float], center: float) -> tuple[float, float]:
    """Keras convention: a number v means [center - v, center + v]; a pair is used as is."""
    if isinstance(value, (int, float)):
        return center - value, center + value
    lo, hi = value
    return float(lo), float(hi)


@dataclass(frozen=True)
class BatchAugment:
    """Training augmentation config; calling it maps a uint8 batch to a normalised float one.

    Everything is off by default (only ``to_float`` with ``mean``/``std`` runs).
    Geometric fields follow Keras' ``ImageDataGenerator``: ``rotation_range`` in degrees,
    ``width_shift_range``/``height_shift_range`` as fractions of the size,
    ``shear_range`` in degrees, ``zoom_range`` as v (-> [1-v, 1+v]) or (lo, hi), where a
    zoom > 1 shows more of the image, and ``fill_mode`` "nearest", "reflect" or
    "constant" (with ``cval`` in 0..255). ``translate`` moves each image by a whole
    number of pixels in -translate..translate on each axis: the pad-and-crop of fast
    CIFAR recipes, exact (a sub-pixel ``*_shift_range`` blurs 28x28 images), and the
    shifts ``googlenet eval --tta`` averages over. ``cutout`` sets a random
    ``cutout`` x ``cutout`` square of each image (its centre anywhere in the image) to
    the mean, DeVries & Taylor 2017. ``brightness``/``contrast``/``saturation`` are
    jitter strengths (factor uniform in [1-v, 1+v]); ``lighting`` is the std of AlexNet's
    PCA noise (RGB only).
    """

    size: int | None = None
    random_resized_crop: bool = False
    scale: tuple[float, float] = (0.08, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    hflip: bool = False
    vflip: bool = False
    rotation_range: float = 0.0
    width_shift_range: float = 0.0
    height_shift_range: float = 0.0
    translate: int = 0
    shear_range: float = 0.0
    zoom_range: float | tuple[float, float] = 0.0
    fill_mode: str = "nearest"
    cval: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0
    lighting: float = 0.0
    cutout: int = 0
    mean: tuple[float, ...] = (0.5,)
    std: tuple[float, ...] = (0.5,)

    def __post_init__(self) -> None:
        if self.translate < 0 or self.cutout < 0:
            raise DataError(f"translate and cutout must be >= 0 pixels, got {self.translate} "
                            f"and {self.cutout}")
        if self.fill_mode not in FILL_MODES:
            raise DataError(f"fill_mode must be one of {list(FILL_MODES)}, got {self.fill_mode!r}")
        if not 0 < self.scale[0] <= self.scale[1] <= 1 or not 0 < self.ratio[0] <= self.ratio[1]:
            raise DataError(f"bad crop scale {self.scale} or ratio {self.ratio}")

    @classmethod
    def paper(cls, size: int = 224) -> BatchAugment:
        """GoogLeNet's recipe: 8%-100% area crops with 3/4-4/3 aspect, flips, and
        photometric distortions; ImageNet mean/std."""
        return cls(size=size, random_resized_crop=True, hflip=True, brightness=0.4,
                   contrast=0.4, saturation=0.4, lighting=0.1, mean=IMAGENET_MEAN,
                   std=IMAGENET_STD)

    @property
    def geometric(self) -> bool:
        """Whether any warp (beyond plain flips) is on."""
        return bool(self.random_resized_crop or self.rotation_range or self.shear_range
                    or self.translate or self.width_shift_range or self.height_shift_range
                    or self.zoom_range
                    or (self.size is not None))

    def affine(self, n: int, height: int, width: int, g: torch.Generator,
               flip: torch.Tensor | None = None) -> torch.Tensor:
        """The (n, 2, 3) ``affine_grid`` matrices (output -> input, normalised coords);
        ``flip`` (n bools) mirrors exactly those images instead of a coin toss each."""
        if self.random_resized_crop:
            top, left, h, w = sample_crop_boxes(n, height, width, self.scale, self.ratio, g).T
        else:
            top, left = torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64)
            h, w = torch.full((n,), float(height)), torch.full((n,), float(width))
            h, w = h.double(), w.double()
        cx, cy = left + w / 2, top + h / 2
        one = torch.ones(n, dtype=torch.float64)
        if flip is not None:
            fx = torch.where(flip.cpu(), -one, one)
        else:
            fx = torch.where(torch.rand(n, generator=g) < 0.5, -one, one) if self.hflip else one
        fy = torch.where(torch.rand(n, generator=g) < 0.5, -one, one) if self.vflip else one
        theta = _uniform(n, -self.rotation_range, self.rotation_range, g) * math.pi / 180
        shear = _uniform(n, -self.shear_range, self.shear_range, g) * math.pi / 180
        zx = _uniform(n, *_range(self.zoom_range, 1.0), g)
        zy = _uniform(n, *_range(self.zoom_range, 1.0), g)
        cx = cx + _uniform(n, -self.width_shift_range, self.width_shift_range, g) * width
        cy = cy + _uniform(n, -self.height_shift_range, self.height_shift_range, g) * height
        if self.translate:
            t = self.translate
            cx = cx + torch.randint(-t, t + 1, (n,), generator=g).double()
            cy = cy + torch.randint(-t, t + 1, (n,), generator=g).double()
        # In input pixels about the crop centre: M = R(theta) @ Shear @ Zoom @ Flip @ D_box,
        # D_box taking normalised output coords to crop-box pixels.
        cos, sin = theta.cos(), theta.sin()
        rot = torch.stack([cos, -sin, sin, cos], 1).view(n, 2, 2)
        shr = torch.stack([one, -shear.sin(), 0 * one, shear.cos()], 1).view(n, 2, 2)
        diag = torch.stack([zx * fx * w / 2, 0 * one, 0 * one, zy * fy * h / 2], 1).view(n, 2, 2)
        m = rot @ shr @ diag
        to_norm = torch.tensor([2.0 / width, 2.0 / height], dtype=torch.float64).view(1, 2, 1)
        lin = m * to_norm
        trans = torch.stack([cx * 2 / width - 1, cy * 2 / height - 1], 1).unsqueeze(2)
        return torch.cat([lin, trans], 2).float()

    def warp(self, x: torch.Tensor, g: torch.Generator, flip: torch.Tensor | None = None,
             ) -> torch.Tensor:
        """Apply the geometric part to a batch; returns float32 in 0..255."""
        n, c, height, width = x.shape
        size = self.size or (height, width)
        out_hw = (size, size) if isinstance(size, int) else size
        theta = self.affine(n, height, width, g, flip).to(x.device)
        grid = F.affine_grid(theta, [n, c, *out_hw], align_corners=False)
        xf = x.float()
        if self.fill_mode == "constant":  # zeros padding of (x - cval), then add it back
            return F.grid_sample(xf - self.cval, grid, mode="bilinear", padding_mode="zeros",
                                 align_corners=False) + self.cval
        return F.grid_sample(xf, grid, mode="bilinear", padding_mode=FILL_MODES[self.fill_mode],
                             align_corners=False)

    def photometric(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        """Brightness, contrast, saturation and lighting jitter on a float 0..255 batch."""
        n = x.shape[0]

        def factor(v: float) -> torch.Tensor:
            return _uniform(n, 1 - v, 1 + v, g).float().view(n, 1, 1, 1).to(x.device)

        rgb = x.shape[1] == 3
        gray_w = torch.tensor([0.299, 0.587, 0.114], device=x.device).view(1, 3, 1, 1)
        if self.brightness:
            x = x * factor(self.brightness)
        if self.contrast:
            gray = (x * gray_w).sum(1, keepdim=True) if rgb else x
            x = (x - gray.mean((1, 2, 3), keepdim=True)) * factor(self.contrast) + \
                gray.mean((1, 2, 3), keepdim=True)
        if self.saturation and rgb:
            gray = (x * gray_w).sum(1, keepdim=True)
            x = (x - gray) * factor(self.saturation) + gray
        if self.lighting and rgb:
            alpha = torch.randn(n, 3, generator=g) * self.lighting
            shift = (alpha * _EIGVAL) @ _EIGVEC.T * 255.0
            x = x + shift.to(x.device).view(n, 3, 1, 1)
        return x.clamp(0, 255)

    def erase(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        """Cutout on a float 0..255 batch: each image's square goes to the mean, which
        normalises to 0 (no signal), as in DeVries & Taylor."""
        n, c, height, width = x.shape
        lo, hi = -(self.cutout // 2), self.cutout - self.cutout // 2  # [lo, hi): `cutout` px
        cy = torch.randint(0, height, (n, 1, 1), generator=g).to(x.device)
        cx = torch.randint(0, width, (n, 1, 1), generator=g).to(x.device)
        dy = torch.arange(height, device=x.device).view(1, -1, 1) - cy
        dx = torch.arange(width, device=x.device).view(1, 1, -1) - cx
        inside = (dy >= lo) & (dy < hi) & (dx >= lo) & (dx < hi)
        mean = torch.tensor(self.mean, device=x.device, dtype=x.dtype).view(1, c, 1, 1)
        return torch.where(inside.unsqueeze(1), mean * 255.0, x)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None,
                 flip: torch.Tensor | None = None) -> torch.Tensor:
        """uint8 (B, C, H, W) -> augmented, normalised float32 (B, C, size, size).

        ``flip`` (B bools) says which images to mirror, replacing ``hflip``'s coin
        tosses: the trainer's alternating flip (``--alternate-flip``) decides it."""
        if x.ndim != 4:
            raise DataError(f"expected a (B, C, H, W) batch, got shape {tuple(x.shape)}")
        if flip is not None and flip.shape != (x.shape[0],):
            raise DataError(f"flip mask of shape {tuple(flip.shape)} for a batch of "
                            f"{x.shape[0]}")
        g = generator if generator is not None else torch.Generator().manual_seed(0)
        if self.geometric:
            xf = self.warp(x, g, flip)
        else:
            # Flips only: exact and cheaper as an index operation than a resample.
            xf = x.float()
            n = x.shape[0]
            if flip is None and self.hflip:
                flip = torch.rand(n, generator=g) < 0.5
            vflip = torch.rand(n, generator=g) < 0.5 if self.vflip else None
            for mask, dim in ((flip, -1), (vflip, -2)):
                if mask is not None:
                    xf = torch.where(mask.to(x.device).view(-1, 1, 1, 1), xf.flip(dim), xf)
        if self.brightness or self.contrast or self.saturation or self.lighting:
            xf = self.photometric(xf, g)
        if self.cutout:
            xf = self.erase(xf, g)
        return to_float(xf / 255.0, self.mean, self.std)
