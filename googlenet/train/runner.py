"""``fit(config)``: a whole training run with its run folder, checkpoints and resume.

The run folder (``config.run_dir``) holds ``config.json``, ``metrics.csv``/``metrics.json``
(one row per epoch), the ``best``/``last`` checkpoints (see checkpoint.py for why a kill at
any instant loses nothing) and, at the end, the curves, the confusion matrix and
``report.md``. Only rank 0 writes, under a lock on the folder.

What is trained is ``config.recipe``: a registry model, or (fine-tuning) a backbone cut
with a new head, optionally started from ``config.weights``. With ``unfreeze_epochs``, a
second phase opens the recipe's ``unfreeze`` blocks at a constant, lower learning rate.
"""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..deploy import native
from ..deploy.optimize import to_channels_last
from ..devices import resolve_device
from ..errors import ConfigError, TrainingError, WeightsError
from ..evaluate.metrics import top5_text
from ..models import TransferModel, build_model, get_model_info
from ..models.network import as_network
from ..models.transfer import check_transfer_names
from ..recipe import Recipe, TransferRecipe
from ..report import finish_run
from ..weights import (
    Preprocessing,
    TrainingInfo,
    WeightsMeta,
    init_from_weights,
    load_strict,
    read_meta,
    recipe_from_weights,
)
from . import checkpoint as ckpt
from .board import TensorBoardLog, check_tensorboard, tensorboard_log
from .config import TrainConfig
from .distributed import DistInfo, barrier, cleanup_distributed, init_distributed
from .ema import ModelEMA
from .engine import Meter, TrainContext, TrainForward, evaluate, train_one_epoch
from .inputs import AlternatingFlip, RunData, build_run_data, steps_per_epoch, whitening_sample
from .kernels import use_training_kernels
from .schedule import build_optimizer, lr_at, set_bn_momentum
from .whiten import whiten_stem


@dataclass
class FitResult:
    """What a run produced."""

    run_dir: Path
    history: list[dict[str, float]]
    best: dict[str, float] = field(default_factory=dict)
    stopped: str | None = None  # "interrupted" when Ctrl-C ended it early

    @property
    def final(self) -> dict[str, float]:
        """The last epoch's metrics."""
        return self.history[-1] if self.history else {}

    @property
    def weights(self) -> Path:
        """The best checkpoint (``best.safetensors``), ready for predict, eval, export."""
        return self.run_dir / f"{ckpt.BEST}.safetensors"


def setup_torch(cfg: TrainConfig) -> None:
    """Process-wide torch settings of a run: threads, deterministic algorithms, the seed."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if cfg.deterministic:
        # warn_only: a few CUDA kernels have no deterministic variant; CPU ones all do.
        torch.use_deterministic_algorithms(True, warn_only=True)
        # ... but do not NaN-fill every new tensor: that alone is a large share of a CPU
        # step, and it only helps to find reads of uninitialised memory.
        torch.utils.deterministic.fill_uninitialized_memory = False  # type: ignore[attr-defined]  # a module attribute the stubs lack
        torch.backends.cudnn.benchmark = False
    torch.manual_seed(cfg.seed)


@contextlib.contextmanager
def _graceful_interrupt(ctx: TrainContext) -> Iterator[None]:
    """First Ctrl-C: finish the current step, save, stop. A second one aborts at once."""
    def handler(signum: int, frame: object) -> None:
        ctx.stop_requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _chans(recipe: Recipe) -> int:
    model = recipe.backbone if isinstance(recipe, TransferRecipe) else recipe
    return model.in_chans or get_model_info(model.name).in_chans


def _input_size(recipe: Recipe) -> int | None:
    return recipe.input_size if isinstance(recipe, TransferRecipe) else None


def _starting_point(cfg: TrainConfig, last: WeightsMeta | None) -> tuple[Preprocessing, int]:
    """The preprocessing and input channels the run trains with: a resumed run's own, a
    pretrained file's (as RGB 0..1), or the registry model's."""
    if last is not None:
        return last.preprocessing, _chans(last.recipe)
    size = _input_size(cfg.recipe)
    if cfg.weights:
        meta = read_meta(cfg.weights)
        return meta.preprocessing.rgb().at_size(size), _chans(meta.recipe)
    return get_model_info(cfg.model).preprocessing.at_size(size), _chans(cfg.recipe)


def _check_resize(cfg: TrainConfig, min_size: int) -> None:
    """Refuse a progressive-resizing stage smaller than the model can take (its grid
    reductions would leave no map), before any epoch runs."""
    small = [size for size, _ in cfg.resize_stages() if size < min_size]
    if small:
        raise ConfigError(f"resize_schedule: {cfg.model} takes images of at least "
                          f"{min_size} px, the schedule has {small[0]} px",
                          field="resize_schedule",
                          problem=f"has a {small[0]} px stage below {cfg.model}'s "
                                  f"minimum of {min_size} px")


class Run:
    """The state of one training run between epochs, and its files."""

    def __init__(self, cfg: TrainConfig, dist: DistInfo, device: torch.device,
                 resume: bool = False) -> None:
        self.cfg, self.dist, self.device = cfg, dist, device
        self.dir = Path(cfg.run_dir)
        if isinstance(cfg.recipe, TransferRecipe):
            check_transfer_names(cfg.recipe)
        last_path = ckpt.checkpoint_path(self.dir, ckpt.LAST)
        last = read_meta(last_path) if resume else None
        pre, chans = _starting_point(cfg, last)
        self.data: RunData = build_run_data(cfg, pre, chans)
        if cfg.batch_size % dist.world_size:
            raise ConfigError(f"batch_size {cfg.batch_size} is not divisible by the "
                              f"{dist.world_size} processes")
        self.model, self.recipe = self._build(last, last_path)
        model_chans = as_network(self.model).in_chans
        if model_chans != self.data.in_chans:
            raise ConfigError(f"{cfg.weights or cfg.model}: the model takes {model_chans}-"
                              f"channel images, {cfg.dataset} has {self.data.in_chans}")
        _check_resize(cfg, as_network(self.model).min_input_size)
        if cfg.whiten_stem and last is None:  # a resumed run has its (trained) stem
            whiten_stem(self.model, whitening_sample(self.data, cfg), cfg.seed)
        if cfg.bn_momentum is not None:
            set_bn_momentum(self.model, cfg.bn_momentum)
        self.model.to(device)
        if cfg.channels_last:
            to_channels_last(self.model)
        if cfg.native_kernels:
            _use_native_kernels(self.model, device, dist)
        optimizer = build_optimizer(self.model, cfg)
        ema = ModelEMA(self.model, cfg.ema_decay) if cfg.ema_decay > 0 else None
        flipper = AlternatingFlip(self.data.num_train(cfg), cfg.seed) \
            if cfg.alternate_flip else None
        self.ctx = TrainContext(cfg, self.model, self._forward(), optimizer, self.data, dist,
                                device, steps_per_epoch(self.data, cfg, dist), ema, flipper)
        self.history: list[dict[str, float]] = []
        self.best: dict[str, float] = {}
        self.best_step: int | None = None
        self.epoch, self.batch, self.elapsed = 0, 0, 0.0
        self.wall = 0.0  # seconds including evaluation, across resumes
        self.meter = Meter()
        self.unfrozen = False
        self.board: TensorBoardLog | None = None  # with --tensorboard, rank 0

    def _build(self, last: WeightsMeta | None, last_path: Path) -> tuple[nn.Module, Recipe]:
        """The model: as the resumed checkpoint says, from pretrained weights, or fresh."""
        cfg = self.cfg
        asked = cfg.recipe.with_data(len(self.data.classes), self.data.in_chans)
        if last is not None:
            recipe = recipe_from_weights(asked, last, last_path) if cfg.weights else asked
            if recipe != last.recipe:
                raise WeightsError(f"{last_path}: the run trained {last.recipe.describe()}; "
                                   f"the config asks for {recipe.describe()}")
            return build_model(recipe), recipe
        if cfg.weights:
            model, recipe, _ = init_from_weights(asked, cfg.weights)
            return model, recipe
        return build_model(asked), asked

    def _forward(self) -> nn.Module:
        """The training forward: compiled and DDP-wrapped as configured. Rebuilt when
        the second phase unfreezes blocks, since DDP registers the trainable parameters
        when it wraps the model."""
        forward: nn.Module = TrainForward(self.model)
        if self.cfg.compile:
            forward = torch.compile(forward)  # type: ignore[assignment]  # an OptimizedModule
        if self.dist.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            forward = nn.parallel.DistributedDataParallel(forward, device_ids=ids)
        return forward

    def _enter_phase(self) -> None:
        """Open the recipe's ``unfreeze`` blocks once the first phase's epochs are done."""
        if self.unfrozen or self.epoch < self.cfg.epochs or not self.cfg.unfreeze_epochs:
            return
        assert isinstance(self.model, TransferModel)  # validated by TrainConfig
        self.model.unfreeze()
        self.ctx.forward = self._forward()
        self.unfrozen = True

    @property
    def eval_model(self) -> nn.Module:
        """The weights of record: the EMA average when EMA is on."""
        return self.ctx.ema.module if self.ctx.ema is not None else self.model

    # -- files --------------------------------------------------------------------------
    def meta(self, metrics: dict[str, float]) -> WeightsMeta:
        info = TrainingInfo(self.dir.name, self.epoch, self.ctx.step, metrics, self.best)
        return WeightsMeta(self.recipe, tuple(self.data.classes), self.data.pre,
                           f"googlenet train: {self.dir}", info)

    def save(self, metrics: dict[str, float], is_best: bool = False) -> None:
        """Commit ``last`` (and ``best`` when ``is_best``): rank 0 only."""
        if not self.dist.is_main:
            return
        ema = self.ctx.ema
        state: dict[str, Any] = {
            "epoch": self.epoch, "batch": self.batch, "step": self.ctx.step,
            "elapsed": self.elapsed, "wall": self.wall,
            "optimizer": self.ctx.optimizer.state_dict(),
            "ema": ema.state_dict() if ema else None,
            "model": self.model.state_dict() if ema else None,
            "meter": [self.meter.loss, self.meter.correct, self.meter.count],
            "history": self.history, "best": self.best, "best_step": self.best_step,
            "rng": {"torch": torch.get_rng_state()}, "config": self.cfg.to_dict(),
        }
        ckpt.commit(self.dir, self.eval_model.state_dict(), self.meta(metrics), state,
                     is_best=is_best)

    def restore(self) -> None:
        """Continue from ``last``: weights, optimizer, EMA, counters, history."""
        tensors, _, state = ckpt.load_last(self.dir)
        path = ckpt.checkpoint_path(self.dir, ckpt.LAST)
        raw = state["model"] if state["model"] is not None else tensors
        load_strict(self.model, raw, source=str(path))
        if self.ctx.ema is not None:
            if state["ema"] is None:
                raise WeightsError(f"{path}: the run had no EMA; cannot resume with "
                                   f"ema_decay {self.cfg.ema_decay}")
            self.ctx.ema.load_state_dict(state["ema"])
        try:
            self.ctx.optimizer.load_state_dict(state["optimizer"])
        except (ValueError, KeyError) as err:
            raise WeightsError(f"{path}: optimizer state does not fit ({err})") from None
        self.epoch, self.batch, self.ctx.step = state["epoch"], state["batch"], state["step"]
        self.elapsed, self.history, self.best = state["elapsed"], state["history"], state["best"]
        self.best_step, self.wall = state["best_step"], state["wall"]
        self.meter = Meter(*state["meter"])
        torch.set_rng_state(state["rng"]["torch"])

    # -- the loop -----------------------------------------------------------------------
    def end_epoch(self, train: Meter, seconds: float, images: float) -> dict[str, float]:
        """The epoch's row of metrics.csv; the ``val_*`` columns only after an epoch the
        config evaluates (:meth:`TrainConfig.evaluates_after`)."""
        cfg = self.cfg
        row: dict[str, float] = {"epoch": self.epoch + 1, **train.as_dict("train")}
        if cfg.evaluates_after(self.epoch + 1):
            ev = evaluate(self.eval_model, self.data.eval, input_size=self.data.input_size,
                          mean=self.data.mean, std=self.data.std,
                          batch_size=cfg.eval_batch_size, device=self.device,
                          precision=cfg.precision, limit=cfg.eval_limit, dist=self.dist)
            row.update(val_loss=float(ev["loss"] or 0.0), val_acc=float(ev["acc"] or 0.0))
            if ev["top5"] is not None:  # none for 5 classes or fewer: it would always be 1
                row["val_top5"] = ev["top5"]
        row.update(lr=lr_at(self.ctx.step - 1, self.ctx.steps_per_epoch, cfg),
                   images_per_s=images / max(seconds, 1e-9), time=self.elapsed)
        return row

    def train(self) -> str | None:
        """Epochs until done or a stop request; returns "interrupted" or None."""
        ctx = self.ctx
        while self.epoch < self.cfg.total_epochs:
            self._enter_phase()
            start, done_before = time.perf_counter(), self.meter.count
            meter, self.batch = train_one_epoch(ctx, self.epoch, self.batch, self.meter)
            self.elapsed += time.perf_counter() - start
            self.meter = meter
            if self.batch < ctx.steps_per_epoch:  # stopped part-way: save and leave
                self.wall += time.perf_counter() - start
                self.save({})
                return "interrupted"
            row = self.end_epoch(meter, time.perf_counter() - start, meter.count - done_before)
            self.wall += time.perf_counter() - start
            row["wall"] = self.wall
            self.epoch, self.batch, self.meter = self.epoch + 1, 0, Meter()
            self.history.append(row)
            # A NaN validation loss never makes a checkpoint the best.
            improved = "val_acc" in row and math.isfinite(row["val_loss"]) and \
                row["val_acc"] > self.best.get("val_acc", -1.0)
            if improved:
                self.best, self.best_step = dict(row), ctx.step
            self.save(row, is_best=improved)
            barrier(self.dist)
            self._log(row)
            if ctx.stop_requested:
                return "interrupted" if self.epoch < self.cfg.total_epochs else None
        return None

    def _log(self, row: dict[str, float]) -> None:
        if not self.dist.is_main:
            return
        if self.board is not None:
            self.board.epoch(row)
        what = "train-set eval" if self.data.eval_is_train else "val"
        val = (f" | {what} loss {row['val_loss']:.4f} acc {row['val_acc']:.4f}"
               f"{top5_text(row.get('val_top5'), ' top5 {:.4f}')}" if "val_acc" in row else "")
        print(f"epoch {row['epoch']}/{self.cfg.total_epochs}: train loss "
              f"{row['train_loss']:.4f} acc {row['train_acc']:.4f}{val} | "
              f"{row['images_per_s']:.0f} img/s, lr {row['lr']:.3g}", flush=True)


def _last_good(run_dir: Path) -> str:
    """The newest checkpoint of this run whose losses are finite, for the NaN message."""
    for stem in (ckpt.LAST, ckpt.BEST):
        path = ckpt.checkpoint_path(run_dir, stem)
        info = read_meta(path).training if path.is_file() else None
        if info is not None and all(math.isfinite(v) for k, v in info.metrics.items()
                                    if k.endswith("loss")):
            return f"last good checkpoint: {path} (epoch {info.epoch}, step {info.step})"
    return "no checkpoint with a finite loss was written"


# How near ln(classes) a training loss must stay, relatively, to count as chance level.
CHANCE_TOLERANCE = 0.02


def stuck_at_chance(history: list[dict[str, float]], num_classes: int) -> bool:
    """Whether every epoch's training loss stayed at ln(``num_classes``), the loss of a
    uniform guess: a run that learned nothing, whatever its report says."""
    chance = math.log(max(num_classes, 2))
    losses = [row["train_loss"] for row in history if "train_loss" in row]
    return bool(losses) and all(abs(x - chance) <= CHANCE_TOLERANCE * chance for x in losses)


def _use_native_kernels(model: nn.Module, device: torch.device, dist: DistInfo) -> None:
    """--native-kernels: switch the model's layers, and say so where the kernels cannot
    run (the layers then run PyTorch's ops)."""
    use_training_kernels(model)
    why = native.unavailable_reason() if device.type == "cpu" \
        else f"the kernels run on the CPU, this run on {device}"
    if why is not None and dist.is_main:
        print(f"WARNING: --native-kernels: {why}; training runs PyTorch's ops",
              file=sys.stderr, flush=True)


def _warn_stuck(run: Run) -> None:
    classes = len(run.data.classes)
    if stuck_at_chance(run.history, classes):
        print(f"WARNING: the training loss stayed at ln({classes}) = "
              f"{math.log(classes):.3f}, a uniform guess, in every epoch: the model learned "
              "nothing; try another --lr, more epochs, or check the data and labels",
              file=sys.stderr, flush=True)


def _warn_eval_on_train(run: Run) -> None:
    if run.data.eval_is_train and run.dist.is_main:
        print(f"WARNING: {run.cfg.data or run.cfg.dataset} has no '{run.cfg.eval_split}' "
              "split: each epoch is evaluated on the TRAINING images, which says nothing "
              "about new images; hold some out with --val-split 0.2", file=sys.stderr,
              flush=True)


def prepare_resume(run_dir: str | Path) -> list[str]:
    """Lock the run folder briefly, remove a killed run's temporary files and repair what
    a kill between the files of one checkpoint left (see :func:`checkpoint.reconcile`).
    Call before reading the folder's ``config.json`` to resume it."""
    with ckpt.RunLock(run_dir):
        ckpt.remove_stale_temporaries(run_dir)
        return ckpt.reconcile(run_dir)


# What a run folder may hold and still count as empty: the lock a failed start of an
# older version left (temporary files of a killed writer are removed on open).
_NOT_A_RUN = (".lock",)


def check_run_folder(cfg: TrainConfig, resume: bool, overwrite: bool) -> Path:
    """The run folder, checked before anything is written: it must stay inside
    ``cfg.output`` once resolved (a symlinked run folder could put checkpoints, and with
    ``overwrite`` deletions, anywhere), and a folder that holds anything needs
    ``resume`` or ``overwrite``, so no user file is replaced without asking."""
    d = Path(cfg.run_dir)
    if d.is_symlink():
        raise ConfigError(f"{d}: the run folder is a symbolic link; refusing to write "
                          f"through it (give another --name)")
    output = Path(cfg.output).resolve()
    if output not in d.resolve().parents:
        raise ConfigError(f"{d}: the run folder resolves to {d.resolve()}, outside "
                          f"--output {cfg.output}")
    if d.exists() and not d.is_dir():
        raise ConfigError(f"{d}: exists and is not a folder; give another --name")
    if resume or overwrite or not d.is_dir():
        return d
    held = sorted(p.name for p in d.iterdir()
                  if p.name not in _NOT_A_RUN and not ckpt.is_temporary(p))
    if held:
        raise ConfigError(f"{d}: already holds files ({', '.join(held[:3])}"
                          f"{', ...' if len(held) > 3 else ''}); use --resume to continue "
                          f"a run, --overwrite to start over or --name for a new folder")
    return d


def _open_folder(cfg: TrainConfig, resume: bool, overwrite: bool) -> None:
    """Rank 0, under the lock: check the folder fits the request, tidy it."""
    d = check_run_folder(cfg, resume, overwrite)
    ckpt.remove_stale_temporaries(d)
    last = ckpt.checkpoint_path(d, ckpt.LAST)
    if resume:
        ckpt.reconcile(d)
        if not last.exists():
            raise WeightsError(f"{last}: no checkpoint to resume from")
    elif overwrite:
        ckpt.clear_run(d)


def fit(cfg: TrainConfig, resume: bool = False, overwrite: bool = False) -> FitResult:
    """Train as ``cfg`` says (under torchrun: data-parallel); returns the history.

    ``resume`` continues the run in ``cfg.run_dir`` exactly where it stopped (the same
    weights, optimizer, EMA, schedule position and data order). A NaN/inf loss raises
    :class:`TrainingError` naming the last good checkpoint. A second run on the same
    folder at the same time is refused. A new run is built (model, data, cut, batch
    size all checked) before its folder is created, so a run that cannot start leaves
    no folder behind.
    """
    setup_torch(cfg)
    check_tensorboard(cfg.tensorboard)
    device = resolve_device(cfg.device)
    dist = init_distributed(device)
    if device.type == "cuda" and dist.enabled:
        device = torch.device("cuda", dist.local_rank)
    try:
        if dist.is_main:
            check_run_folder(cfg, resume, overwrite)
        # A resumed run is built from its folder, after the folder is repaired.
        run = None if resume else Run(cfg, dist, device)
        lock = ckpt.RunLock(cfg.run_dir) if dist.is_main else contextlib.nullcontext()
        with lock:
            if dist.is_main:
                _open_folder(cfg, resume, overwrite)
            barrier(dist)
            return _train(run or Run(cfg, dist, device, resume), resume)
    finally:
        cleanup_distributed()


def _train(run: Run, resume: bool) -> FitResult:
    cfg, dist = run.cfg, run.dist
    if resume:
        run.restore()
        total = cfg.total_epochs
        if run.epoch > total or (run.epoch == total and run.batch > 0):
            flag = (f"--epochs {cfg.epochs} plus --unfreeze-epochs {cfg.unfreeze_epochs}"
                    if cfg.unfreeze_epochs else f"--epochs {cfg.epochs}")
            raise ConfigError(f"{flag}: {run.dir} has trained {run.epoch} epochs already; "
                              f"ask for more than {run.epoch} to train on")
        if run.epoch == total and dist.is_main:
            # Still finished below: a kill after the last checkpoint left no report yet.
            print(f"{run.dir}: the run has finished its {total} "
                  f"epoch{'s' if total > 1 else ''}, nothing to train; ask for more "
                  "epochs to train on", file=sys.stderr, flush=True)
    elif dist.is_main:
        ckpt.write_records(run.dir, [], cfg.to_dict())
    _warn_eval_on_train(run)
    with _graceful_interrupt(run.ctx), tensorboard_log(run) as run.board:
        try:
            stopped = run.train()
        except TrainingError as err:
            raise TrainingError(f"{err}; stopped, {_last_good(run.dir)}") from None
    if stopped is None and dist.is_main:
        _warn_stuck(run)
        if cfg.report:
            finish_run(run.dir, run.data, cfg)
        if not cfg.keep_last:
            ckpt.checkpoint_path(run.dir, ckpt.LAST).unlink(missing_ok=True)
    return FitResult(run.dir, run.history, run.best, stopped)
