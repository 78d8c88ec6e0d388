"""OpenVINO on CPU: the ONNX export (fp32, or the int8 QDQ graph of
:func:`googlenet.deploy.onnx_int8.quantize_onnx_int8`) compiled by Intel's inference
runtime.

OpenVINO reads the QDQ pairs onnxruntime's quantizer writes as its own fake-quantize
nodes and runs the operations between them in int8 (oneDNN's kernels, VNNI on x86). The
slices of a batch (:func:`googlenet.deploy.export.batch_slices`) run in single-threaded
*streams*, side by side; a batch too small to slice runs as one request on all threads.
Each slice size is compiled once, for that static shape (a fraction of a second).
"""

from __future__ import annotations

import ctypes
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy
import torch

from ..errors import WeightsError
from .export import batch_slices

MAX_SHAPES = 8
"""Compiled static shapes kept per runner (a new batch size compiles again)."""


class _SignalStack(ctypes.Structure):
    _fields_ = [("sp", ctypes.c_void_p), ("flags", ctypes.c_int), ("size", ctypes.c_size_t)]


@contextmanager
def _calling_thread_signal_stack() -> Iterator[None]:
    """Put back the calling thread's alternate signal stack after OpenVINO code.

    OpenVINO 2026.4 installs a small alternate signal stack on a thread that runs
    inference and puts back the one it found when the objects go. Two runners torn down
    in another order than they were made leave the thread with a freed stack, and the
    next signal handled on it (Python's handlers run on it: SA_ONSTACK), a Ctrl-C for
    instance, crashed the process. Outside its own calls OpenVINO needs no such stack."""
    if sys.platform != "linux":
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    saved = _SignalStack()
    libc.sigaltstack(None, ctypes.byref(saved))
    try:
        yield
    finally:
        libc.sigaltstack(ctypes.byref(saved), None)


def openvino_available() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def openvino_runner(
    path: str | Path, threads: int | None = None
) -> Callable[[torch.Tensor], torch.Tensor]:
    """A function running the ONNX model at ``path`` in OpenVINO on CPU: NCHW float tensor
    in, float32 logits tensor out. The model is read now; the file may go afterwards."""
    import openvino  # optional: the openvino extra

    threads = threads or torch.get_num_threads()
    core = openvino.Core()
    try:
        with _calling_thread_signal_stack():
            model = core.read_model(str(path))
    except Exception as err:  # OpenVINO raises its own RuntimeError subclasses
        raise WeightsError(f"{path}: OpenVINO cannot read it ({type(err).__name__})") from None
    compiled: dict[tuple[tuple[int, ...], int], tuple[Any, list[Any]]] = {}

    def requests(shape: tuple[int, ...], streams: int, count: int) -> list[Any]:
        """``count`` infer requests of the model compiled for ``shape`` with ``streams``
        streams (requests are kept with it and reused)."""
        key = (shape, streams)
        if key not in compiled:
            if len(compiled) >= MAX_SHAPES:
                compiled.clear()
            static = model.clone()
            static.reshape(list(shape))
            # OpenVINO would run float layers in bf16 on a CPU with bf16 instructions; the
            # fp32 path is held to fp32's tolerance.
            program = core.compile_model(static, "CPU", {
                "INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": streams,
                "INFERENCE_PRECISION_HINT": "f32"})
            compiled[key] = (program, [])
        program, pool = compiled[key]
        while len(pool) < count:
            pool.append(program.create_infer_request())
        return pool[:count]

    def run(images: torch.Tensor) -> torch.Tensor:
        parts = batch_slices(images, threads)
        with _calling_thread_signal_stack():
            if len(parts) == 1:
                (request,) = requests(parts[0].shape, 1, 1)
                return torch.from_numpy(request.infer({0: parts[0]})[0].copy())
            free = {shape: requests(shape, threads, count)
                    for shape, count in Counter(p.shape for p in parts).items()}
            started = [free[p.shape].pop() for p in parts]
            for request, part in zip(started, parts, strict=True):
                request.start_async({0: part})
            for request in started:
                request.wait()
            return torch.from_numpy(numpy.concatenate(
                [request.get_output_tensor(0).data for request in started]))

    return run
