"""``fit(config)``: a whole training run with its run folder, checkpoints and resume.

The run folder (``config.run_dir``) holds ``config.json``, ``metrics.csv``/``metrics.json``
(one row per epoch), ``best``/``last`` checkpoints (see checkpoint.py) and, at the end,
the curves, the confusion matrix and ``report.md``. Only rank 0 writes.
"""

from __future__ import annotations

import contextlib
import csv
import io
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..devices import resolve_device
from ..errors import TrainingError, WeightsError
from ..evaluate.metrics import top5_text
from ..models import create_model
from ..weights._atomic import atomic_path
from .checkpoint import (
    FORMAT,
    CheckpointMeta,
    checkpoint_paths,
    load_into,
    load_state,
    load_weights,
    save_state,
    save_weights,
)
from .config import ConfigError, TrainConfig
from .distributed import DistInfo, barrier, cleanup_distributed, init_distributed
from .ema import ModelEMA
from .engine import Meter, TrainContext, TrainForward, evaluate, train_one_epoch
from .inputs import CustomModel, RunData, build_run_data, steps_per_epoch
from .schedule import build_optimizer, lr_at


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


def _setup_torch(cfg: TrainConfig) -> None:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if cfg.deterministic:
        # warn_only: a few CUDA kernels have no deterministic variant; CPU ones all do.
        torch.use_deterministic_algorithms(True, warn_only=True)
        # ... but do not NaN-fill every new tensor: that alone cost ~20% of a CPU step,
        # and it only helps to find reads of uninitialised memory.
        torch.utils.deterministic.fill_uninitialized_memory = False  # type: ignore[attr-defined]
        torch.backends.cudnn.benchmark = False
    torch.manual_seed(cfg.seed)


def build_model(cfg: TrainConfig, data: RunData) -> tuple[nn.Module, dict[str, Any]]:
    """The freshly initialised model and the kwargs that rebuild it (for checkpoints)."""
    kwargs = {"num_classes": len(data.classes), "in_chans": data.in_chans,
              "aux_logits": cfg.aux_logits, "width": cfg.width, "dropout": cfg.dropout}
    return create_model(cfg.model, **kwargs), kwargs


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


class Run:
    """The state of one training run between epochs, and its files."""

    def __init__(self, cfg: TrainConfig, dist: DistInfo, device: torch.device,
                 custom: CustomModel | None = None) -> None:
        self.cfg, self.dist, self.device = cfg, dist, device
        self.dir = Path(cfg.run_dir)
        self.data = build_run_data(cfg, custom)
        if cfg.batch_size % dist.world_size:
            raise ConfigError(f"batch_size {cfg.batch_size} is not divisible by the "
                              f"{dist.world_size} processes")
        if custom is not None:
            self.model, self.model_kwargs = custom.build(self.data.classes), {}
        else:
            self.model, self.model_kwargs = build_model(cfg, self.data)
        meta_of = getattr(self.model, "checkpoint_meta", None)
        self.extra_meta: dict[str, Any] = meta_of() if callable(meta_of) else {}
        self.model.to(device)
        if cfg.channels_last:
            self.model.to(memory_format=torch.channels_last)
        optimizer = build_optimizer(self.model, cfg)
        ema = ModelEMA(self.model, cfg.ema_decay) if cfg.ema_decay > 0 else None
        forward: nn.Module = TrainForward(self.model)
        if cfg.compile:
            forward = torch.compile(forward)  # type: ignore[assignment]
        if dist.enabled:
            ids = [device.index] if device.type == "cuda" else None
            forward = nn.parallel.DistributedDataParallel(forward, device_ids=ids)
        self.ctx = TrainContext(cfg, self.model, forward, optimizer, self.data, dist, device,
                                steps_per_epoch(self.data, cfg, dist), ema)
        self.history: list[dict[str, float]] = []
        self.best: dict[str, float] = {}
        self.epoch, self.batch, self.elapsed = 0, 0, 0.0
        self.wall = 0.0  # seconds including evaluation, across resumes
        self.meter = Meter()

    @property
    def eval_model(self) -> nn.Module:
        """The weights of record: the EMA average when EMA is on."""
        return self.ctx.ema.module if self.ctx.ema is not None else self.model

    # -- files --------------------------------------------------------------------------
    def meta(self, metrics: dict[str, float]) -> CheckpointMeta:
        d = self.data
        return CheckpointMeta(self.cfg.model, self.model_kwargs, d.classes, list(d.mean),
                              list(d.std), d.input_size, self.epoch, self.ctx.step, metrics,
                              self.extra_meta)

    def save(self, stem: str, metrics: dict[str, float]) -> None:
        """Write ``stem.safetensors`` + ``stem.state.pt`` (rank 0 only)."""
        if not self.dist.is_main:
            return
        weights, state_file = checkpoint_paths(self.dir, stem)
        ema = self.ctx.ema
        state = {
            "format": FORMAT, "epoch": self.epoch, "batch": self.batch, "step": self.ctx.step,
            "elapsed": self.elapsed, "wall": self.wall,
            "optimizer": self.ctx.optimizer.state_dict(),
            "ema": ema.state_dict() if ema else None,
            "model": self.model.state_dict() if ema else None,
            "meter": [self.meter.loss, self.meter.correct, self.meter.count],
            "history": self.history, "best": self.best,
            "rng": {"torch": torch.get_rng_state()}, "config": self.cfg.to_dict(),
        }
        save_state(state, state_file)
        save_weights(self.eval_model.state_dict(), self.meta(metrics), weights)

    def restore(self) -> None:
        """Continue from ``last``: weights, optimizer, EMA, counters, history."""
        weights, state_file = checkpoint_paths(self.dir, "last")
        state = load_state(state_file)
        tensors, meta = load_weights(weights)
        if meta.step != state["step"]:
            raise WeightsError(f"{weights}: written at step {meta.step} but {state_file.name} "
                               f"is at step {state['step']} (an interrupted save?)")
        if meta.model != self.cfg.model or meta.model_kwargs != self.model_kwargs:
            raise WeightsError(f"{weights}: checkpoint is for {meta.model} "
                               f"{meta.model_kwargs}, the config asks for {self.cfg.model} "
                               f"{self.model_kwargs}")
        raw = state["model"] if state["model"] is not None else tensors
        load_into(self.model, raw, weights)
        if self.ctx.ema is not None:
            if state["ema"] is None:
                raise WeightsError(f"{state_file}: the run had no EMA; cannot resume with "
                                   f"ema_decay {self.cfg.ema_decay}")
            self.ctx.ema.load_state_dict(state["ema"])
        try:
            self.ctx.optimizer.load_state_dict(state["optimizer"])
        except (ValueError, KeyError) as err:
            raise WeightsError(f"{state_file}: optimizer state does not fit ({err})") from None
        self.epoch, self.batch, self.ctx.step = state["epoch"], state["batch"], state["step"]
        self.elapsed, self.history, self.best = state["elapsed"], state["history"], state["best"]
        self.wall = state["wall"]
        self.meter = Meter(*state["meter"])
        torch.set_rng_state(state["rng"]["torch"])

    def write_metrics(self) -> None:
        if not self.dist.is_main or not self.history:
            return
        import json

        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(self.history[0]))
        writer.writeheader()
        writer.writerows(self.history)
        for name, text in (("metrics.csv", buf.getvalue()),
                           ("metrics.json", json.dumps(self.history, indent=1))):
            with atomic_path(self.dir / name) as tmp:
                tmp.write_text(text, encoding="utf-8")

    # -- the loop -----------------------------------------------------------------------
    def end_epoch(self, train: Meter, seconds: float, images: float) -> dict[str, float]:
        cfg = self.cfg
        ev = evaluate(self.eval_model, self.data.eval, input_size=self.data.input_size,
                      mean=self.data.mean, std=self.data.std, batch_size=cfg.eval_batch_size,
                      device=self.device, precision=cfg.precision,
                      channels_last=cfg.channels_last, limit=cfg.eval_limit, dist=self.dist)
        row = {"epoch": self.epoch + 1, **train.as_dict("train"), "val_loss": ev["loss"],
               "val_acc": ev["acc"], "val_top5": ev["top5"],
               "lr": lr_at(self.ctx.step - 1, self.ctx.steps_per_epoch, cfg),
               "images_per_s": images / max(seconds, 1e-9), "time": self.elapsed}
        return row

    def train(self) -> str | None:
        """Epochs until done or a stop request; returns "interrupted" or None."""
        ctx = self.ctx
        while self.epoch < self.cfg.epochs:
            start, done_before = time.perf_counter(), self.meter.count
            meter, self.batch = train_one_epoch(ctx, self.epoch, self.batch, self.meter)
            self.elapsed += time.perf_counter() - start
            self.meter = meter
            if self.batch < ctx.steps_per_epoch:  # stopped part-way: save and leave
                self.wall += time.perf_counter() - start
                self.save("last", {})
                return "interrupted"
            row = self.end_epoch(meter, time.perf_counter() - start, meter.count - done_before)
            self.wall += time.perf_counter() - start
            row["wall"] = self.wall
            self.epoch, self.batch, self.meter = self.epoch + 1, 0, Meter()
            self.history.append(row)
            improved = row["val_acc"] > self.best.get("val_acc", -1.0)
            if improved:
                self.best = dict(row)
            self.write_metrics()
            self.save("last", row)
            if improved:
                self.save("best", row)
            barrier(self.dist)
            self._log(row)
            if ctx.stop_requested:
                return "interrupted" if self.epoch < self.cfg.epochs else None
        return None

    def _log(self, row: dict[str, float]) -> None:
        if self.dist.is_main:
            print(f"epoch {row['epoch']}/{self.cfg.epochs}: train loss {row['train_loss']:.4f} "
                  f"acc {row['train_acc']:.4f} | val loss {row['val_loss']:.4f} "
                  f"acc {row['val_acc']:.4f}{top5_text(row['val_top5'], ' top5 {:.4f}')} | "
                  f"{row['images_per_s']:.0f} img/s, lr {row['lr']:.3g}", flush=True)


def _prepare_dir(run: Run, resume: bool, overwrite: bool) -> None:
    weights, _ = checkpoint_paths(run.dir, "last")
    if resume:
        if not weights.exists():
            raise WeightsError(f"{weights}: no checkpoint to resume from")
        run.restore()
    elif weights.exists() and not overwrite:
        raise ConfigError(f"{run.dir}: already holds a run; use --resume to continue it, "
                          f"--overwrite to start over or --name for a new folder")
    if run.dist.is_main:
        run.dir.mkdir(parents=True, exist_ok=True)
        run.cfg.save(run.dir / "config.json")


def fit(cfg: TrainConfig, resume: bool = False, overwrite: bool = False,
        custom: CustomModel | None = None) -> FitResult:
    """Train as ``cfg`` says (under torchrun: data-parallel); returns the history.

    ``resume`` continues the run in ``cfg.run_dir`` exactly where it stopped (the same
    weights, optimizer, EMA, schedule position and data order). A NaN/inf loss raises
    :class:`TrainingError` and leaves the last good checkpoint in place. ``custom``
    trains a caller-built model (see :class:`~googlenet.train.inputs.CustomModel`).
    """
    _setup_torch(cfg)
    device = resolve_device(cfg.device)
    dist = init_distributed(device)
    if device.type == "cuda" and dist.enabled:
        device = torch.device("cuda", dist.local_rank)
    try:
        run = Run(cfg, dist, device, custom)
        _prepare_dir(run, resume, overwrite)
        with _graceful_interrupt(run.ctx):
            try:
                stopped = run.train()
            except TrainingError as err:
                last, _ = checkpoint_paths(run.dir, "last")
                kept = (f"last good checkpoint: {last} (epoch {run.epoch})" if last.exists()
                        else "no checkpoint was written yet")
                raise TrainingError(f"{err}; stopped, {kept}") from None
        if stopped is None and cfg.report and dist.is_main:
            from ..report import finish_run

            finish_run(run.dir, custom=custom)
        return FitResult(run.dir, run.history, run.best, stopped)
    finally:
        cleanup_distributed()
