"""Tiny learnable image folders for transfer tests: two classes of coloured shapes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CLASSES = ("cats", "dogs")  # the tutorial's folder names; the content is shapes


def _picture(rng: np.random.Generator, label: int, size: int) -> Image.Image:
    # Class 0 draws warm discs, class 1 cool squares, at random
    # places and sizes, so colour and shape both tell the classes apart.
    # Dark warm pictures vs bright cool ones: learnable in a few steps even from the
    # random features of an untrained backbone.
    lo = 20 if label == 0 else 140
    bg = rng.integers(lo, lo + 90, (size, size, 3)).astype(np.int16)
    bg[..., 0 if label == 0 else 2] += 30
    im = Image.fromarray(bg.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(im)
    for _ in range(int(rng.integers(2, 5))):
        r = int(rng.integers(size // 8, size // 3))
        x, y = (int(v) for v in rng.integers(0, size - r, 2))
        if label == 0:
            colour = (int(rng.integers(180, 256)), int(rng.integers(40, 120)), 30)
            draw.ellipse((x, y, x + r, y + r), fill=colour)
        else:
            colour = (30, int(rng.integers(40, 120)), int(rng.integers(180, 256)))
            draw.rectangle((x, y, x + r, y + r), fill=colour)
    return im


def make_image_folder(root: Path, per_class: dict[str, int], size: int = 96,
                      seed: int = 0) -> Path:
    """``root/<split>/<class>/*.jpg`` for each split in ``per_class`` (images per class)."""
    rng = np.random.default_rng(seed)
    for split, n in per_class.items():
        for label, name in enumerate(CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                # Varied sizes and aspect ratios, as real photos have.
                w, h = (int(v) for v in rng.integers(size, size * 3 // 2, 2))
                _picture(rng, label, max(w, h)).resize((w, h)).save(folder / f"{i}.jpg",
                                                                     quality=90)
    return root
