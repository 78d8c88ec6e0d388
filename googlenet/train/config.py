"""The training configuration: one dataclass, a JSON round-trip, and CLI flags made from it.

Every field is a plain JSON type, so ``config.json`` in a run folder is the whole recipe
and ``TrainConfig.from_json(path)`` rebuilds it. The CLI adds one ``--flag`` per field
(``batch_size`` -> ``--batch-size``) from the field's type and help text, so the flags and
the library can never drift apart.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from dataclasses import dataclass, field, fields
from typing import Any

from ..errors import GoogLeNetError

OPTIMIZERS = ("sgd", "rmsprop", "adamw")
SCHEDULES = ("paper", "cosine", "onecycle", "constant")
PRECISIONS = ("fp32", "bf16")


class ConfigError(GoogLeNetError, ValueError):
    """A training configuration with an unknown field or an out-of-range value."""


def _f(default: Any, help: str, **kw: Any) -> Any:  # noqa: A002 - mirrors argparse
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class TrainConfig:
    """Everything a training run needs; the defaults train googlenet_mnist on Fashion-MNIST."""

    # -- model and data ---------------------------------------------------------------
    model: str = _f("googlenet_mnist", "registered model name (googlenet list)")
    width: float | None = _f(None, "channel width multiplier (small-input models)")
    dropout: float | None = _f(None, "classifier dropout (default: the model's)")
    aux_logits: bool = _f(True, "train the auxiliary heads (if the model has any)")
    aux_weight: float = _f(0.3, "weight of each auxiliary loss (the paper's 0.3)")
    dataset: str = _f("fashion-mnist", "fashion-mnist, mnist, cifar10, cifar100, folder, "
                      "synthetic")
    data: str | None = _f(None, "dataset root / folder path (default: search)")
    eval_split: str = _f("test", "split evaluated after every epoch")
    train_limit: int | None = _f(None, "use only the first N training images")
    eval_limit: int | None = _f(None, "evaluate on only the first N images")
    # -- optimisation -----------------------------------------------------------------
    epochs: int = _f(10, "epochs to train")
    batch_size: int = _f(128, "global batch size (split across processes)")
    eval_batch_size: int = _f(512, "batch size for evaluation")
    optimizer: str = _f("sgd", "sgd, rmsprop or adamw", choices=OPTIMIZERS)
    lr: float = _f(0.1, "peak learning rate")
    momentum: float = _f(0.9, "SGD/RMSprop momentum (the paper's 0.9)")
    nesterov: bool = _f(False, "Nesterov momentum for SGD")
    weight_decay: float = _f(5e-4, "weight decay (decoupled for AdamW)")
    schedule: str = _f("paper", "paper (x0.96 every 8 epochs), cosine, onecycle, constant",
                       choices=SCHEDULES)
    step_epochs: float = _f(8.0, "paper schedule: epochs between decays")
    step_gamma: float = _f(0.96, "paper schedule: decay factor")
    warmup_epochs: float = _f(0.0, "linear warm-up epochs (paper/cosine/constant)")
    min_lr_ratio: float = _f(0.0, "cosine: final lr as a fraction of lr")
    grad_clip: float = _f(0.0, "clip the gradient norm to this (0: off)")
    label_smoothing: float = _f(0.0, "label smoothing")
    mixup: float = _f(0.0, "mixup alpha (0: off)")
    cutmix: float = _f(0.0, "cutmix alpha (0: off; with mixup, alternate per batch)")
    ema_decay: float = _f(0.0, "EMA (Polyak) decay of the weights, e.g. 0.999 (0: off)")
    # -- augmentation (googlenet.data.BatchAugment) ------------------------------------
    hflip: bool = _f(False, "random horizontal flips")
    shift: float = _f(0.0, "random translation as a fraction of the size (pad-and-crop)")
    random_resized_crop: bool = _f(False, "the paper's 8%-100% area crops")
    crop_scale_min: float = _f(0.08, "random-resized-crop: smallest area fraction")
    rotation: float = _f(0.0, "random rotation range in degrees")
    # -- speed ------------------------------------------------------------------------
    precision: str = _f("fp32", "fp32 or bf16 (autocast)", choices=PRECISIONS)
    channels_last: bool = _f(False, "channels_last memory format")
    compile: bool = _f(False, "torch.compile the model")
    device: str = _f("auto", "auto, cpu or cuda")
    threads: int | None = _f(None, "torch intra-op threads")
    workers: int = _f(0, "data-loader processes (folder datasets)")
    # -- bookkeeping ------------------------------------------------------------------
    seed: int = _f(0, "random seed")
    deterministic: bool = _f(True, "deterministic algorithms")
    output: str = _f("runs", "parent folder of run folders")
    name: str | None = _f(None, "run folder name (default: model-dataset-seed)")
    progress: bool = _f(True, "progress bar (only on a terminal)")
    report: bool = _f(True, "write curves and report.md at the end")

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ConfigError` for values no run could use."""
        for f in fields(self):
            choices = f.metadata.get("choices")
            if choices and getattr(self, f.name) not in choices:
                raise ConfigError(f"{f.name} must be one of {', '.join(choices)}, "
                                  f"got {getattr(self, f.name)!r}")
        positive = ("epochs", "batch_size", "eval_batch_size")
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0 or not 0 <= self.ema_decay < 1 or self.aux_weight < 0:
            raise ConfigError(f"need lr > 0, 0 <= ema_decay < 1, aux_weight >= 0; got "
                              f"lr={self.lr}, ema_decay={self.ema_decay}, "
                              f"aux_weight={self.aux_weight}")

    @property
    def run_name(self) -> str:
        """The run folder's name."""
        return self.name or f"{self.model}-{self.dataset}-s{self.seed}"

    @property
    def run_dir(self) -> str:
        """The run folder: ``output/run_name``."""
        return os.path.join(self.output, self.run_name)

    # -- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> TrainConfig:
        """Build from a dict; unknown keys are an error naming ``source``."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{source}: unknown config field(s) {', '.join(unknown)}")
        return cls(**data)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the config as indented JSON."""
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.to_dict(), fh, indent=2)
            fh.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TrainConfig:
        """Read a config JSON file; a bad file is a one-line error naming it."""
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, json.JSONDecodeError) as err:
            raise ConfigError(f"{path}: cannot read config ({err})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a config must be a JSON object")
        return cls.from_dict(data, str(path))

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)


# -- CLI flags ----------------------------------------------------------------------------
def _parse_bool(text: str) -> bool:
    low = text.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _optional(kind: type) -> Any:
    def parse(text: str) -> Any:
        return None if text.lower() == "none" else kind(text)
    parse.__name__ = kind.__name__
    return parse


_TYPES: dict[str, Any] = {
    "str": str, "int": int, "float": float, "bool": _parse_bool,
    "str | None": _optional(str), "int | None": _optional(int),
    "float | None": _optional(float),
}


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One ``--flag`` per :class:`TrainConfig` field; a flag not given leaves no attribute
    (``SUPPRESS``), so only flags the user gave override a loaded config."""
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        kind = _TYPES[str(f.type)]
        text = f"{f.metadata['help']} (default: {f.default})".replace("%", "%%")
        kw: dict[str, Any] = {"default": argparse.SUPPRESS, "dest": f.name, "help": text}
        if kind is _parse_bool:
            # --hflip alone means true; --hflip false also works.
            kw.update(nargs="?", const=True, type=_parse_bool, metavar="BOOL")
        else:
            kw["type"] = kind
            if "choices" in f.metadata:
                kw["choices"] = f.metadata["choices"]
        parser.add_argument(flag, **kw)


def config_from_args(args: argparse.Namespace, base: TrainConfig | None = None) -> TrainConfig:
    """``base`` (or the defaults) with every flag the user gave applied."""
    given = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name)}
    base = base or TrainConfig()
    return base.replace(**given)
