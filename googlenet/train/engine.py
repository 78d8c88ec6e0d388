"""The training and evaluation loops: one optimizer step, one epoch, one evaluation pass.

:func:`googlenet.train.fit` (runner.py) wires these into a run with checkpoints.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from googlenet.data.base import dataset_len

from ..data import cutmix, make_loader, mixup
from ..data.transforms import resize
from ..deploy.optimize import build_path, eval_path
from ..errors import TrainingError
from ..evaluate.metrics import reports_top5
from ..models.inception_net import InceptionOutputs
from ..progress import ProgressBar, format_duration
from .config import TrainConfig
from .distributed import DistInfo, all_reduce_sum
from .ema import ModelEMA
from .inputs import AlternatingFlip, RunData, batch_seed, epoch_indices, prepare_eval, train_loader
from .losses import inception_loss
from .schedule import lr_at, set_lr


class TrainForward(nn.Module):
    """``forward(x) -> (logits, aux)``: ``forward_train`` as a plain forward, so DDP's
    gradient hooks and ``torch.compile`` see the aux heads too."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        # Every model the trainer builds (InceptionNet, TransferModel) has forward_train.
        out: InceptionOutputs = self.model.forward_train(x)  # type: ignore[operator]  # see above
        return out.logits, out.aux


@dataclass
class Meter:
    """Running sums of one pass (summed over ranks where they come from all ranks)."""

    loss: float = 0.0
    correct: float = 0.0
    count: float = 0.0

    def as_dict(self, prefix: str) -> dict[str, float]:
        n = max(self.count, 1.0)
        return {f"{prefix}_loss": self.loss / n, f"{prefix}_acc": self.correct / n}


@dataclass
class TrainContext:
    """Everything a training step touches."""

    cfg: TrainConfig
    model: nn.Module  # the bare model (for EMA and checkpoints)
    forward: nn.Module  # TrainForward, possibly compiled and/or DDP-wrapped
    optimizer: torch.optim.Optimizer
    data: RunData
    dist: DistInfo
    device: torch.device
    steps_per_epoch: int
    ema: ModelEMA | None = None
    flipper: AlternatingFlip | None = None  # with cfg.alternate_flip
    step: int = 0  # global optimizer steps done
    stop_requested: bool = False  # set by the SIGINT handler; checked between steps
    estimated: bool = False  # the expected training time was printed (once per process)
    generator: torch.Generator = field(default_factory=torch.Generator)


def autocast(cfg_precision: str, device: torch.device,
             ) -> contextlib.AbstractContextManager[None]:
    """bf16 autocast on CPU or CUDA when asked for, else a no-op."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg_precision == "bf16")


def _mix(ctx: TrainContext, x: torch.Tensor, y: torch.Tensor, batch: int
         ) -> tuple[torch.Tensor, torch.Tensor]:
    cfg, k = ctx.cfg, len(ctx.data.classes)
    use_cut = cfg.cutmix > 0 and (cfg.mixup <= 0 or batch % 2 == 1)
    if use_cut:
        return cutmix(x, y, k, cfg.cutmix, cfg.label_smoothing, ctx.generator)
    if cfg.mixup > 0:
        return mixup(x, y, k, cfg.mixup, cfg.label_smoothing, ctx.generator)
    return x, y


def resize_batch(x: torch.Tensor, size: int | None) -> torch.Tensor:
    """``x`` at ``size`` x ``size`` for progressive resizing (antialiased, so that a
    smaller image averages its pixels instead of skipping some); None: as it is."""
    return x if size is None else resize(x, (size, size))


def train_step(ctx: TrainContext, images: torch.Tensor, targets: torch.Tensor,
               epoch: int, batch: int, flip: torch.Tensor | None = None,
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimizer step; returns (summed loss, correct count) as tensors. ``flip``
    says which images to mirror (the alternating flip) instead of coin tosses."""
    cfg, dev = ctx.cfg, ctx.device
    seed = batch_seed(cfg.seed, epoch, batch, ctx.dist.rank)
    ctx.generator.manual_seed(seed)
    torch.manual_seed(seed)  # dropout masks: fixed by the step's position too
    # The named phases show up in torch.profiler traces (googlenet/train/step_profile.py).
    with torch.profiler.record_function("train_step.augment"):
        x = ctx.data.augment(images.to(dev, non_blocking=True), ctx.generator, flip)
        x = resize_batch(x, cfg.train_size_at(epoch))
    if cfg.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = targets.to(dev, non_blocking=True)
    x, soft = _mix(ctx, x, y, batch)
    set_lr(ctx.optimizer, lr_at(ctx.step, ctx.steps_per_epoch, cfg))
    with autocast(cfg.precision, dev):
        logits, aux = ctx.forward(x)
    parts = inception_loss(InceptionOutputs(logits, aux), soft, cfg.aux_weight,
                           cfg.label_smoothing)
    ctx.optimizer.zero_grad(set_to_none=True)
    parts.total.backward()  # type: ignore[no-untyped-call]  # untyped in torch
    if cfg.grad_clip > 0:
        nn.utils.clip_grad_norm_(ctx.model.parameters(), cfg.grad_clip)
    # The step is taken before the loss is checked (checking forces a sync); a bad loss
    # stops the run before anything of this step is saved.
    ctx.optimizer.step()
    if ctx.ema is not None:
        with torch.profiler.record_function("train_step.ema"):
            ctx.ema.update(ctx.model)
    ctx.step += 1
    n = y.shape[0]
    return parts.main.detach().float() * n, (logits.argmax(1) == y).sum()


# Off a terminal, the epoch's progress as a plain line this often (seconds).
PROGRESS_LOG_SECONDS = 10.0
# The expected training time is measured over this many of the run's first steps.
ESTIMATE_STEPS = 5


def _step_cost(cfg: TrainConfig, epoch: int, full: int) -> float:
    """A step's cost in ``epoch`` relative to a full-size one: by pixel count, since a
    convolution's work scales with it (progressive resizing)."""
    size = cfg.train_size_at(epoch)
    return 1.0 if size is None else (size / full) ** 2


def expected_time(per_step: float, ctx: TrainContext, epoch: int, batch: int) -> str:
    """The training time left, from the seconds one step took so far: the line a run
    prints after its first :data:`ESTIMATE_STEPS` steps. Under progressive resizing the
    later epochs' steps are scaled by their pixel count against this epoch's."""
    cfg, spe, full = ctx.cfg, ctx.steps_per_epoch, ctx.data.input_size
    now = _step_cost(cfg, epoch, full)
    left = spe - batch + spe * (cfg.total_epochs - epoch - 1)
    weighted = (spe - batch) + sum(spe * _step_cost(cfg, e, full) / now
                                   for e in range(epoch + 1, cfg.total_epochs))
    return (f"expected: about {format_duration(per_step * weighted)} more of training "
            f"({per_step:.2f} s per step measured over the first {ESTIMATE_STEPS} steps, "
            f"{left} steps to go; each epoch's evaluation comes on top)")


def train_one_epoch(ctx: TrainContext, epoch: int, start_batch: int = 0,
                    meter: Meter | None = None) -> tuple[Meter, int]:
    """Train ``epoch`` from batch ``start_batch`` on; returns the (global) meter and the
    number of batches done, which is less than ``steps_per_epoch`` when a stop was
    requested. A NaN/inf loss raises :class:`TrainingError`."""
    cfg, dist = ctx.cfg, ctx.dist
    meter = meter or Meter()
    ctx.forward.train()
    per_rank = cfg.batch_size // dist.world_size
    indices = epoch_indices(ctx.data, cfg, epoch, dist)
    loader = train_loader(ctx.data, cfg, indices, per_rank)
    shown = cfg.progress and dist.is_main
    bar = ProgressBar(ctx.steps_per_epoch - start_batch, f"epoch {epoch + 1}/{cfg.total_epochs}",
                      enabled=shown, log_every=PROGRESS_LOG_SECONDS)
    batch = start_batch
    for i, (images, targets) in enumerate(loader):
        if i < start_batch:
            continue  # replaying a partly done epoch: same order, skip what was done
        flip = None if ctx.flipper is None else \
            ctx.flipper.mask(indices[i * per_rank:(i + 1) * per_rank], epoch)
        loss_sum, correct = train_step(ctx, images, targets, epoch, batch, flip)
        n = float(targets.shape[0])
        # One small all-reduce per step carries the metrics and any rank's stop request.
        loss_v, corr_v, n_v, stop = all_reduce_sum(
            [float(loss_sum), float(correct), n, float(ctx.stop_requested)], dist, ctx.device)
        if not math.isfinite(loss_v):
            lr = lr_at(ctx.step - 1, ctx.steps_per_epoch, cfg)
            raise TrainingError(f"loss became {loss_v} at epoch {epoch + 1}, step "
                                f"{batch + 1} (lr {lr:.3g})")
        meter.loss += loss_v
        meter.correct += corr_v
        meter.count += n_v
        batch += 1
        bar.update(int(n_v), loss=meter.loss / meter.count, acc=meter.correct / meter.count)
        if shown and not ctx.estimated and bar.steps == ESTIMATE_STEPS:
            ctx.estimated = True
            print(expected_time(bar.elapsed / bar.steps, ctx, epoch, batch), flush=True)
        if stop:
            break
    bar.close()
    return meter, batch


@torch.no_grad()
def evaluate(model: nn.Module, dataset: Dataset[Any], *, input_size: int,
             mean: tuple[float, ...], std: tuple[float, ...], batch_size: int = 512,
             device: torch.device | None = None, precision: str = "fp32",
             limit: int | None = None, dist: DistInfo | None = None) -> dict[str, float | None]:
    """Single-crop loss, top-1 and top-5 accuracy of ``model`` on ``dataset`` (summed over
    ranks, each rank taking every ``world_size``-th image); top-5 is None for 5 classes or
    fewer, where it would always be 1.

    ``model`` runs on the inference path of the run's precision
    (:func:`~googlenet.deploy.optimize.eval_path`): an eval-mode copy, BN folded, so
    ``model`` itself is left as it is, training mode included."""
    dist = dist or DistInfo()
    device = device or torch.device("cpu")
    n = dataset_len(dataset)
    n = min(n, limit) if limit else n
    indices = torch.arange(n)[dist.rank::dist.world_size]
    runner = None
    sums = [0.0, 0.0, 0.0, 0.0]
    num_classes = 0
    for images, targets in make_loader(dataset, batch_size, indices=indices):
        x = prepare_eval(images.to(device), input_size, mean, std)
        if runner is None:  # the first batch gives the fused graph its example
            runner = build_path(eval_path(precision), model, x[:2])
        y = targets.to(device)
        logits = runner(x)
        num_classes = logits.shape[1]
        k = min(5, num_classes)
        top = logits.topk(k, 1).indices
        sums[0] += float(nn.functional.cross_entropy(logits, y, reduction="sum"))
        sums[1] += float((top[:, 0] == y).sum())
        sums[2] += float((top == y[:, None]).any(1).sum())
        sums[3] += float(y.shape[0])
    loss, top1, top5, count = all_reduce_sum(sums, dist, device)
    count = max(count, 1.0)
    return {"loss": loss / count, "acc": top1 / count,
            "top5": top5 / count if reports_top5(num_classes) else None}

