"""Inference paths and ``optimize_for_inference``.

A *path* is one way of running a trained model: the eager fp32 NCHW baseline, the fused
graph in channels_last, lower precision, Inductor-compiled, int8, onnxruntime,
OpenVINO. Each builds an :class:`InferenceRunner`: NCHW float images in, float32 logits
out, whatever happens inside. Each path has a tolerance against the eager model
(:data:`PATHS`), which the tests and ``googlenet bench`` check.

:data:`PATHS` is the one table: an entry says what the path requires of the machine
(``requires(device) -> reason | None``) and how it is built (``build``).
:func:`build_path` looks a path up; ``auto`` walks :data:`AUTO_PREFERENCE`, an ordered
list over the table whose entries may hold only up to a batch size. Adding a path is one
entry here (and one in the preference list if ``auto`` should ever pick it).
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from ..errors import GoogLeNetError, NonFiniteInputError
from . import heap, native
from .export import export_onnx, onnx_session_runner
from .fuse import FuseTarget, fuse_for_inference, strip_aux
from .inductor import compile_frozen
from .native_pool import use_native_pools
from .onnx_int8 import quantize_onnx_int8
from .openvino_runner import openvino_available, openvino_runner
from .quantize import pt2e_available, quantize_int8
from .winograd import use_winograd

Precision = Literal["fp32", "bf16", "fp16", "int8"]

FP32_ATOL = 1e-4
"""fp32 paths: max abs logit difference to eager."""
TOP1_AGREEMENT = 0.99
"""Lower-precision paths: share of images whose top-1 class matches eager."""

Requirement = Callable[[torch.device], "str | None"]
"""Why a path cannot run on a device here, or None if it can."""
Builder = Callable[[str, nn.Module, torch.Tensor, "Iterable[torch.Tensor] | None"],
                   "InferenceRunner"]
"""Builds a path's runner from (path name, eval-mode model, example batch, calibration
batches or None); the model is not modified. :func:`build_path` has checked the
requirement and, for int8 paths, that calibration images were given."""


class PathUnavailableError(GoogLeNetError, RuntimeError):
    """A path this machine or installation cannot run."""


@dataclass(frozen=True)
class PathInfo:
    """One inference path: what it does, what it needs, how it is built and how it is
    checked against the eager model."""

    name: str
    precision: Precision
    description: str
    requires: Requirement
    build: Builder
    compiled: bool = False  # built by an Inductor compile: minutes
    exported: bool = False  # built by an ONNX export: seconds


    @property
    def tolerance(self) -> str:
        if self.precision == "fp32":
            return f"max |logit diff| <= {FP32_ATOL:g}"
        return f"top-1 agreement >= {TOP1_AGREEMENT:.0%}"


# --- requirements: each says why not, in one line, or None ---

def _anywhere(device: torch.device) -> str | None:
    return None


def _cuda_fp16(device: torch.device) -> str | None:
    return None if device.type == "cuda" else "fp16 is for CUDA (CPU fp16 convolutions are slow)"


def _bf16(device: torch.device) -> str | None:
    if device.type != "cuda" and not torch.cpu._is_avx512_bf16_supported():
        return "this CPU has no bf16 instructions"
    return None


def _cpu_only(path: str) -> Requirement:
    def check(device: torch.device) -> str | None:
        return f"{path} runs on CPU here" if device.type == "cuda" else None
    return check


def _pt2e(device: torch.device) -> str | None:
    return None if pt2e_available() else "PT2E quantization needs torchao (pip install torchao)"


def _onnxruntime(device: torch.device) -> str | None:
    try:
        # Optional dependency (googlenet[onnx]): exports check with it; int8 quantizes with it.
        import onnxruntime  # noqa: F401
    except ImportError:
        return "onnxruntime is not installed"
    return None


def _openvino(device: torch.device) -> str | None:
    return None if openvino_available() else (
        "OpenVINO is not installed (pip install 'googlenet[openvino]')")


def _kernels(device: torch.device) -> str | None:
    # Looked up at call time: the installed kernels are checked once per process.
    return native.unavailable_reason()


def _all(*checks: Requirement) -> Requirement:
    """The first reason any of ``checks`` gives, in order."""
    def check(device: torch.device) -> str | None:
        for c in checks:
            reason = c(device)
            if reason is not None:
                return reason
        return None
    return check


# --- builders ---

def _cl(x: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    x = x.to(dtype) if dtype is not None else x
    return x.contiguous(memory_format=torch.channels_last)


def to_channels_last(module: nn.Module) -> nn.Module:
    """``module`` with its 4-d parameters and buffers in channels_last, in place."""
    return module.to(memory_format=torch.channels_last)  # type: ignore[call-overload,no-any-return]  # Module.to takes memory_format; the stubs do not list it


def _module_runner(path: str, module: nn.Module, dtype: torch.dtype | None) -> InferenceRunner:
    return InferenceRunner(path, lambda x: module(_cl(x, dtype)), module)


def _build_eager(path: str, model: nn.Module, example: torch.Tensor,
                 calibration: Iterable[torch.Tensor] | None) -> InferenceRunner:
    return InferenceRunner(path, model, model)


def _build_channels_last(path: str, model: nn.Module, example: torch.Tensor,
                         calibration: Iterable[torch.Tensor] | None) -> InferenceRunner:
    return _module_runner(path, to_channels_last(strip_aux(copy.deepcopy(model))), None)


def _fused(model: nn.Module, example: torch.Tensor, target: FuseTarget,
           dtype: torch.dtype | None) -> nn.Module:
    fused = to_channels_last(fuse_for_inference(model, example, target))
    return fused.to(dtype) if dtype is not None else fused


def _build_fused(dtype: torch.dtype | None = None, *, kernels: bool = False) -> Builder:
    """The fused graph in ``dtype``; with ``kernels``, its 3x3 convolutions and max pools
    run by this package's native kernels."""
    def build(path: str, model: nn.Module, example: torch.Tensor,
              calibration: Iterable[torch.Tensor] | None) -> InferenceRunner:
        fused = _fused(model, example, "eager", dtype)
        if kernels:
            use_winograd(fused)
            use_native_pools(fused)
        return _module_runner(path, fused, dtype)
    return build


def _build_compiled(dtype: torch.dtype | None = None) -> Builder:
    """The fused graph for Inductor, in ``dtype``, compiled with freezing."""
    def build(path: str, model: nn.Module, example: torch.Tensor,
              calibration: Iterable[torch.Tensor] | None) -> InferenceRunner:
        return _module_runner(path, compile_frozen(_fused(model, example, "graph", dtype)), dtype)
    return build


def _build_int8(path: str, model: nn.Module, example: torch.Tensor,
                calibration: Iterable[torch.Tensor] | None) -> InferenceRunner:
    assert calibration is not None  # build_path checks it
    fused = _fused(model, example, "int8", None)
    quantized = quantize_int8(fused, (_cl(b) for b in calibration), _cl(example))
    return _module_runner(path, quantized, None)


def _build_onnx(runtime: Literal["onnxruntime", "openvino"], *, int8: bool) -> Builder:
    """The exported graph run by ``runtime``, int8-quantized (QDQ, by onnxruntime's
    quantizer) with ``int8``; the files live until the runtime has read them."""
    def build(path: str, model: nn.Module, example: torch.Tensor,
              calibration: Iterable[torch.Tensor] | None) -> InferenceRunner:
        with tempfile.TemporaryDirectory() as tmp:
            onnx_path = export_onnx(model, Path(tmp) / "model.onnx", example.cpu())
            if int8:
                assert calibration is not None  # build_path checks it
                onnx_path = quantize_onnx_int8(onnx_path, Path(tmp) / "model.int8.onnx",
                                               calibration)
            run = (openvino_runner if runtime == "openvino" else onnx_session_runner)(onnx_path)
        return InferenceRunner(path, run)
    return build


PATHS: dict[str, PathInfo] = {p.name: p for p in (
    PathInfo("eager", "fp32", "the model as trained: eager, fp32, NCHW (the baseline)",
             _anywhere, _build_eager),
    PathInfo("channels_last", "fp32", "the model as trained, channels_last",
             _anywhere, _build_channels_last),
    PathInfo("fused", "fp32", "BN folded, Inception 1x1s merged, LRN as matmul, channels_last",
             _anywhere, _build_fused()),
    PathInfo("winograd", "fp32", "fused, with this package's C kernels (AVX-512 or "
             "AVX2 + FMA, compiled at install): 3x3 convolutions by Winograd F(4x4,3x3), "
             "max pooling without indices",
             _all(_cpu_only("winograd"), _kernels), _build_fused(kernels=True)),
    PathInfo("bf16", "bf16", "fused, bf16 weights and activations",
             _bf16, _build_fused(torch.bfloat16)),
    PathInfo("fp16", "fp16", "fused, fp16 weights and activations (CUDA)",
             _cuda_fp16, _build_fused(torch.float16)),
    PathInfo("compiled", "fp32", "fused, torch.compile with freezing",
             _anywhere, _build_compiled(), compiled=True),
    PathInfo("compiled_bf16", "bf16", "fused, bf16, torch.compile with freezing",
             _bf16, _build_compiled(torch.bfloat16), compiled=True),
    PathInfo("compiled_fp16", "fp16", "fused, fp16, torch.compile with freezing (CUDA)",
             _cuda_fp16, _build_compiled(torch.float16), compiled=True),
    PathInfo("int8", "int8", "fused for int8 (1x1s unmerged), PT2E int8 "
             "(X86InductorQuantizer), compiled with freezing",
             _all(_cpu_only("int8"), _pt2e), _build_int8, compiled=True),
    PathInfo("onnxruntime", "fp32", "fused graph exported to ONNX, run by onnxruntime",
             _all(_cpu_only("onnxruntime"), _onnxruntime),
             _build_onnx("onnxruntime", int8=False), exported=True),
    PathInfo("onnxruntime_int8", "int8", "fused graph exported to ONNX, static int8 (QDQ) "
             "by onnxruntime's quantizer, run by onnxruntime",
             _all(_cpu_only("onnxruntime_int8"), _onnxruntime),
             _build_onnx("onnxruntime", int8=True), exported=True),
    PathInfo("openvino", "fp32", "fused graph exported to ONNX, run by OpenVINO",
             _all(_cpu_only("openvino"), _onnxruntime, _openvino),
             _build_onnx("openvino", int8=False), exported=True),
    PathInfo("openvino_int8", "int8", "the onnxruntime_int8 graph (QDQ), run by OpenVINO",
             _all(_cpu_only("openvino_int8"), _onnxruntime, _openvino),
             _build_onnx("openvino", int8=True), exported=True),
)}
"""Every inference path, by name."""


def _path(path: str) -> PathInfo:
    if path not in PATHS:
        raise PathUnavailableError(f"unknown inference path {path!r}; valid: {', '.join(PATHS)}")
    return PATHS[path]


def needs_calibration(path: str) -> bool:
    """Whether building ``path`` needs calibration images (int8: static quantization
    measures each activation's range on real inputs). "auto" never picks such a path
    unless :func:`optimize_for_inference` is given calibration images."""
    return path in PATHS and PATHS[path].precision == "int8"


def cpu_has_fast_bf16() -> bool:
    """AMX tiles make bf16 convolutions several times faster than fp32; AVX512-BF16
    alone does not (BENCHMARKS.md, the machine note at its top)."""
    return bool(torch.cpu._is_amx_tile_supported())


def unavailable_reason(path: str, device: torch.device | str = "cpu") -> str | None:
    """Why ``path`` cannot run on ``device`` here, or None if it can."""
    return _path(path).requires(torch.device(device))


class InferenceRunner:
    """Runs one path: ``runner(images)`` -> float32 logits, no autograd.

    ``module`` is the underlying torch module (None for onnxruntime)."""

    def __init__(self, path: str, fn: Callable[[torch.Tensor], torch.Tensor],
                 module: nn.Module | None = None) -> None:
        self.path = path
        self.info = PATHS[path]
        self.module = module
        self._fn = fn

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        # Fused conv+ReLU kernels (oneDNN, winograd, bf16) turn NaN into finite logits
        # where eager gives NaN: no path may answer for a broken input, so none runs one.
        if not bool(torch.isfinite(images).all()):
            raise NonFiniteInputError(f"{self.path}: the input images hold NaN or "
                                      "infinite values")
        with torch.no_grad():
            return self._fn(images).float()

    def __repr__(self) -> str:
        return f"InferenceRunner({self.path!r}: {self.info.description})"


def build_path(
    path: str, model: nn.Module, example: torch.Tensor,
    *, calibration: Iterable[torch.Tensor] | None = None, keep_freed_memory: bool = False,
) -> InferenceRunner:
    """The runner for ``path``; ``model`` is not modified. ``example`` is a batch on the
    target device; ``calibration`` (int8 only) yields a few hundred images in batches.
    ``keep_freed_memory``: on the CPU, also make malloc keep freed memory for the next
    batch (:func:`~googlenet.deploy.heap.keep_freed_memory`: process-wide and lasting, the
    process keeps its peak heap; the CLI's inference and training commands turn it on)."""
    info = _path(path)
    reason = info.requires(example.device)
    if reason:
        raise PathUnavailableError(f"path {path}: {reason}")
    if keep_freed_memory and example.device.type == "cpu":
        heap.keep_freed_memory()
    model = model.eval()
    if needs_calibration(path) and calibration is None:
        raise PathUnavailableError(f"path {path}: needs calibration images")
    return info.build(path, model, example, calibration)


def eval_path(precision: str) -> str:
    """The path a training run scores its model on: the fused graph, in bf16 when it
    trains in bf16 (faster than the unfused model under bf16 autocast: BENCHMARKS.md,
    "The preset at 40 epochs, before", ``benchmarks/eval_pass.py``); fp32 stays within
    :data:`FP32_ATOL` of eager, so the numbers mean the same."""
    return "bf16" if precision == "bf16" else "fused"


def _fast_bf16_cpu(device: torch.device) -> bool:
    return device.type != "cuda" and cpu_has_fast_bf16()


def _always(device: torch.device) -> bool:
    return True


@dataclass(frozen=True)
class AutoChoice:
    """One step of ``auto``'s preference: ``path`` if it can run here, ``when`` holds,
    the batch is at most ``max_batch`` (None: any batch; an unknown batch counts as a
    large one), and the caller allows what it costs to build (a compile; an ONNX export;
    calibration images)."""

    path: str
    why: str
    when: Callable[[torch.device], bool] = _always
    max_batch: int | None = None

    def fits(self, batch: int | None) -> bool:
        """Whether this step applies at ``batch`` images a call."""
        return self.max_batch is None or (batch is not None and batch <= self.max_batch)


AUTO_PREFERENCE: tuple[AutoChoice, ...] = (
    AutoChoice("compiled_fp16", "CUDA: half precision, compiled"),
    AutoChoice("fp16", "CUDA: half precision"),
    AutoChoice("compiled_bf16", "a CPU with AMX: bf16 beats fp32", _fast_bf16_cpu),
    AutoChoice("bf16", "a CPU with AMX: bf16 beats fp32", _fast_bf16_cpu),
    AutoChoice("int8", "CPU int8 is the fastest path that meets its tolerance "
               "(BENCHMARKS.md, \"Inference, CPU\")"),
    AutoChoice("compiled", "Inductor's fp32 graph (BENCHMARKS.md, \"Inference, CPU\")"),
    AutoChoice("onnxruntime", "at batch 1 the shortest fp32 latency without a compile, "
               "ahead of winograd (BENCHMARKS.md, \"Against what users would otherwise "
               "run: googlenet_bn eager\")", max_batch=1),
    AutoChoice("winograd", "the fastest fp32 path at batch 32 (BENCHMARKS.md, \"Against "
               "what users would otherwise run: googlenet_bn eager\" and \"The `winograd` "
               "path\")"),
    AutoChoice("onnxruntime", "ahead of fused at batch 1 and 32 (BENCHMARKS.md, \"Against "
               "what users would otherwise run: googlenet_bn eager\")"),
    AutoChoice("fused", "runs everywhere"),
)
"""``auto``'s choice, best first, from ``googlenet bench`` results: the first entry whose
path can run on the device, whose ``when`` and batch condition hold, and whose build the
caller affords. What it minimises is the time of one call at the batch size given, once
built; the build itself counts only through what the caller affords."""


def auto_path(
    device: torch.device | str = "cpu", batch: int | None = None, *,
    allow_compile: bool = False, allow_export: bool = False, can_calibrate: bool = False,
) -> str:
    """The path with the shortest time per call at ``batch`` images (None: a large
    batch) that meets its tolerance on this machine and builds within what the caller
    affords: the first of :data:`AUTO_PREFERENCE` that runs here.

    ``allow_compile``: Inductor paths (a compile of a minute or more on 2 cores, worth it
    for evaluating a dataset, not for a few images). ``allow_export``: the ONNX runtime
    paths, whose build exports the model to ONNX (seconds: worth it when more than one
    batch is to run). ``can_calibrate``: int8 paths, which need calibration images."""
    dev = torch.device(device)
    for choice in AUTO_PREFERENCE:
        info = PATHS[choice.path]
        if info.compiled and not allow_compile:
            continue
        if info.exported and not allow_export:
            continue
        if needs_calibration(choice.path) and not can_calibrate:
            continue
        if choice.fits(batch) and choice.when(dev) and info.requires(dev) is None:
            return choice.path
    return "eager"  # unreachable: "fused" runs everywhere


def optimize_for_inference(
    model: nn.Module, example: torch.Tensor, path: str = "auto",
    *, calibration: Iterable[torch.Tensor] | None = None, allow_compile: bool = False,
    allow_export: bool = False, keep_freed_memory: bool = False,
) -> tuple[InferenceRunner, str]:
    """A fast runner for ``model`` and the name of the path it uses.

    ``path="auto"`` picks with :func:`auto_path` at ``example``'s batch size.
    ``example``: one batch of the inputs to come, on the target device (its height and
    width fix the compiled shapes). ``keep_freed_memory``: see :func:`build_path`.
    """
    if path == "auto":
        path = auto_path(example.device, example.shape[0], allow_compile=allow_compile,
                         allow_export=allow_export, can_calibrate=calibration is not None)
    return build_path(path, model, example, calibration=calibration,
                      keep_freed_memory=keep_freed_memory), path
