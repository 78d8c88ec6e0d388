"""A built-in dataset that can be learned in minutes and needs no download.

Each class is a *pattern at a scale*: a shape (disc, square, triangle, cross, ring) drawn
small or large, or a texture (stripes, checkers, dots) at a low or high spatial
frequency. Position, rotation, colours, phase and noise are random, and colour carries
no label information. Several classes differ only in scale or frequency (small disc vs
large disc, fine vs coarse checkers), so a single fixed receptive field is a poor fit:
that is exactly the situation GoogLeNet's parallel 1x1 / 3x3 / 5x5 / pool branches were
designed for, and it makes this set a quick demonstration of multi-scale features.

Generation is deterministic by index: items are made in fixed chunks of
:data:`CHUNK` indices, each chunk from its own ``numpy`` generator seeded by
``(seed, split, chunk)``, so item ``i`` is the same whatever the dataset length.
"""

from __future__ import annotations

import numpy as np
import torch

from googlenet.data.base import TensorImageDataset
from googlenet.errors import DataError

CHUNK = 1024
# (pattern, size): shape radius as a fraction of the image side, or texture cycles per
# image. Ordered so that the first classes come in pairs differing only by scale.
CLASS_SPECS: list[tuple[str, str]] = [
    ("disc", "small"), ("disc", "large"), ("stripes", "low"), ("stripes", "high"),
    ("square", "small"), ("square", "large"), ("checkers", "low"), ("checkers", "high"),
    ("ring", "large"), ("cross", "large"), ("triangle", "small"), ("triangle", "large"),
    ("dots", "low"), ("dots", "high"), ("ring", "small"), ("cross", "small"),
]
_RADIUS = {"small": (0.10, 0.16), "large": (0.26, 0.38)}
_CYCLES = {"low": (1.5, 2.5), "high": (4.5, 6.0)}
_SPLIT_ID = {"train": 0, "test": 1, "val": 2}


def synthetic_classes(num_classes: int = 10) -> list[str]:
    """Class names, e.g. ``"disc-small"``, for the first ``num_classes`` specs."""
    if not 2 <= num_classes <= len(CLASS_SPECS):
        raise DataError(f"synthetic: num_classes must be 2..{len(CLASS_SPECS)}, "
                        f"got {num_classes}")
    return [f"{p}-{s}" for p, s in CLASS_SPECS[:num_classes]]


def _soft(sdf: np.ndarray, size: int) -> np.ndarray:
    # Signed distance (negative inside) -> coverage with a one-pixel anti-aliased edge.
    return np.clip(0.5 - sdf * size, 0.0, 1.0)


def _render(kind: str, scale: str, u: np.ndarray, v: np.ndarray, p: dict[str, np.ndarray],
            size: int) -> np.ndarray:
    """Coverage in [0, 1] of one pattern; u, v are rotated, centred coordinates."""
    if kind in ("stripes", "checkers", "dots"):
        lo, hi = _CYCLES[scale]
        f = (lo + (hi - lo) * p["t"]) * 2 * np.pi
        su, sv = np.sin(f * u + p["phase"]), np.sin(f * v + p["phase"])
        if kind == "stripes":
            return np.asarray(np.clip(0.5 + 2 * su, 0, 1))
        if kind == "checkers":
            return np.asarray(np.clip(0.5 + 2 * su * sv, 0, 1))
        return np.asarray(np.clip(0.5 + 3 * (su * sv - 0.5), 0, 1))  # blobs where both peak
    lo, hi = _RADIUS[scale]
    r = lo + (hi - lo) * p["t"]
    d = np.sqrt(u * u + v * v)
    if kind == "disc":
        sdf = d - r
    elif kind == "ring":
        sdf = np.abs(d - r * 0.75) - r * 0.25
    elif kind == "square":
        sdf = np.maximum(np.abs(u), np.abs(v)) - r * 0.8
    elif kind == "cross":
        arm = r * 0.3
        bar1 = np.maximum(np.abs(u) - r, np.abs(v) - arm)
        bar2 = np.maximum(np.abs(v) - r, np.abs(u) - arm)
        sdf = np.minimum(bar1, bar2)
    else:  # triangle: intersection of three half-planes, inradius r/2
        sdf = np.maximum.reduce([
            u * np.cos(a) + v * np.sin(a) - r * 0.5
            for a in (np.pi / 2, np.pi / 2 + 2 * np.pi / 3, np.pi / 2 + 4 * np.pi / 3)
        ])
    return _soft(sdf, size)


def _chunk(seed: int, split: int, chunk: int, num_classes: int, size: int,
           channels: int) -> np.ndarray:
    """Render the CHUNK items of one chunk as uint8 (CHUNK, C, H, W)."""
    rng = np.random.default_rng([seed, split, chunk])
    n = CHUNK

    def draw(*shape: int) -> np.ndarray:
        return rng.random((n, *shape), dtype=np.float32)

    p = {"t": draw(1, 1), "phase": draw(1, 1) * 2 * np.pi}
    angle = draw(1, 1) * 2 * np.pi
    # Centre within +-0.2 of the middle: large shapes may be clipped a little, small ones
    # wander far enough that position carries no label information.
    cx, cy = 0.5 + (draw(1, 1) - 0.5) * 0.4, 0.5 + (draw(1, 1) - 0.5) * 0.4
    bg, gap = draw(channels, 1, 1), 0.35 + 0.3 * draw(channels, 1, 1)
    if channels == 3:
        # Same brightness gap on all channels for half the items so grayscale contrast
        # is always present; the other half get independent per-channel gaps.
        same = draw(1, 1, 1) < 0.5
        gap = np.where(same, gap[:, :1], gap)
    fg = (bg + gap) % 1.0
    noise_amp = 0.12 * draw(1, 1, 1)
    coords = (np.arange(size, dtype=np.float32) + 0.5) / size
    x, y = coords[None, None, :] - cx, coords[None, :, None] - cy
    cos, sin = np.cos(angle), np.sin(angle)
    u, v = x * cos + y * sin, -x * sin + y * cos
    labels = (chunk * CHUNK + np.arange(n)) % num_classes
    cover = np.empty((n, size, size), dtype=np.float32)
    for k, (kind, scale) in enumerate(CLASS_SPECS[:num_classes]):
        rows = labels == k
        sub = {key: val[rows] for key, val in p.items()}
        cover[rows] = _render(kind, scale, u[rows], v[rows], sub, size)
    img = bg + (fg - bg) * cover[:, None]
    img += noise_amp * rng.standard_normal(img.shape, dtype=np.float32)
    return np.asarray((np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8))


def synthetic_images(
    indices: np.ndarray, num_classes: int = 10, image_size: int = 32, channels: int = 3,
    seed: int = 0, split: str = "train",
) -> tuple[np.ndarray, np.ndarray]:
    """Images (uint8, (len(indices), C, H, W)) and labels (int64) of the given indices."""
    synthetic_classes(num_classes)  # validates num_classes
    if channels not in (1, 3) or image_size < 8:
        raise DataError(f"synthetic: need channels 1 or 3 and image_size >= 8, got "
                        f"{channels}, {image_size}")
    indices = np.asarray(indices, dtype=np.int64)
    out = np.empty((len(indices), channels, image_size, image_size), dtype=np.uint8)
    for chunk in np.unique(indices // CHUNK):
        rows = np.nonzero(indices // CHUNK == chunk)[0]
        imgs = _chunk(seed, _SPLIT_ID[split], int(chunk), num_classes, image_size, channels)
        out[rows] = imgs[indices[rows] % CHUNK]
    return out, indices % num_classes


class SyntheticDataset(TensorImageDataset):
    """Shapes and textures at several scales, generated in memory (see module docstring).

    Args:
        num_samples: number of items (labels cycle through the classes, so balanced).
        num_classes: 2 to 16 (default 10).
        image_size: side in pixels (default 32).
        channels: 3 (RGB) or 1.
        seed: base seed; the split also changes the stream so train and test differ.
        split: "train", "val" or "test".
    """

    def __init__(
        self, num_samples: int = 10_000, num_classes: int = 10, image_size: int = 32,
        channels: int = 3, seed: int = 0, split: str = "train",
    ) -> None:
        if split not in _SPLIT_ID:
            raise DataError(f"synthetic: unknown split {split!r}: expected {list(_SPLIT_ID)}")
        images, labels = synthetic_images(np.arange(num_samples), num_classes, image_size,
                                          channels, seed, split)
        super().__init__(torch.from_numpy(images), torch.from_numpy(labels),
                         synthetic_classes(num_classes), source=f"synthetic(seed={seed})")
        self.split = split
        self.seed = seed
