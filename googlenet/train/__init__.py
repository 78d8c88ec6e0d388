"""Training: ``fit(TrainConfig(...))`` and the pieces it is made of.

See :mod:`googlenet.train.runner` for the run folder layout and
:mod:`googlenet.train.checkpoint` for the checkpoint format.
"""

from __future__ import annotations

from .checkpoint import CheckpointMeta, build_from_checkpoint, load_weights, read_meta
from .config import ConfigError, TrainConfig
from .ema import ModelEMA
from .engine import evaluate, train_one_epoch, train_step
from .losses import LossParts, classification_loss, inception_loss
from .runner import FitResult, fit
from .schedule import build_optimizer, lr_at

__all__ = [
    "CheckpointMeta", "ConfigError", "FitResult", "LossParts", "ModelEMA", "TrainConfig",
    "build_from_checkpoint", "build_optimizer", "classification_loss", "evaluate", "fit",
    "inception_loss", "load_weights", "lr_at", "read_meta", "train_one_epoch", "train_step",
]
