"""Side-by-side inference benchmark: every path timed in interleaved rounds in one
process, so each ratio to the eager baseline shares the machine's noise; every path's
output checked against eager on the same inputs.

Users compare against what they would otherwise run, so a second reference can join the
rounds: the same network as another implementation users would run instead (for the
paper's ``googlenet``, torchvision's layout ``googlenet_bn``: :data:`REFERENCE_NETWORK`),
eager in fp32 NCHW on the same images, and every path also gets its ratio to that
(``ratio_baseline``). A different network is refused: its speed says nothing about
this one's paths.

Each timing is the median of ``rounds`` samples; their min and max are reported too.
The checks compare each path with eager, which means nothing when eager's own outputs do
not depend on the input (a broken model): :func:`degenerate_outputs` says so, and the
report carries it (``reference_problem``).
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from ..errors import UsageError
from ..models import create_model, get_model_info
from ..models.network import as_network
from ..progress import ProgressBar
from . import native
from .optimize import FP32_ATOL, PATHS, TOP1_AGREEMENT, InferenceRunner, build_path
from .optimize import unavailable_reason as _unavailable
from .quantize import CompiledInt8Error

BASELINE = "baseline"
"""The name of the second reference's row (see the module docstring)."""

REFERENCE_NETWORK: dict[str, str] = {"googlenet": "googlenet_bn", "googlenet_bn": "googlenet_bn"}
"""A registry model -> the implementation of the same network users would otherwise run
(torchvision's GoogLeNet is the BN layout; for googlenet_bn itself, a second eager
instance, as BENCHMARKS.md's googlenet_bn tables were run). A model not listed is its
own reference."""

PROBE_IMAGES = 8
"""Random images eager runs once to tell whether its outputs depend on the input."""

MIN_SAMPLE_S = 0.2
"""Each timed sample repeats the call until it lasts this long (batch 1 is milliseconds)."""


@dataclass
class PathResult:
    """One path at one batch size. ``ratio`` is baseline time / this path's time."""

    path: str
    batch: int
    images_per_s: float | None = None
    latency_ms: float | None = None  # the median of the rounds
    latency_min_ms: float | None = None  # the spread across rounds
    latency_max_ms: float | None = None
    ratio: float | None = None
    ratio_baseline: float | None = None
    max_abs_diff: float | None = None
    top1_agreement: float | None = None
    tolerance: str = ""
    passed: bool | None = None
    build_s: float | None = None
    skipped: str | None = None


@dataclass
class BenchReport:
    """Everything ``googlenet bench --json`` prints."""

    model: str
    input_size: int
    device: str
    threads: int
    torch: str
    machine: str
    trained_weights: bool
    baseline: str | None = None  # the second reference, e.g. "googlenet_bn eager fp32 NCHW"
    # Set when eager's outputs are degenerate (constant, non-finite, or one class for
    # every image): the agreement checks below it are not meaningful.
    reference_problem: str | None = None
    reference_constant: bool = False  # the outputs do not depend on the input at all
    # The instruction set of the C kernels the winograd path runs ("avx512", "avx2";
    # GOOGLENET_NATIVE_ISA picks one), None where they do not run.
    kernels: str | None = None
    # The ceiling put on oneDNN's instruction set (ONEDNN_MAX_CPU_ISA, e.g. "AVX2", read
    # by oneDNN at its first use), None where oneDNN takes the best this CPU has.
    onednn_max_isa: str | None = None
    results: list[PathResult] = field(default_factory=list)
    # The second reference's own speed per batch: another network, so not a checked path.
    baseline_results: list[PathResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def failed(self) -> list[PathResult]:
        """The results outside their path's tolerance."""
        return [r for r in self.results if r.passed is False]


ONEDNN_ISA_SWITCH = "ONEDNN_MAX_CPU_ISA"
"""oneDNN's own switch for the highest instruction set it uses ("AVX2" emulates an AVX2-only
CPU on an AVX-512 one); its older name is DNNL_MAX_CPU_ISA."""


def onednn_max_isa() -> str | None:
    """The ceiling this process puts on oneDNN's instruction set (:data:`ONEDNN_ISA_SWITCH`
    or its older name), or None: oneDNN takes the best the CPU has."""
    for name in (ONEDNN_ISA_SWITCH, "DNNL_MAX_CPU_ISA"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def same_network(a: str, b: str) -> bool:
    """Whether registry models ``a`` and ``b`` are one network (:data:`REFERENCE_NETWORK`)."""
    return REFERENCE_NETWORK.get(a, a) == REFERENCE_NETWORK.get(b, b)


def baseline_for(requested: str, model: str, in_chans: int, input_size: int,
                 ) -> tuple[tuple[str, nn.Module] | None, str | None]:
    """The second reference for registry model ``model`` at ``input_size`` and a note on
    why there is none (or None). ``requested``: "auto" (the model's entry of
    :data:`REFERENCE_NETWORK`, none for a model that is its own reference), "none", or a
    registry name, which must be the same network (:class:`UsageError` otherwise)."""
    if requested == "none":
        return None, None
    if requested == "auto":
        if model not in REFERENCE_NETWORK:
            return None, (f"no baseline: {model} is its own reference (the x eager column); "
                          "--baseline names another implementation of the same network")
        requested = REFERENCE_NETWORK[model]
    info = get_model_info(requested)
    if not same_network(requested, model):
        raise UsageError(f"--baseline {requested}: not the same network as {model}; a "
                         "baseline is the same network at the same size ('none' for none)")
    if info.in_chans != in_chans or input_size < info.min_input_size:
        return None, (f"no baseline: {requested} takes {info.in_chans}-channel inputs of at "
                      f"least {info.min_input_size}x{info.min_input_size}, this model "
                      f"{in_chans}-channel {input_size}x{input_size}")
    reference = create_model(requested, aux_logits=False)
    return (f"{requested} eager fp32 NCHW at {input_size}x{input_size}, random init",
            reference), None


def degenerate_outputs(logits: torch.Tensor) -> tuple[str | None, bool]:
    """Why comparing with ``logits`` (one row per distinct image) checks nothing, or None,
    and whether they are constant: non-finite values, rows that do not vary with the
    image (the spread across images within fp32 rounding of the largest logit), or, a
    weaker sign, one top-1 class for every image (then top-1 agreement is trivial)."""
    logits = logits.float().cpu()
    if not bool(torch.isfinite(logits).all()):
        return "its outputs hold NaN or infinite values", True
    scale = 1.0 + logits.abs().max().item()
    if len(logits) > 1 and logits.std(0).max().item() <= FP32_ATOL * 1e-2 * scale:
        return (f"its outputs are the same for {len(logits)} different random images: "
                "the model ignores its input"), True
    top = logits.argmax(1)
    if len(logits) > 1 and bool((top == top[0]).all()):
        return (f"it gives class {int(top[0])} to all {len(logits)} random images, so "
                "top-1 agreement is trivially high"), False
    return None, False


def check_outputs(path: str, ref: torch.Tensor, out: torch.Tensor) -> tuple[float, float, bool]:
    """(max abs diff, top-1 agreement, passed) of ``out`` against the eager ``ref``.

    fp32 paths: max abs diff <= 1e-4 for logits up to 10 (trained models), proportionally
    more above, since fp32 rounding grows with the magnitude (untrained GoogLeNet logits
    reach ~100).
    Lower precision: top-1 agreement >= 99%.
    """
    ref, out = ref.float().cpu(), out.float().cpu()
    diff = (ref - out).abs().max().item()
    agree = (ref.argmax(1) == out.argmax(1)).float().mean().item()
    if PATHS[path].precision == "fp32":
        ok = diff <= FP32_ATOL * max(1.0, ref.abs().max().item() / 10)
    else:
        ok = agree >= TOP1_AGREEMENT
    # NaN in either output agrees with nothing, whatever argmax made of it.
    return diff, agree, ok and not math.isnan(diff)


def _sample(runner: InferenceRunner, images: torch.Tensor, repeats: int) -> float:
    if images.is_cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        runner(images)
    if images.is_cuda:
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def _time_side_by_side(
    runners: dict[str, InferenceRunner], images: torch.Tensor, rounds: int, bar: ProgressBar,
) -> dict[str, list[float]]:
    """Seconds per call of each runner in each round, sampled round-robin; one ``bar``
    step per path and round (the warm-up is round 0)."""
    batch = images.shape[0]
    repeats = {}
    for name, runner in runners.items():
        first = _sample(runner, images, 1)  # warm-up; also sizes the sample
        repeats[name] = max(1, math.ceil(MIN_SAMPLE_S / max(first, 1e-6)))
        bar.update(status=f"batch {batch} warm-up {name}")
    samples: dict[str, list[float]] = {name: [] for name in runners}
    for r in range(rounds):
        for name, runner in runners.items():
            samples[name].append(_sample(runner, images, repeats[name]))
            bar.update(status=f"batch {batch} round {r + 1}/{rounds} {name}")
    return samples


def _timed(r: PathResult, rounds: list[float]) -> None:
    """Fill ``r``'s speed from its per-round seconds."""
    median = statistics.median(rounds)
    r.latency_ms = median * 1e3
    r.latency_min_ms, r.latency_max_ms = min(rounds) * 1e3, max(rounds) * 1e3
    r.images_per_s = r.batch / median


def _build_all(
    model: nn.Module, paths: Sequence[str], example: torch.Tensor,
    calibration: list[torch.Tensor], results: dict[str, PathResult], bar: ProgressBar,
) -> dict[str, InferenceRunner]:
    runners = {}
    for path in paths:
        reason = _unavailable(path, example.device)
        if reason:
            results[path].skipped = reason
            bar.update(status=f"skip {path}")
            continue
        bar.note(f"building {path}")  # compiled paths take minutes
        start = time.perf_counter()
        try:
            runners[path] = build_path(path, model, example, calibration=calibration)
        except CompiledInt8Error as err:  # the path exists but fails its own check here
            results[path].skipped = str(err)
            bar.update(status=f"skip {path}")
            continue
        runners[path](example)  # compile / first-call costs belong to the build time
        results[path].build_s = time.perf_counter() - start
        bar.update(status=f"built {path}")
    return runners


def _check_all(
    runners: dict[str, InferenceRunner], paths: Sequence[str], built: dict[str, PathResult],
    images: torch.Tensor, rounds: dict[str, list[float]], report: BenchReport,
) -> list[PathResult]:
    """Each path's results at this batch: speed against eager and outputs checked (not
    meaningful where eager's outputs are degenerate: ``passed`` stays None)."""
    batch = images.shape[0]
    seconds = {name: statistics.median(s) for name, s in rounds.items()}
    ref = runners["eager"](images)
    results = []
    for path in paths:
        r = PathResult(path, batch, tolerance=built[path].tolerance,
                       build_s=built[path].build_s, skipped=built[path].skipped)
        results.append(r)
        if path not in runners:
            continue
        _timed(r, rounds[path])
        r.ratio = seconds["eager"] / seconds[path]
        if BASELINE in seconds:
            r.ratio_baseline = seconds[BASELINE] / seconds[path]
        out = runners[path](images)
        r.max_abs_diff, r.top1_agreement, r.passed = check_outputs(path, ref, out)
        agreement_checked = PATHS[path].precision != "fp32"
        if report.reference_constant or (report.reference_problem and agreement_checked):
            r.passed = None  # a check against a degenerate reference checks nothing
    return results


def benchmark(
    model: nn.Module, *, name: str, paths: Sequence[str], batches: Sequence[int],
    input_size: int, device: str = "cpu", rounds: int = 5, calibration_images: int = 256,
    trained_weights: bool = False, seed: int = 0,
    baseline: tuple[str, nn.Module] | None = None,
) -> BenchReport:
    """Time ``paths`` (``eager`` is always included as the baseline) at each batch size
    and check each against eager. Inputs are random normal images; int8 calibrates on
    ``calibration_images`` of them. Each path is built once (``build_s``: build plus
    first call); compiled paths specialise to each batch size in its warm-up call.
    ``baseline`` (a description and a model, :func:`baseline_for`) is timed eager in the
    same rounds, and every path's ``ratio_baseline`` is its speed relative to it.
    Eager first runs :data:`PROBE_IMAGES` random images: degenerate outputs
    (:func:`degenerate_outputs`) are reported, and the checks they void left unset.
    A progress bar with an ETA (a step per build, and per path, batch and round) is
    drawn on stderr when it is a terminal."""
    paths = ["eager"] + [p for p in paths if p != "eager"]
    if torch.device(device).type == "cuda":
        # CUDA convolutions default to TF32, 1e-2-level error: fp32 paths mean fp32 here.
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    gen = torch.Generator().manual_seed(seed)
    in_chans = as_network(model).in_chans
    model = model.eval().to(device)
    report = BenchReport(name, input_size, device, torch.get_num_threads(), torch.__version__,
                         platform.processor() or platform.machine(), trained_weights,
                         baseline[0] if baseline else None, kernels=native.isa(),
                         onednn_max_isa=onednn_max_isa())
    shape = (in_chans, input_size, input_size)
    calib = [torch.randn(min(32, calibration_images), *shape, generator=gen)
             for _ in range(max(1, calibration_images // 32))]
    calib = [c.to(device) for c in calib]
    example = torch.randn(batches[0], *shape, generator=gen).to(device)
    with torch.no_grad():
        probe = model(torch.randn(PROBE_IMAGES, *shape, generator=gen).to(device))
    report.reference_problem, report.reference_constant = degenerate_outputs(probe)
    built = {p: PathResult(p, 0, tolerance=PATHS[p].tolerance) for p in paths}
    runnable = [p for p in paths if _unavailable(p, example.device) is None]
    timed = len(runnable) + (baseline is not None)
    steps = len(paths) + len(batches) * timed * (1 + rounds)
    with ProgressBar(steps, f"bench {name}") as bar:
        runners = _build_all(model, paths, example, calib, built, bar)
        if baseline is not None:
            runners[BASELINE] = build_path("eager", baseline[1].to(device), example)
        for batch in batches:
            images = torch.randn(batch, *shape, generator=gen).to(device)
            per_round = _time_side_by_side(runners, images, rounds, bar)
            report.results += _check_all(runners, paths, built, images, per_round, report)
            if BASELINE in per_round:  # its speed only: another implementation's output
                base = PathResult(BASELINE, batch, ratio_baseline=1.0,
                                  tolerance="another implementation: not compared")
                _timed(base, per_round[BASELINE])
                base.ratio = (statistics.median(per_round["eager"])
                              / statistics.median(per_round[BASELINE]))
                report.baseline_results.append(base)
    return report


def render(report: BenchReport) -> str:
    """The report as a text table."""
    head = (f"{report.model} at {report.input_size}x{report.input_size} on {report.device} "
            f"({report.threads} threads, torch {report.torch}); ratios to eager from this run")
    if report.baseline:
        head += f"\n{BASELINE}: {report.baseline}, timed in the same rounds (x base)"
    if report.kernels:
        head += f"\nwinograd: this package's {report.kernels} kernels"
    if report.onednn_max_isa:
        head += f"\noneDNN limited to {report.onednn_max_isa} ({ONEDNN_ISA_SWITCH})"
    if not report.trained_weights:
        head += "\nweights: random init, so top-1 agreement is only indicative"
    if report.reference_problem:
        voided = "no check" if report.reference_constant else "no top-1 agreement check"
        head += (f"\nWARNING: eager's outputs are degenerate ({report.reference_problem}): "
                 f"{voided} below is meaningful (n/a)")
    base = f" {'x base':>7}" if report.baseline else ""
    rows = [*report.results, *report.baseline_results]
    w = max([len("path"), *(len(r.path) for r in rows)])  # the longest path name
    lines = [head, f"{'path':<{w}} {'batch':>5} {'img/s':>9} {'latency ms':>11} "
                   f"{'rounds min-max':>15} {'x eager':>8}{base} {'max|diff|':>10} "
                   f"{'top-1 agr':>9}  check"]
    for r in rows:
        if r.skipped:
            lines.append(f"{r.path:<{w}} {r.batch:>5}  skipped: {r.skipped}")
            continue
        ratio_base = f" {r.ratio_baseline:>6.2f}x" if report.baseline else ""
        spread = f"{r.latency_min_ms:.2f}-{r.latency_max_ms:.2f}"
        timing = (f"{r.path:<{w}} {r.batch:>5} {r.images_per_s:>9.1f} {r.latency_ms:>11.2f} "
                  f"{spread:>15} {r.ratio:>7.2f}x{ratio_base}")
        if r.path == BASELINE:
            lines.append(f"{timing}  ({r.tolerance})")
            continue
        verdict = {True: "ok", False: "FAIL", None: "n/a"}[r.passed]
        lines.append(f"{timing} {r.max_abs_diff:>10.2e} "
                     f"{r.top1_agreement:>9.1%}  {verdict} ({r.tolerance})")
    return "\n".join(lines)
