"""What the int8 paths calibrate on: a few hundred images, evenly spread over their source.

Static int8 measures each activation's range on real inputs
(:func:`~googlenet.deploy.optimize.needs_calibration`). ``predict`` picks them from the
files it is given, ``eval`` from the evaluated data set; both pick with :func:`spread`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import torch

CALIBRATION_IMAGES = 256
"""Images int8 calibrates on (``googlenet bench``'s default too): a few hundred settle the
activation ranges, and more only lengthen a build that already takes a while."""
CALIBRATION_BATCH = 32
"""Images per calibration batch."""

T = TypeVar("T")


def spread(items: Sequence[T], count: int = CALIBRATION_IMAGES) -> list[T]:
    """At most ``count`` of ``items``, evenly spaced from the first: a folder sorted into
    class sub-folders (or a data set sorted by class) then gives every class a share, not
    only the first ones."""
    n = min(count, len(items))
    return [items[i * len(items) // n] for i in range(n)]


def in_batches(images: torch.Tensor, size: int = CALIBRATION_BATCH) -> list[torch.Tensor]:
    """``images`` (N, ...) as consecutive batches of at most ``size``."""
    return [images[i:i + size] for i in range(0, images.shape[0], size)]
