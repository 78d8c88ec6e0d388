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
import math
import operator
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from ..devices import DEVICE_NAMES, check_device_name
from ..errors import DeviceError, GoogLeNetError

OPTIMIZERS = ("sgd", "rmsprop", "adamw")
SCHEDULES = ("paper", "cosine", "onecycle", "constant")
PRECISIONS = ("fp32", "bf16")


class ConfigError(GoogLeNetError, ValueError):
    """A training configuration with an unknown field or a value of the wrong type or range.

    ``field`` names the offending field when there is one and ``problem`` is the message
    without that name, so a caller can name it its own way: the CLI names the flag
    (``--dropout must be ...``), :meth:`TrainConfig.load` the file.
    """

    def __init__(self, message: str, *, field: str | None = None, problem: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.problem = problem or message


def _field_error(name: str, problem: str) -> ConfigError:
    return ConfigError(f"{name} {problem}", field=name, problem=problem)


def _f(default: Any, help: str, **kw: Any) -> Any:  # noqa: A002 - mirrors argparse
    """A field with its help text and, as keywords, its ``choices`` or its range
    (``ge``/``gt``/``le``/``lt``: >=, >, <=, <), which :meth:`TrainConfig.validate` checks."""
    return field(default=default, metadata={"help": help, **kw})


# The JSON types a field's annotation admits; bool is excluded from the numbers because
# True is an int to Python but never a sensible epoch count or learning rate.
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
}
_BOUNDS: tuple[tuple[str, str, Callable[[Any, Any], bool]], ...] = (
    ("ge", ">=", operator.ge), ("gt", ">", operator.gt),
    ("le", "<=", operator.le), ("lt", "<", operator.lt),
)


def _check_field(f: dataclasses.Field[Any], value: Any) -> None:
    """Raise :class:`ConfigError` if ``value`` has the wrong type or is out of range."""
    kind = str(f.type)
    optional = kind.endswith(" | None")
    if value is None and optional:
        return
    base = kind.removesuffix(" | None")
    types = _JSON_TYPES[base]
    if not isinstance(value, types) or (base != "bool" and isinstance(value, bool)):
        article = "an" if base == "int" else "a"
        none = " or null" if optional else ""
        raise _field_error(f.name, f"must be {article} {base}{none}, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise _field_error(f.name, f"must be a finite number, got {value!r}")
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        raise _field_error(f.name, f"must be one of {', '.join(choices)}, got {value!r}")
    bounds = [(sign, f.metadata[key], test) for key, sign, test in _BOUNDS
              if key in f.metadata]
    if bounds and not all(test(value, limit) for _, limit, test in bounds):
        rule = " and ".join(f"{sign} {limit:g}" for sign, limit, _ in bounds)
        raise _field_error(f.name, f"must be {rule}, got {value!r}")


@dataclass
class TrainConfig:
    """Everything a training run needs; the defaults train googlenet_mnist on Fashion-MNIST."""

    # -- model and data ---------------------------------------------------------------
    model: str = _f("googlenet_mnist", "registered model name (googlenet list)")
    width: float | None = _f(None, "channel width multiplier (small-input models)", gt=0)
    dropout: float | None = _f(None, "classifier dropout (default: the model's)", ge=0, lt=1)
    aux_logits: bool = _f(True, "train the auxiliary heads (if the model has any)")
    aux_weight: float = _f(0.3, "weight of each auxiliary loss (the paper's 0.3)", ge=0)
    dataset: str = _f("fashion-mnist", "fashion-mnist, mnist, cifar10, cifar100, folder, "
                      "synthetic")
    data: str | None = _f(None, "dataset root / folder path (default: search)")
    eval_split: str = _f("test", "split evaluated after every epoch")
    train_limit: int | None = _f(None, "use only the first N training images", ge=1)
    eval_limit: int | None = _f(None, "evaluate on only the first N images", ge=1)
    # -- optimisation -----------------------------------------------------------------
    epochs: int = _f(10, "epochs to train", ge=1)
    batch_size: int = _f(128, "global batch size (split across processes)", ge=1)
    eval_batch_size: int = _f(512, "batch size for evaluation", ge=1)
    optimizer: str = _f("sgd", "sgd, rmsprop or adamw", choices=OPTIMIZERS)
    lr: float = _f(0.1, "peak learning rate", gt=0)
    momentum: float = _f(0.9, "SGD/RMSprop momentum (the paper's 0.9)", ge=0, lt=1)
    nesterov: bool = _f(False, "Nesterov momentum for SGD")
    weight_decay: float = _f(5e-4, "weight decay (decoupled for AdamW)", ge=0)
    schedule: str = _f("paper", "paper (x0.96 every 8 epochs), cosine, onecycle, constant",
                       choices=SCHEDULES)
    step_epochs: float = _f(8.0, "paper schedule: epochs between decays", gt=0)
    step_gamma: float = _f(0.96, "paper schedule: decay factor", gt=0, le=1)
    warmup_epochs: float = _f(0.0, "linear warm-up epochs (paper/cosine/constant)", ge=0)
    min_lr_ratio: float = _f(0.0, "cosine: final lr as a fraction of lr", ge=0, le=1)
    grad_clip: float = _f(0.0, "clip the gradient norm to this (0: off)", ge=0)
    label_smoothing: float = _f(0.0, "label smoothing", ge=0, lt=1)
    mixup: float = _f(0.0, "mixup alpha (0: off)", ge=0)
    cutmix: float = _f(0.0, "cutmix alpha (0: off; with mixup, alternate per batch)", ge=0)
    ema_decay: float = _f(0.0, "EMA (Polyak) decay of the weights, e.g. 0.999 (0: off)",
                          ge=0, lt=1)
    # -- augmentation (googlenet.data.BatchAugment) ------------------------------------
    hflip: bool = _f(False, "random horizontal flips")
    shift: float = _f(0.0, "random translation as a fraction of the size (pad-and-crop)",
                      ge=0, lt=1)
    random_resized_crop: bool = _f(False, "the paper's 8%-100% area crops")
    crop_scale_min: float = _f(0.08, "random-resized-crop: smallest area fraction", gt=0, le=1)
    rotation: float = _f(0.0, "random rotation range in degrees", ge=0)
    # -- speed ------------------------------------------------------------------------
    precision: str = _f("fp32", "fp32 or bf16 (autocast)", choices=PRECISIONS)
    channels_last: bool = _f(False, "channels_last memory format")
    compile: bool = _f(False, "torch.compile the model")
    device: str = _f("auto", "auto, cpu, cuda or cuda:N")
    threads: int | None = _f(None, "torch intra-op threads", ge=1)
    workers: int = _f(0, "data-loader processes (folder datasets)", ge=0)
    # -- bookkeeping ------------------------------------------------------------------
    seed: int = _f(0, "random seed", ge=0)
    deterministic: bool = _f(True, "deterministic algorithms")
    output: str = _f("runs", "parent folder of run folders")
    name: str | None = _f(None, "run folder name (default: model-dataset-seed)")
    progress: bool = _f(True, "progress bar (only on a terminal)")
    report: bool = _f(True, "write curves and report.md at the end")

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first field no run could use: a value of
        the wrong JSON type, outside its range or choices, or an unknown device name."""
        for f in fields(self):
            _check_field(f, getattr(self, f.name))
        try:
            check_device_name(self.device)
        except DeviceError:
            raise _field_error("device", f"must be {DEVICE_NAMES}, got {self.device!r}",
                               ) from None

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
        try:
            return cls(**data)
        except ConfigError as err:
            raise ConfigError(f"{source}: {err}", field=err.field, problem=err.problem) from None

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
    try:
        return base.replace(**given)
    except ConfigError as err:
        if err.field not in given:
            raise
        flag = "--" + err.field.replace("_", "-")
        raise ConfigError(f"{flag} {err.problem}", field=err.field, problem=err.problem,
                          ) from None
