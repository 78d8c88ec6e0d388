"""Named training presets: a recipe a user picks by name (``googlenet train --preset NAME``).

A preset is a set of :class:`TrainConfig` values; flags given with it override them, so
``--preset fmnist-fast --seed 1 --epochs 10`` is the preset with another seed and a
shorter schedule. ``benchmarks/fmnist_ablation.py`` measures what each trick of
``fmnist-fast`` adds; its table in BENCHMARKS.md says which ones it shows paying, which are
within its noise, and why the rest are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..recipe import ModelRecipe
from .config import TrainConfig


@dataclass(frozen=True)
class Preset:
    """A named recipe: what it is for, and the config values it sets."""

    name: str
    summary: str
    values: dict[str, Any]

    def config(self, **changes: Any) -> TrainConfig:
        """The preset's config, with ``changes`` on top."""
        return TrainConfig(**{**self.values, **changes})


FMNIST_FAST = Preset(
    "fmnist-fast",
    "Fashion-MNIST from scratch in under an hour on 2 CPU cores: googlenet_mnist at "
    "width 0.25, bf16 + channels_last, one-cycle Nesterov SGD, whitened stem, BN biases "
    "at 16x lr with fast BN statistics under an EMA, alternating flips, 2-px "
    "translations, label smoothing, flip + translate TTA at the end",
    {
        "recipe": ModelRecipe("googlenet_mnist", width=0.25),
        "dataset": "fashion-mnist",
        "epochs": 36, "batch_size": 256, "eval_batch_size": 1000,
        "optimizer": "sgd", "lr": 0.3, "nesterov": True, "weight_decay": 5e-4,
        "schedule": "onecycle", "label_smoothing": 0.1,
        "ema_decay": 0.998, "bn_momentum": 0.4, "bn_bias_lr": 16.0, "whiten_stem": True,
        "hflip": True, "alternate_flip": True, "translate": 2,
        "tta": 2, "precision": "bf16", "channels_last": True,
    },
)

FMNIST_30MIN = Preset(
    "fmnist-30min",
    "Fashion-MNIST from scratch in under 30 minutes on 2 CPU cores: fmnist-fast's "
    "network and tricks on a shorter schedule with progressive resizing (the first 40% "
    "of the epochs at 20 px, the next 30% at 24 px, the rest at 28), evaluated every "
    "4th epoch and at the end",
    {**FMNIST_FAST.values, "epochs": 28, "resize_schedule": "20:0.4,24:0.3",
     "eval_every": 4},
)

FMNIST_60MIN = Preset(
    "fmnist-60min",
    "Fashion-MNIST from scratch to 0.950 in under an hour on 2 CPU cores: fmnist-30min "
    "at twice the epochs (56), with the same resizing fractions",
    {**FMNIST_30MIN.values, "epochs": 56},
)

PRESETS: dict[str, Preset] = {
    p.name: p for p in (FMNIST_FAST, FMNIST_30MIN, FMNIST_60MIN)}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; an unknown name is a one-line error listing them."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"--preset: unknown preset {name!r}; presets: "
                          f"{', '.join(PRESETS)}", field="preset") from None
