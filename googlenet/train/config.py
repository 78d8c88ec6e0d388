"""The training configuration: one dataclass and a JSON round-trip.

``recipe`` (:mod:`googlenet.recipe`) says what is trained: a registry model, or a
pretrained backbone cut with a new head (fine-tuning is training with a transfer recipe).
Every other field is a plain JSON type, so ``config.json`` in a run folder is the whole
recipe and :meth:`TrainConfig.load` rebuilds it. Each field carries its help text and
range; the CLI (:mod:`googlenet.commands._train_flags`) makes one ``--flag`` per field
(``batch_size`` -> ``--batch-size``) from them, plus the recipe's own flags (``--model``,
``--width``, ``--cut``, ``--head`` ...), so the flags and the library can never drift
apart.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import operator
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from ..data.augment import FILL_MODES as AUGMENT_FILLS
from ..devices import DEVICE_NAMES, check_device_name
from ..errors import ConfigError, DeviceError, SpecError
from ..recipe import (
    ModelRecipe,
    Recipe,
    TransferRecipe,
    recipe_from_dict,
)
from ..weights import read_meta

OPTIMIZERS = ("sgd", "rmsprop", "adamw")
SCHEDULES = ("paper", "cosine", "onecycle", "constant")
PRECISIONS = ("fp32", "bf16")
FILL_MODES = tuple(AUGMENT_FILLS)  # what the training warp implements


# Data-loader processes beyond a few per core only wait for the CPU; a typo (100000)
# would try to fork that many processes. At least 32, so that a config.json written on a
# larger machine still loads (to resume) on a small one.
MAX_WORKERS = max(32, 4 * (os.cpu_count() or 1))


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
    recipe: Recipe = field(default_factory=lambda: ModelRecipe("googlenet_mnist"),
                           metadata={"help": "what to train (flags: --model, --cut, ...)"})
    weights: str | None = _f(None, "start from these weights: a release "
                             "(inception_v3_keras.in1k_notop..., `googlenet weights list`) "
                             "or a .safetensors file from convert, train or finetune")
    aux_weight: float = _f(0.3, "weight of each auxiliary loss (the paper's 0.3)", ge=0)
    dataset: str = _f("fashion-mnist", "fashion-mnist, mnist, cifar10, cifar100, folder, "
                      "synthetic")
    data: str | None = _f(None, "dataset root / folder path (default: search)")
    eval_split: str = _f("test", "split evaluated after the epochs (see eval_every)")
    val_split: float = _f(0.0, "hold out this fraction of the training images (stratified, "
                          "seeded) for validation, when the data has no eval split", ge=0, lt=1)
    train_limit: int | None = _f(None, "use only the first N training images", ge=1)
    eval_limit: int | None = _f(None, "evaluate on only the first N images", ge=1)
    eval_every: int = _f(1, "evaluate after every N-th epoch and after the last one "
                         "(fast-training recipes evaluate only at the end); best.safetensors "
                         "is the best of the evaluated epochs", ge=1)
    # -- optimisation -----------------------------------------------------------------
    epochs: int = _f(10, "epochs to train (with unfreeze: epochs of the first phase)", ge=1)
    unfreeze_epochs: int = _f(0, "fine-tuning: epochs of a second phase that also trains "
                              "the recipe's unfreeze blocks", ge=0)
    unfreeze_lr: float | None = _f(None, "fine-tuning: constant learning rate of the second "
                                   "phase (default: lr / 10)", gt=0)
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
    bn_momentum: float | None = _f(None, "momentum of every BN layer's running statistics, "
                                   "PyTorch's convention (0.1 standard; larger is faster, "
                                   "e.g. 0.4 with EMA); default: the model's", gt=0, le=1)
    bn_bias_lr: float = _f(1.0, "learning-rate multiplier for BN biases (fast-training "
                           "recipes use up to 64)", gt=0)
    whiten_stem: bool = _f(False, "initialise the first convolution from the whitening "
                           "(PCA) of the training images' patches, both signs of each "
                           "eigenvector (airbench)")
    # -- augmentation (googlenet.data.BatchAugment) ------------------------------------
    hflip: bool = _f(False, "random horizontal flips")
    alternate_flip: bool = _f(False, "with hflip: flip a random half of the images in odd "
                              "epochs and the other half in even ones, instead of a coin "
                              "toss per image and epoch")
    translate: int = _f(0, "random translation by whole pixels, -N..N on each axis, "
                        "filled as fill_mode (exact, unlike --shift's sub-pixel moves)", ge=0)
    cutout: int = _f(0, "cutout: set a random N x N square of each image to the mean "
                     "(0: off)", ge=0)
    shift: float = _f(0.0, "random translation as a fraction of the size (sub-pixel, "
                      "bilinear; --translate moves whole pixels)",
                      ge=0, lt=1)
    random_resized_crop: bool = _f(False, "the paper's 8%-100% area crops")
    crop_scale_min: float = _f(0.08, "random-resized-crop: smallest area fraction", gt=0, le=1)
    rotation: float = _f(0.0, "random rotation range in degrees", ge=0)
    shear: float = _f(0.0, "random shear range in degrees (Keras' shear_range)", ge=0)
    zoom: float = _f(0.0, "random zoom in [1 - zoom, 1 + zoom] (Keras' zoom_range)", ge=0,
                     lt=1)
    fill_mode: str = _f("constant", "how rotation/shift/translate/shear/zoom fill new "
                        "pixels", choices=FILL_MODES)
    resize_schedule: str = _f("", "progressive resizing: SIZE:FRACTION,... trains the first "
                              "FRACTION of the epochs on images resized (antialiased) to "
                              "SIZE px, then the next stage, then the rest at the model's "
                              "size; e.g. 20:0.4,24:0.3 (empty: off)")
    tta: int = _f(0, "final evaluation only (the report's, of the best checkpoint): flip + "
                  "translate test-time augmentation with shifts of 1..N pixels filled as "
                  "fill_mode (googlenet eval --tta N); 0: off, and each epoch's evaluation "
                  "is always 1 crop", ge=0)
    # -- speed ------------------------------------------------------------------------
    precision: str = _f("fp32", "fp32 or bf16 (autocast); the evaluations run the fused "
                        "inference graph in the same precision", choices=PRECISIONS)
    channels_last: bool = _f(False, "channels_last memory format")
    compile: bool = _f(False, "torch.compile the model")
    native_kernels: bool = _f(False, "train each BN + ReLU as one fused op by this "
                              "package's C kernels on fp32 or bf16 CPU batches; PyTorch's "
                              "ops elsewhere (docs/native.md)")
    device: str = _f("auto", "auto, cpu, cuda or cuda:N")
    threads: int | None = _f(None, "torch intra-op threads", ge=1)
    workers: int = _f(0, "data-loader processes (folder datasets; at most 4 per CPU core "
                      "of this machine, or 32)", ge=0, le=MAX_WORKERS)
    # -- bookkeeping ------------------------------------------------------------------
    seed: int = _f(0, "random seed", ge=0)
    deterministic: bool = _f(True, "deterministic algorithms")
    output: str = _f("runs", "parent folder of run folders")
    name: str | None = _f(None, "run folder name inside --output (default: "
                          "model-dataset-seed)")
    keep_last: bool = _f(True, "keep last.safetensors (weights + training state, for "
                         "--resume) when the run ends; false keeps only best")
    progress: bool = _f(True, "progress bar (only on a terminal)")
    report: bool = _f(True, "write curves, report.md and report.html at the end")
    tensorboard: bool = _f(False, "also log scalars, sample images and the model graph to "
                           "RUN_DIR/tensorboard (pip install 'googlenet[tensorboard]')")

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first field no run could use: a value of
        the wrong JSON type, outside its range or choices, an unknown device name, or a
        combination that does not fit (fine-tuning phases without a transfer recipe)."""
        for f in fields(self):
            if f.name != "recipe":
                _check_field(f, getattr(self, f.name))
        try:
            check_device_name(self.device)
        except DeviceError:
            raise _field_error("device", f"must be {DEVICE_NAMES}, got {self.device!r}",
                               ) from None
        if not isinstance(self.recipe, (ModelRecipe, TransferRecipe)):
            raise ConfigError(f"recipe must be a ModelRecipe or TransferRecipe, got "
                              f"{self.recipe!r}")
        if self.unfreeze_epochs and not (isinstance(self.recipe, TransferRecipe)
                                         and self.recipe.unfreeze):
            raise ConfigError("unfreeze_epochs needs a transfer recipe with blocks to "
                              "unfreeze (--cut ... --unfreeze BLOCK,...)")
        if isinstance(self.recipe, TransferRecipe) and self.recipe.unfreeze \
                and not self.unfreeze_epochs:  # else the blocks would silently stay frozen
            raise ConfigError("--unfreeze opens blocks in a second phase; give its length "
                              "with --unfreeze-epochs N")
        if self.whiten_stem and self.weights:
            raise ConfigError("whiten_stem initialises a new model's stem; with weights it "
                              "would overwrite the pretrained one", field="whiten_stem",
                              problem="cannot be used with weights (it would overwrite their stem)")
        if self.alternate_flip and not self.hflip:
            raise ConfigError("alternate_flip decides which images hflip mirrors; give "
                              "hflip too", field="alternate_flip",
                              problem="needs hflip (it decides which images hflip mirrors)")
        self.resize_stages()  # raises on a malformed schedule
        if self.name is not None and not _is_plain_name(self.name):
            raise _field_error("name", f"must be a plain folder name inside --output (no "
                               f"path separators, not '.' or '..'), got {self.name!r}")

    @property
    def model(self) -> str:
        """The registry name of the model trained (a transfer recipe's backbone)."""
        return self.recipe.model_name

    @property
    def total_epochs(self) -> int:
        """``epochs`` plus the fine-tuning's second phase."""
        return self.epochs + self.unfreeze_epochs

    def evaluates_after(self, epoch: int) -> bool:
        """Whether the run evaluates after its ``epoch``-th epoch (counting from 1)."""
        return epoch % self.eval_every == 0 or epoch == self.total_epochs

    def resize_stages(self) -> tuple[tuple[int, int], ...]:
        """``resize_schedule`` as ``(size, first epoch after the stage)`` pairs, the epochs
        counted from 0 over ``epochs`` (a fine-tuning's second phase runs at full size)."""
        return parse_resize_schedule(self.resize_schedule, self.epochs)

    def train_size_at(self, epoch: int) -> int | None:
        """The side the training images are resized to in ``epoch`` (from 0); None: the
        data's own size."""
        return next((size for size, end in self.resize_stages() if epoch < end), None)

    @property
    def phase2_lr(self) -> float:
        """The second phase's constant learning rate."""
        return self.unfreeze_lr if self.unfreeze_lr is not None else self.lr / 10

    @property
    def run_name(self) -> str:
        """The run folder's name."""
        if self.name:
            return self.name
        cut = f"-{self.recipe.cut}" if isinstance(self.recipe, TransferRecipe) else ""
        return f"{self.model}{cut}-{self.dataset}-s{self.seed}"

    @property
    def run_dir(self) -> str:
        """The run folder: ``output/run_name``."""
        return os.path.join(self.output, self.run_name)

    # -- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (the recipe as its own dict)."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["recipe"] = self.recipe.to_dict()
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> TrainConfig:
        """Build from a dict; unknown keys or bad values are an error naming ``source``."""
        data = dict(data)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{source}: unknown config field(s) {', '.join(unknown)}")
        try:
            if "recipe" in data:
                data["recipe"] = recipe_from_dict(data["recipe"], f"{source}: recipe")
            return cls(**data)
        except ConfigError as err:
            raise ConfigError(f"{source}: {err}", field=err.field, problem=err.problem) from None
        except SpecError as err:
            raise ConfigError(f"{source}: {err}") from None

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


# Below this a 28x28 Inception net's three grid reductions leave no map to pool.
MIN_RESIZE = 8


@functools.cache  # the trainer asks every step; a config holds one schedule
def parse_resize_schedule(text: str, epochs: int) -> tuple[tuple[int, int], ...]:
    """``"20:0.4,24:0.3"`` over 10 epochs -> ``((20, 4), (24, 7))``: each stage's size and
    the epoch it ends before. Fractions, not epoch counts, so that ``--epochs`` stretches
    or shrinks a preset's schedule with its learning-rate schedule. The last epoch always
    runs at full size (the evaluation's), so the fractions must sum to less than 1."""
    if not text.strip():
        return ()
    stages: list[tuple[int, int]] = []
    total = 0.0
    for part in text.split(","):
        size_text, sep, frac_text = part.strip().partition(":")
        try:
            size, frac = int(size_text), float(frac_text)
        except ValueError:
            size, frac = 0, math.nan
        if not sep or size < MIN_RESIZE or not 0 < frac < 1:
            raise _field_error("resize_schedule", f"must be SIZE:FRACTION,... with SIZE >= "
                               f"{MIN_RESIZE} px and 0 < FRACTION < 1, got {text!r}")
        total += frac
        stages.append((size, round(total * epochs)))
    if total >= 1 - 1e-9:
        raise _field_error("resize_schedule", f"fractions must sum to less than 1 (the last "
                           f"epochs train at full size), got {total:g} in {text!r}")
    return tuple(stages)


def _is_plain_name(name: str) -> bool:
    """One path component that stays inside its parent folder."""
    return bool(name) and name not in (".", "..") and os.sep not in name and "/" not in name \
        and not (os.altsep and os.altsep in name) and not os.path.isabs(name)


def recipe_flags_from_weights(weights: str | None, model: str | None, cut: str | None,
                              ) -> tuple[str | None, str | None]:
    """``(model, cut)`` with what a ``--weights`` file implies filled in: its model, and a
    fine-tuned file's cut (to go on training it, e.g. on new classes)."""
    if not weights or (model is not None and cut is not None):
        return model, cut
    recipe = read_meta(weights).recipe
    if cut is None and isinstance(recipe, TransferRecipe) and model in (None, recipe.model_name):
        cut = recipe.cut
    return model or recipe.model_name, cut
