"""Training: ``fit(TrainConfig(...))`` and the pieces it is made of.

See :mod:`googlenet.train.runner` for the run folder layout and
:mod:`googlenet.train.checkpoint` for how checkpoints survive a kill at any instant.
"""

from __future__ import annotations

from ..errors import ConfigError
from .config import TrainConfig
from .ema import ModelEMA
from .engine import evaluate, train_one_epoch, train_step
from .losses import LossParts, classification_loss, inception_loss
from .runner import FitResult, fit, prepare_resume
from .schedule import build_optimizer, lr_at

__all__ = [
    "ConfigError", "FitResult", "LossParts", "ModelEMA", "TrainConfig", "build_optimizer",
    "classification_loss", "evaluate", "fit", "inception_loss", "lr_at", "prepare_resume",
    "train_one_epoch", "train_step",
]
