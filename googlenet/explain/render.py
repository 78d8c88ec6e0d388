"""Images for people: colour maps, heat-map overlays, strips of feature maps, PNG bytes.

numpy and Pillow only (matplotlib stays an optional extra), so the explain page and
DeepDream work wherever the package does.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import torch
from PIL import Image

# Samples of two perceptually ordered colour maps (matplotlib's viridis and inferno at
# 0, 1/8, ..., 1): dark is low, bright is high, readable in grey print too.
VIRIDIS = ((68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
           (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37))
INFERNO = ((0, 0, 4), (31, 12, 72), (85, 15, 109), (136, 34, 106), (186, 54, 85),
           (227, 89, 51), (249, 140, 10), (249, 201, 50), (252, 255, 164))

Array = np.ndarray


def colormap(values: Array, anchors: tuple[tuple[int, int, int], ...] = VIRIDIS) -> Array:
    """Values in [0, 1] (any shape) -> uint8 RGB (shape + (3,)), linear between anchors."""
    v = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float32)), 0.0, 1.0)
    lut = np.asarray(anchors, dtype=np.float32)
    pos = v * (len(lut) - 1)
    lo = np.floor(pos).astype(np.int64).clip(0, len(lut) - 2)
    frac = (pos - lo)[..., None]
    rgb = lut[lo] * (1 - frac) + lut[lo + 1] * frac
    out: Array = np.rint(rgb).astype(np.uint8)
    return out


def to_rgb(image: torch.Tensor) -> Array:
    """A uint8 (C, H, W) tensor, C 1 or 3, as an (H, W, 3) uint8 array."""
    arr = image.detach().cpu().to(torch.uint8).permute(1, 2, 0).numpy()
    return np.repeat(arr, 3, axis=2) if arr.shape[2] == 1 else arr


def normalise(values: torch.Tensor, top: float | None = None) -> torch.Tensor:
    """``values`` scaled into [0, 1] by ``top`` (default: their maximum); all-zero stays
    zero instead of dividing by nothing."""
    values = values.detach().float()
    peak = float(values.max()) if top is None else top
    return (values / peak).clamp(0, 1) if peak > 0 else torch.zeros_like(values)


def overlay(image: Array, heat: torch.Tensor, alpha: float = 0.65) -> Array:
    """A heat map in [0, 1] (H, W) over an (H, W, 3) image: where the map is high its
    colour shows, where it is low the image does."""
    v = heat.detach().cpu().numpy().astype(np.float32)
    weight = (alpha * v)[..., None]
    mixed = image.astype(np.float32) * (1 - weight) + colormap(v, INFERNO) * weight
    out: Array = np.rint(mixed).astype(np.uint8)
    return out


def upscale(arr: Array, height: int, width: int | None = None, smooth: bool = False) -> Array:
    """Resize an (H, W) or (H, W, 3) uint8 array; nearest keeps feature-map cells visible."""
    width = width or max(1, round(arr.shape[1] * height / arr.shape[0]))
    mode = Image.Resampling.BILINEAR if smooth else Image.Resampling.NEAREST
    out: Array = np.asarray(Image.fromarray(arr).resize((width, height), mode))
    return out


def map_strip(maps: torch.Tensor, tile: int = 56, gap: int = 2) -> Array:
    """Feature maps (k, h, w) side by side, each ``tile`` pixels high, coloured with one
    scale for all of them (the strongest map's peak), so their strengths compare."""
    scaled = normalise(maps.float())
    tiles = [upscale(colormap(m.cpu().numpy()), tile, tile) for m in scaled]
    return hstack(tiles, gap)


def hstack(images: list[Array], gap: int = 4, height: int | None = None) -> Array:
    """(H, W, 3) images in a row on white, resized to one height (default: the first's)."""
    height = height or images[0].shape[0]
    resized = [im if im.shape[0] == height else upscale(im, height, smooth=True)
               for im in images]
    width = sum(im.shape[1] for im in resized) + gap * (len(resized) - 1)
    out = np.full((height, width, 3), 255, dtype=np.uint8)
    x = 0
    for im in resized:
        out[:, x:x + im.shape[1]] = im
        x += im.shape[1] + gap
    return out


def png_bytes(arr: Array) -> bytes:
    """An (H, W) or (H, W, 3) uint8 array as PNG file bytes."""
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def data_uri(arr: Array) -> str:
    """A PNG data URI, to put images inside a page that needs no other file."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(arr)).decode("ascii")
