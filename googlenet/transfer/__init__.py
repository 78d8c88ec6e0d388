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
    rgb_preprocessing,
    transfer_from_config,
    transfer_preprocessing,
)
from googlenet.transfer.finetune import KERAS_AUGMENT, FinetuneResult, finetune
from googlenet.transfer.model import HEADS, POOLS, HeadOptions, TransferConfig, TransferModel

__all__ = [
    "HEADS", "KERAS_AUGMENT", "POOLS", "FinetuneResult", "HeadOptions", "TransferConfig",
    "TransferModel",
    "as_rgb", "build_transfer_model", "finetune", "load_backbone", "load_model",
    "rgb_preprocessing", "transfer_from_config", "transfer_preprocessing",
]
