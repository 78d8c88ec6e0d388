"""Training-step throughput: images/s of one recipe's optimizer step on several execution
paths, timed in interleaved rounds in one process, with the FLOP/s each sustains and where
a step's time goes.

Every path runs the trainer's own step (:func:`googlenet.train.engine.train_step` on the
state :class:`googlenet.train.runner.Run` builds: augmentation, forward (with the aux
heads of models that have them), loss, backward, the optimizer and the EMA update) on the
same fixed batches; only the precision, the memory format, compilation and the thread
count change, so the ratios say what each costs or saves. The machines are shared: each
path is timed once per round, the order rotating between rounds, and the median round
counts; ratios are to the ``eager`` path (fp32, eager, NCHW) of the same run.

FLOPs are counted once, with ``torch.utils.flop_counter.FlopCounterMode`` over one eager
step (forward and backward: FLOPs = 2 x multiply-adds); every path does the same
arithmetic, in other precisions or orders.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..devices import resolve_device
from ..errors import ConfigError
from .config import TrainConfig
from .distributed import DistInfo
from .engine import train_step
from .inputs import epoch_indices, train_loader
from .runner import Run, setup_torch
from .step_profile import profile_steps


@dataclass(frozen=True)
class StepPath:
    """How a step executes: the :class:`TrainConfig` speed fields it sets (``threads``:
    None keeps the recipe's)."""

    precision: str = "fp32"
    channels_last: bool = False
    compile: bool = False
    threads: int | None = None
    native_kernels: bool = False

    def config(self, cfg: TrainConfig) -> TrainConfig:
        """``cfg`` running on this path."""
        return cfg.replace(precision=self.precision, channels_last=self.channels_last,
                           compile=self.compile, threads=self.threads or cfg.threads,
                           native_kernels=self.native_kernels)


BASELINE = "eager"
STEP_PATHS: dict[str, StepPath] = {
    BASELINE: StepPath(),  # fp32, eager, NCHW: what every ratio is to
    "channels_last": StepPath(channels_last=True),
    "bf16": StepPath("bf16"),
    "bf16_channels_last": StepPath("bf16", channels_last=True),
    "compiled": StepPath(compile=True),  # the trainer's --compile: forward + backward
    "compiled_bf16_channels_last": StepPath("bf16", channels_last=True, compile=True),
    # Each BN + ReLU fused, by this package's C kernels (--native-kernels).
    "bf16_channels_last_native": StepPath("bf16", channels_last=True, native_kernels=True),
    # One intra-op thread: on a shared machine two threads wait for each other at every
    # op's barrier while the other core runs someone else's job.
    "eager_1thread": StepPath(threads=1),
}


class StepRunner:
    """One path's training state and a fixed list of its batches; :meth:`steps` times n
    optimizer steps (the batches cycle, the step counter and the schedule go on) as
    ``epoch`` (from 0; default the last) trains them: its image size under progressive
    resizing."""

    def __init__(self, cfg: TrainConfig, batches: int, epoch: int | None = None) -> None:
        self.cfg = cfg
        self.epoch = cfg.epochs - 1 if epoch is None else epoch
        self.threads = cfg.threads or torch.get_num_threads()
        torch.manual_seed(cfg.seed)  # every path starts from the same weights
        self.run = Run(cfg, DistInfo(), resolve_device(cfg.device))
        loader = train_loader(self.run.data, cfg, epoch_indices(self.run.data, cfg, 0, DistInfo()),
                              cfg.batch_size)
        self.batches = list(itertools.islice(loader, batches))
        self.done = 0
        self.run.ctx.forward.train()

    def step(self) -> None:
        """One optimizer step on this path's threads, waited for (reading the loss syncs
        a GPU)."""
        torch.set_num_threads(self.threads)  # process-wide: paths take turns
        images, targets = self.batches[self.done % len(self.batches)]
        loss, _ = train_step(self.run.ctx, images, targets, self.epoch, self.done)
        self.done += 1
        float(loss)

    def steps(self, n: int) -> float:
        """Seconds for ``n`` steps."""
        start = time.perf_counter()
        for _ in range(n):
            self.step()
        return time.perf_counter() - start


def flops_per_step(runner: StepRunner) -> int:
    """FLOPs (2 x multiply-adds) of one training step, forward and backward, counted by
    ``FlopCounterMode`` on ``runner`` (an eager path: compiled graphs hide their ops)."""
    counter = FlopCounterMode(display=False)
    with counter:
        runner.step()
    return int(counter.get_total_flops())


@dataclass
class PathResult:
    """One path's measurements."""

    name: str
    threads: int
    images_per_s: float  # the median round
    rounds: list[float]  # images/s of each round
    ratio: float  # images_per_s / the baseline's, same run
    gflops_per_s: float  # sustained: FLOPs per step x steps per second
    first_step_s: float  # includes compilation on compiled paths
    compile_s: float | None = None  # first step minus a median step, compiled paths


@dataclass
class StepBenchReport:
    """The measurements of one run of :func:`benchmark_training_step`."""

    recipe: str
    batch_size: int
    steps: int
    rounds: int
    threads: int
    device: str
    torch: str
    flops_per_step: int
    paths: list[PathResult]
    epoch: int  # the epoch whose step was timed (from 0)
    input_size: int  # the side of its images (progressive resizing: smaller early)
    profiles: dict[str, dict[str, float]] = field(default_factory=dict)  # ms per step

    @property
    def best(self) -> PathResult:
        """The fastest path."""
        return max(self.paths, key=lambda p: p.images_per_s)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self) | {"best": self.best.name}


def check_paths(names: Sequence[str]) -> list[str]:
    """The baseline first, then the other named paths, each once; unknown names are a
    one-line error."""
    unknown = [n for n in names if n not in STEP_PATHS]
    if unknown:
        raise ConfigError(f"unknown training path(s) {', '.join(unknown)}; known: "
                          f"{', '.join(STEP_PATHS)}")
    return [BASELINE, *dict.fromkeys(n for n in names if n != BASELINE)]


def _result(name: str, runner: StepRunner, rounds: list[float], base: float, flops: int,
            first: float) -> PathResult:
    ips = statistics.median(rounds)
    step_s = runner.cfg.batch_size / ips
    return PathResult(name, runner.threads, ips, rounds, ips / base, flops / step_s / 1e9,
                      first, first - step_s if runner.cfg.compile else None)


def benchmark_training_step(cfg: TrainConfig, paths: Sequence[str] = tuple(STEP_PATHS),
                            steps: int = 3, rounds: int = 3, warmup: int = 1,
                            profile: int = 2, epoch: int | None = None) -> StepBenchReport:
    """Time ``cfg``'s training step on each of ``paths`` (names of :data:`STEP_PATHS`;
    the baseline is always measured): ``warmup`` steps first (the first one timed on its
    own: compilation), then ``rounds`` rounds of ``steps`` steps per path. With
    ``profile`` > 0, every path is profiled over that many steps, so each op type's cost
    compares across paths (see :mod:`googlenet.train.step_profile`). ``epoch`` (from 0,
    default the last) picks the step's image size under progressive resizing."""
    names = check_paths(paths)
    if min(steps, rounds, warmup) < 1 or profile < 0:
        raise ConfigError("steps, rounds and warmup must be >= 1, profile >= 0")
    if epoch is not None and not 0 <= epoch < cfg.epochs:
        raise ConfigError(f"epoch must be 1..{cfg.epochs} (the recipe's epochs), got "
                          f"{epoch + 1}")
    setup_torch(cfg)  # as fit() runs: threads, deterministic algorithms
    runners = {n: StepRunner(STEP_PATHS[n].config(cfg), steps, epoch) for n in names}
    first = {n: r.steps(1) for n, r in runners.items()}
    for r in runners.values():
        r.steps(warmup - 1)
    flops = flops_per_step(runners[BASELINE])
    timed: dict[str, list[float]] = {n: [] for n in names}
    for k in range(rounds):
        for n in names[k % len(names):] + names[:k % len(names)]:
            timed[n].append(steps * cfg.batch_size / runners[n].steps(steps))
    base = statistics.median(timed[BASELINE])
    results = [_result(n, runners[n], timed[n], base, flops, first[n]) for n in names]
    report = StepBenchReport(cfg.recipe.describe(), cfg.batch_size, steps, rounds,
                             runners[BASELINE].threads, str(runners[BASELINE].run.device),
                             torch.__version__, flops, results, runners[BASELINE].epoch,
                             cfg.train_size_at(runners[BASELINE].epoch)
                             or runners[BASELINE].run.data.input_size)
    if profile:
        for n in names:
            report.profiles[n] = profile_steps(runners[n].step, profile)
    return report


def render(report: StepBenchReport) -> str:
    """Markdown: the paths table, then each path's profile by op type."""
    lines = [f"{report.recipe}, batch {report.batch_size} at {report.input_size} px (epoch "
             f"{report.epoch + 1}'s step), on {report.device}; "
             f"{report.flops_per_step / 1e9:.1f} GFLOP per step (forward + backward); "
             f"median of {report.rounds} rounds of {report.steps} steps", "",
             "| path | threads | img/s | x eager | GFLOP/s | first step | compile |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for p in report.paths:
        compile_s = f"{p.compile_s:.1f} s" if p.compile_s is not None else "-"
        lines.append(f"| {p.name} | {p.threads} | {p.images_per_s:.0f} | {p.ratio:.2f}x | "
                     f"{p.gflops_per_s:.1f} | {p.first_step_s:.2f} s | {compile_s} |")
    if report.profiles:
        names = list(report.profiles)
        cats = list(dict.fromkeys(c for prof in report.profiles.values() for c in prof))
        totals = {n: sum(report.profiles[n].values()) for n in names}
        lines += ["", "| op type | " + " | ".join(f"{n} ms/step | share" for n in names) + " |",
                  "|---|" + "---:|---:|" * len(names)]
        for c in cats:
            cells = [f"{report.profiles[n].get(c, 0.0):.1f} | "
                     f"{report.profiles[n].get(c, 0.0) / totals[n]:.0%}" for n in names]
            lines.append(f"| {c} | " + " | ".join(cells) + " |")
        lines.append("| total (profiled) | " + " | ".join(f"{totals[n]:.1f} | 100%"
                                                        for n in names) + " |")
    return "\n".join(lines)
