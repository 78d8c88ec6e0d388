"""Inference paths and ``optimize_for_inference``.

A *path* is one way of running a trained model: the eager fp32 NCHW baseline, the fused
graph in channels_last, lower precision, Inductor-compiled, int8, onnxruntime,
OpenVINO. Each builds an :class:`InferenceRunner`: NCHW float images in, float32 logits
out, whatever happens inside. Each path has a tolerance against the eager model
(:data:`PATHS`), which the tests and ``googlenet bench`` check.
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

from ..errors import GoogLeNetError
from . import native
from .export import export_onnx, onnx_session_runner
from .fuse import FuseTarget, fuse_for_inference, strip_aux
from .heap import keep_freed_memory
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


@dataclass(frozen=True)
class PathInfo:
    """What a path does and how it is checked against the eager model."""

    name: str
    precision: Precision
    description: str
    compiled: bool = False

    @property
    def tolerance(self) -> str:
        if self.precision == "fp32":
            return f"max |logit diff| <= {FP32_ATOL:g}"
        return f"top-1 agreement >= {TOP1_AGREEMENT:.0%}"


PATHS: dict[str, PathInfo] = {p.name: p for p in (
    PathInfo("eager", "fp32", "the model as trained: eager, fp32, NCHW (the baseline)"),
    PathInfo("channels_last", "fp32", "the model as trained, channels_last"),
    PathInfo("fused", "fp32", "BN folded, Inception 1x1s merged, LRN as matmul, channels_last"),
    PathInfo("winograd", "fp32", "fused, with this package's AVX-512 kernels (built with "
             "the C compiler on first use): 3x3 convolutions by Winograd F(4x4,3x3), "
             "max pooling without indices"),
    PathInfo("bf16", "bf16", "fused, bf16 weights and activations"),
    PathInfo("fp16", "fp16", "fused, fp16 weights and activations (CUDA)"),
    PathInfo("compiled", "fp32", "fused, torch.compile with freezing", compiled=True),
    PathInfo("compiled_bf16", "bf16", "fused, bf16, torch.compile with freezing",
             compiled=True),
    PathInfo("compiled_fp16", "fp16", "fused, fp16, torch.compile with freezing (CUDA)",
             compiled=True),
    PathInfo("int8", "int8", "fused for int8 (1x1s unmerged), PT2E int8 "
             "(X86InductorQuantizer), compiled with freezing", compiled=True),
    PathInfo("onnxruntime", "fp32", "fused graph exported to ONNX, run by onnxruntime"),
    PathInfo("onnxruntime_int8", "int8", "fused graph exported to ONNX, static int8 (QDQ) "
             "by onnxruntime's quantizer, run by onnxruntime"),
    PathInfo("openvino", "fp32", "fused graph exported to ONNX, run by OpenVINO"),
    PathInfo("openvino_int8", "int8", "the onnxruntime_int8 graph (QDQ), run by OpenVINO"),
)}


ONNX_PATHS = ("onnxruntime", "onnxruntime_int8", "openvino", "openvino_int8")
"""The paths that run the ONNX export, in onnxruntime or OpenVINO."""


class PathUnavailableError(GoogLeNetError, RuntimeError):
    """A path this machine or installation cannot run."""


def needs_calibration(path: str) -> bool:
    """Whether building ``path`` needs calibration images (int8: static quantization
    measures each activation's range on real inputs). "auto" never picks such a path
    unless :func:`optimize_for_inference` is given calibration images."""
    return path in PATHS and PATHS[path].precision == "int8"


def cpu_has_fast_bf16() -> bool:
    """AMX tiles make bf16 convolutions several times faster than fp32; AVX512-BF16
    alone does not (measured: bf16 matmuls ran at ~0.6x fp32 on such a CPU)."""
    return bool(torch.cpu._is_amx_tile_supported())


def unavailable_reason(path: str, device: torch.device | str = "cpu") -> str | None:
    """Why ``path`` cannot run on ``device`` here, or None if it can."""
    if path not in PATHS:
        raise PathUnavailableError(f"unknown inference path {path!r}; valid: {', '.join(PATHS)}")
    cuda = torch.device(device).type == "cuda"
    info = PATHS[path]
    if info.precision == "fp16" and not cuda:
        return "fp16 is for CUDA (CPU fp16 convolutions are slow)"
    if info.precision == "bf16" and not cuda and not torch.cpu._is_avx512_bf16_supported():
        return "this CPU has no bf16 instructions"
    if (path in ("int8", "winograd") or path in ONNX_PATHS) and cuda:
        return f"{path} runs on CPU here"
    if path == "int8" and not pt2e_available():
        return "PT2E quantization needs torchao (pip install torchao)"
    if path in ONNX_PATHS:
        try:
            import onnxruntime  # noqa: F401  # exports check with it; int8 quantizes with it
        except ImportError:
            return "onnxruntime is not installed"
    if path.startswith("openvino") and not openvino_available():
        return "OpenVINO is not installed (pip install 'googlenet[openvino]')"
    if path == "winograd":
        return native.unavailable_reason()
    return None


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
        with torch.no_grad():
            return self._fn(images).float()

    def __repr__(self) -> str:
        return f"InferenceRunner({self.path!r}: {self.info.description})"


def _cl(x: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    x = x.to(dtype) if dtype is not None else x
    return x.contiguous(memory_format=torch.channels_last)


def to_channels_last(module: nn.Module) -> nn.Module:
    """``module`` with its 4-d parameters and buffers in channels_last, in place."""
    return module.to(memory_format=torch.channels_last)  # type: ignore[call-overload,no-any-return]  # Module.to takes memory_format; the stubs do not list it


def _module_runner(path: str, module: nn.Module, dtype: torch.dtype | None) -> InferenceRunner:
    return InferenceRunner(path, lambda x: module(_cl(x, dtype)), module)


def build_path(
    path: str, model: nn.Module, example: torch.Tensor,
    *, calibration: Iterable[torch.Tensor] | None = None,
) -> InferenceRunner:
    """The runner for ``path``; ``model`` is not modified. ``example`` is a batch on the
    target device; ``calibration`` (int8 only) yields a few hundred images in batches.
    On the CPU it also makes malloc keep freed memory for the next batch
    (:func:`~googlenet.deploy.heap.keep_freed_memory`, process-wide)."""
    reason = unavailable_reason(path, example.device)
    if reason:
        raise PathUnavailableError(f"path {path}: {reason}")
    if example.device.type == "cpu":
        keep_freed_memory()
    model = model.eval()
    if needs_calibration(path) and calibration is None:
        raise PathUnavailableError(f"path {path}: needs calibration images")
    if path == "eager":
        return InferenceRunner(path, model, model)
    if path in ONNX_PATHS:
        return _onnx_runner(path, model, example, calibration)
    if path == "channels_last":
        module = to_channels_last(strip_aux(copy.deepcopy(model)))
        return _module_runner(path, module, None)
    target: FuseTarget = ("int8" if needs_calibration(path)
                          else "graph" if PATHS[path].compiled else "eager")
    fused = to_channels_last(fuse_for_inference(model, example, target))
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(PATHS[path].precision)
    if dtype is not None:
        fused = fused.to(dtype)
    if path == "winograd":
        use_winograd(fused)
        use_native_pools(fused)
    if path in ("fused", "winograd", "bf16", "fp16"):
        return _module_runner(path, fused, dtype)
    if path in ("compiled", "compiled_bf16", "compiled_fp16"):
        return _module_runner(path, compile_frozen(fused), dtype)
    assert calibration is not None  # int8, checked above
    quantized = quantize_int8(fused, (_cl(b) for b in calibration), _cl(example))
    return _module_runner(path, quantized, None)


def _onnx_runner(path: str, model: nn.Module, example: torch.Tensor,
                 calibration: Iterable[torch.Tensor] | None) -> InferenceRunner:
    """onnxruntime or OpenVINO on the exported graph, int8-quantized (by onnxruntime's
    quantizer) for the int8 paths; the files live until the runtime has read them."""
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = export_onnx(model, Path(tmp) / "model.onnx", example.cpu())
        if needs_calibration(path):
            assert calibration is not None  # build_path checks it
            onnx_path = quantize_onnx_int8(onnx_path, Path(tmp) / "model.int8.onnx",
                                           calibration)
        runtime = openvino_runner if path.startswith("openvino") else onnx_session_runner
        run = runtime(onnx_path)
    return InferenceRunner(path, run)


def eval_path(precision: str) -> str:
    """The path a training run scores its model on: the fused graph, in bf16 when it
    trains in bf16. For the 28x28 ``fmnist-fast`` model one pass over the 10k test images
    runs 1.3x (random init) to 1.9x (trained) as fast as the unfused model under bf16
    autocast (``benchmarks/eval_pass.py``); fp32 stays within :data:`FP32_ATOL` of eager,
    so the numbers mean the same."""
    return "bf16" if precision == "bf16" else "fused"


def auto_path(
    device: torch.device | str = "cpu", *, allow_compile: bool = False,
    can_calibrate: bool = False,
) -> str:
    """The fastest path meeting its tolerance on this machine, from ``googlenet bench``
    results: Inductor paths only when the caller can afford a compile (a minute or more
    on 2 cores, worth it for evaluating a dataset, not for a few images)."""
    if torch.device(device).type == "cuda":
        return "compiled_fp16" if allow_compile else "fp16"
    if cpu_has_fast_bf16():
        return "compiled_bf16" if allow_compile else "bf16"
    if allow_compile and can_calibrate and unavailable_reason("int8") is None:
        return "int8"
    if allow_compile:
        return "compiled"
    # winograd ran googlenet_bn 1.19-1.26x as fast as fused at batch 32, googlenet_mnist
    # 1.23x at batch 256, and at batch 1 as fast (BENCHMARKS.md); it needs a C compiler.
    return "winograd" if unavailable_reason("winograd") is None else "fused"


def optimize_for_inference(
    model: nn.Module, example: torch.Tensor, path: str = "auto",
    *, calibration: Iterable[torch.Tensor] | None = None, allow_compile: bool = False,
) -> tuple[InferenceRunner, str]:
    """A fast runner for ``model`` and the name of the path it uses.

    ``path="auto"`` picks with :func:`auto_path`. ``example``: one batch of the inputs
    to come, on the target device (its height and width fix the compiled shapes).
    """
    if path == "auto":
        path = auto_path(example.device, allow_compile=allow_compile,
                         can_calibrate=calibration is not None)
    return build_path(path, model, example, calibration=calibration), path
