"""Transfer learning: a pretrained Inception backbone cut at a named feature plus a new head.

>>> from googlenet.transfer import build_transfer_model
>>> model, pre = build_transfer_model(  # doctest: +SKIP
...     "inception_v3.safetensors", cut="mixed7", num_classes=2, head="binary")
"""

from __future__ import annotations

from googlenet.transfer.build import (
    as_rgb,
    build_transfer_model,
    load_backbone,
    load_model,
    transfer_from_config,
)
from googlenet.transfer.model import HEADS, POOLS, TransferConfig, TransferModel

__all__ = [
    "HEADS", "POOLS", "TransferConfig", "TransferModel", "as_rgb", "build_transfer_model",
    "load_backbone", "load_model", "transfer_from_config",
]
