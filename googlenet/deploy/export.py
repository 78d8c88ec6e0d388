"""Exports of the inference graph: ONNX (checked by onnxruntime) and ``torch.export``.

Both exports take the model through :func:`fuse_for_inference` first, so the aux heads
are gone and the program returns one tensor, the logits. The batch dimension is dynamic;
height and width are fixed to the example's.
"""

from __future__ import annotations

import copy
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from ..errors import GoogLeNetError, WeightsError
from ..weights._atomic import check_output_file
from .fuse import fuse_for_inference, strip_aux

INPUT_NAME = "images"
OUTPUT_NAME = "logits"


class ExportError(GoogLeNetError, RuntimeError):
    """An export that failed or whose output disagrees with the eager model."""


def batch_dim() -> torch.export.Dim:
    """The dynamic batch dimension of every traced program."""
    return torch.export.Dim("batch", min=1, max=4096)


def traceable(example: torch.Tensor) -> torch.Tensor:
    """``example`` with a batch of at least 2: tracing a batch of 1 would specialise the
    batch dimension to the constant 1 (torch.export's 0/1 rule)."""
    return example if example.shape[0] >= 2 else example[:1].expand(2, *example.shape[1:])


def _atomic_target(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    check_output_file(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    return Path(tmp)


def inference_graph(model: nn.Module, example: torch.Tensor, fuse: bool = True) -> nn.Module:
    """The module the exports trace: fused (default) or the model itself without aux heads."""
    if fuse:
        return fuse_for_inference(model, example, "graph")
    return strip_aux(copy.deepcopy(model)).eval()


def export_program(
    model: nn.Module, path: str | Path, example: torch.Tensor, *, fuse: bool = True
) -> Path:
    """Save a ``torch.export`` program (``.pt2``) of the inference graph; returns the path.

    Load it with :func:`load_program`; it needs torch, not this package.
    """
    path = Path(path)
    graph = inference_graph(model, example, fuse)
    with torch.no_grad():
        program = torch.export.export(graph, (traceable(example),),
                                      dynamic_shapes=({0: batch_dim()},))
    tmp = _atomic_target(path)
    try:
        torch.export.save(program, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_program(path: str | Path) -> nn.Module:
    """The callable module of a ``.pt2`` saved by :func:`export_program`."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such exported program")
    try:
        return torch.export.load(path).module()
    except Exception as err:  # a corrupt zip, another torch's format, ...
        raise WeightsError(f"{path}: not a torch.export program ({type(err).__name__})") from None


def export_onnx(
    model: nn.Module, path: str | Path, example: torch.Tensor, *, fuse: bool = True
) -> Path:
    """Write an ONNX model (input ``images``, output ``logits``) of the inference graph."""
    path = Path(path)
    graph = inference_graph(model, example, fuse)
    # The ONNX exporter warns about every torchvision op it cannot find; none are used.
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    tmp = _atomic_target(path)
    try:
        with torch.no_grad():
            torch.onnx.export(
                graph, (traceable(example),), str(tmp), dynamo=True, input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME], dynamic_shapes=({0: batch_dim()},),
                external_data=False, verbose=False,
            )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def onnx_session_runner(
    path: str | Path, threads: int | None = None
) -> Callable[[torch.Tensor], torch.Tensor]:
    """A function running the ONNX model at ``path`` in onnxruntime on CPU: NCHW float
    tensor in, float32 logits tensor out."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise ExportError("onnxruntime is not installed: pip install 'googlenet[onnx]'") from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as err:
        raise WeightsError(f"{path}: onnxruntime cannot load it ({type(err).__name__})") from None

    def run(images: torch.Tensor) -> torch.Tensor:
        array = images.detach().float().contiguous().cpu().numpy()
        return torch.from_numpy(session.run([OUTPUT_NAME], {INPUT_NAME: array})[0])

    return run


@torch.no_grad()
def check_onnx(
    model: nn.Module, path: str | Path, images: torch.Tensor, atol: float = 1e-4
) -> float:
    """Max abs logit difference between onnxruntime on ``path`` and eager ``model``;
    raises :class:`ExportError` above ``atol``."""
    model = model.eval()
    diff = (onnx_session_runner(path)(images) - model(images).float().cpu()).abs().max().item()
    if diff > atol:
        raise ExportError(f"{path}: onnxruntime logits differ from eager by {diff:.3g} "
                          f"(> {atol:g})")
    return diff
