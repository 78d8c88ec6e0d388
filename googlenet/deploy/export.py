"""Exports of the inference graph: ONNX (checked by onnxruntime) and ``torch.export``.

Both exports take the model through :func:`fuse_for_inference` first, so the aux heads
are gone and the program returns one tensor, the logits. The batch dimension is dynamic;
height and width are fixed to the example's.
"""

from __future__ import annotations

import copy
import io
import json
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy
import torch
from torch import nn

from ..atomic import atomic_path, writable_file
from ..errors import GoogLeNetError, WeightsError
from ..progress import StageProgress
from .fuse import fuse_for_inference, strip_aux

INPUT_NAME = "images"
OUTPUT_NAME = "logits"
META_FILE = "googlenet_metadata.json"  # the pt2 archive's extra file of weights metadata


class ExportError(GoogLeNetError, RuntimeError):
    """An export that failed or whose output disagrees with the eager model."""


def batch_dim() -> torch.export.Dim:
    """The dynamic batch dimension of every traced program."""
    return torch.export.Dim("batch", min=1, max=4096)


def traceable(example: torch.Tensor) -> torch.Tensor:
    """``example`` with a batch of at least 2: tracing a batch of 1 would specialise the
    batch dimension to the constant 1 (torch.export's 0/1 rule)."""
    return example if example.shape[0] >= 2 else example[:1].expand(2, *example.shape[1:])


def _metadata_strings(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    """Weights metadata (:meth:`WeightsMeta.to_metadata`) as the str -> str map ONNX
    ``metadata_props`` and the pt2 archive carry: strings as they are, the rest JSON."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()}


def inference_graph(model: nn.Module, example: torch.Tensor, fuse: bool = True) -> nn.Module:
    """The module the exports trace: fused (default) or the model itself without aux heads."""
    if fuse:
        return fuse_for_inference(model, example, "graph")
    return strip_aux(copy.deepcopy(model)).eval()


EXPORT_STAGES = ("fusing", "tracing", "saving")
"""The steps :func:`export_program` and :func:`export_onnx` mark on a ``progress`` bar."""


def export_program(
    model: nn.Module, path: str | Path, example: torch.Tensor, *, fuse: bool = True,
    metadata: Mapping[str, Any] | None = None, progress: StageProgress | None = None,
) -> Path:
    """Save a ``torch.export`` program (``.pt2``) of the inference graph; returns the path.

    ``metadata`` (the weights' classes, preprocessing, recipe) goes into the archive as
    the extra file :data:`META_FILE`, read back by :func:`read_program_metadata`. Load the
    program with :func:`load_program`; it needs torch, not this package. ``progress``
    is the caller's stage bar, on which the :data:`EXPORT_STAGES` are marked.
    """
    path = writable_file(path, "model.pt2")
    bar = progress or StageProgress(len(EXPORT_STAGES), enabled=False)
    bar.stage("fusing")
    graph = inference_graph(model, example, fuse)
    bar.stage("tracing")
    with torch.no_grad():
        program = torch.export.export(graph, (traceable(example),),
                                      dynamic_shapes=({0: batch_dim()},))
    bar.stage("saving")
    extra = {META_FILE: json.dumps(_metadata_strings(metadata))}
    # Into memory first: torch.export.save writing a file aborts the interpreter from
    # C++ when the disk is full, where Python's own write raises a catchable OSError.
    buffer = io.BytesIO()
    torch.export.save(program, buffer, extra_files=extra)
    with atomic_path(path, suffix=path.suffix) as tmp:
        tmp.write_bytes(buffer.getbuffer())
    return path


@torch.no_grad()
def check_program(
    model: nn.Module, path: str | Path, images: torch.Tensor, atol: float = 1e-4
) -> float:
    """Max abs logit difference between the reloaded program at ``path`` and eager
    ``model``; raises :class:`ExportError` above ``atol`` or when it is NaN."""
    model = model.eval()
    diff = float((load_program(path)(images) - model(images)).float().abs().max())
    if not diff <= atol:
        raise ExportError(f"{path}: the reloaded program's logits differ from eager by "
                          f"{diff:.3g} (> {atol:g})")
    return diff


def read_program_metadata(path: str | Path) -> dict[str, str]:
    """The metadata :func:`export_program` stored in a ``.pt2`` file."""
    extra: dict[str, Any] = {META_FILE: ""}
    try:
        torch.export.load(path, extra_files=extra)
    except Exception as err:  # a corrupt zip, another torch's format, ...
        raise WeightsError(f"{path}: not a torch.export program ({type(err).__name__})") from None
    return dict(json.loads(extra[META_FILE] or "{}"))


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
    model: nn.Module, path: str | Path, example: torch.Tensor, *, fuse: bool = True,
    metadata: Mapping[str, Any] | None = None, progress: StageProgress | None = None,
) -> Path:
    """Write an ONNX model (input ``images``, output ``logits``) of the inference graph.

    ``metadata`` (the weights' classes, preprocessing, recipe) becomes the model's
    ``metadata_props``, so an ONNX runtime user knows how to feed it and name its
    outputs (non-string values as JSON). ``progress`` is the caller's stage bar, on
    which the :data:`EXPORT_STAGES` are marked (the ONNX exporter writes the graph as
    it traces; "saving" adds the metadata and moves the file into place)."""
    path = writable_file(path, "model.onnx")
    bar = progress or StageProgress(len(EXPORT_STAGES), enabled=False)
    bar.stage("fusing")
    graph = inference_graph(model, example, fuse)
    # The ONNX exporter warns about every torchvision op it cannot find; none are used.
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with atomic_path(path, suffix=path.suffix) as tmp:
        bar.stage("tracing")
        with torch.no_grad():
            torch.onnx.export(
                graph, (traceable(example),), str(tmp), dynamo=True, input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME], dynamic_shapes=({0: batch_dim()},),
                external_data=False, verbose=False,
            )
        bar.stage("saving")
        if metadata:
            import onnx  # optional: the onnx extra

            proto = onnx.load(str(tmp))
            for key, value in _metadata_strings(metadata).items():
                proto.metadata_props.add(key=key, value=value)
            onnx.save(proto, str(tmp))
    return path


def read_onnx_metadata(path: str | Path) -> dict[str, str]:
    """The ``metadata_props`` of an ONNX file."""
    import onnx  # optional: the onnx extra

    return {p.key: p.value for p in onnx.load(str(path), load_external_data=False)
            .metadata_props}


def onnx_session(
    path: str | Path, threads: int | None = None, *, profile_prefix: str | Path | None = None,
    content: bytes | None = None,
) -> Any:
    """An onnxruntime CPU session on the ONNX model at ``path`` (``threads``: torch's
    count by default). ``profile_prefix``: record onnxruntime's per-node profile, written
    under that prefix by ``session.end_profiling()``. ``content``: the file's bytes,
    read before, for a session made after the file is gone."""
    try:
        import onnxruntime as ort  # optional: the onnx extra
    except ImportError:
        raise ExportError("onnxruntime is not installed: pip install 'googlenet[onnx]'") from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.log_severity_level = 3
    if profile_prefix is not None:
        options.enable_profiling = True
        options.profile_file_prefix = str(profile_prefix)
    try:
        return ort.InferenceSession(str(path) if content is None else content, options,
                                    providers=["CPUExecutionProvider"])
    except Exception as err:
        raise WeightsError(f"{path}: onnxruntime cannot load it ({type(err).__name__})") from None


def batch_slices(images: torch.Tensor, threads: int) -> list[numpy.ndarray]:
    """``images`` as float32 NCHW arrays for the runtimes' runners: one slice per thread
    when the batch has at least ``threads`` images, else the whole batch as one.

    The onnxruntime and OpenVINO runners run each slice single-threaded, side by side.
    One session on all threads waits for its slowest thread after every node, and the
    pools, concats and small convolutions of an Inception block split poorly
    (``benchmarks/int8_anatomy.py`` times both ways); a batch smaller than the thread
    count, batch-1 latency first, runs as one on all threads."""
    array = images.detach().float().contiguous().cpu().numpy()
    if threads == 1 or len(array) < threads:
        return [array]
    return [numpy.ascontiguousarray(part) for part in numpy.array_split(array, threads)]


def onnx_session_runner(
    path: str | Path, threads: int | None = None
) -> Callable[[torch.Tensor], torch.Tensor]:
    """A function running the ONNX model at ``path`` in onnxruntime on CPU: NCHW float
    tensor in, float32 logits tensor out. Slices of a batch (:func:`batch_slices`) run
    in single-threaded sessions, one per thread, each holding its own packed weights."""
    threads = threads or torch.get_num_threads()
    whole = onnx_session(path, threads)
    content = Path(path).read_bytes() if threads > 1 else None  # callers may delete it
    slices: list[Any] = []  # the single-threaded sessions, made at the first large batch
    pool: ThreadPoolExecutor | None = None

    def run_one(session: Any, array: numpy.ndarray) -> Any:
        return session.run([OUTPUT_NAME], {INPUT_NAME: array})[0]

    def run(images: torch.Tensor) -> torch.Tensor:
        nonlocal pool
        parts = batch_slices(images, threads)
        if len(parts) == 1:
            return torch.from_numpy(run_one(whole, parts[0]))
        if pool is None:
            slices.extend(onnx_session(path, 1, content=content) for _ in range(threads))
            pool = ThreadPoolExecutor(threads, thread_name_prefix="onnxruntime")
        return torch.from_numpy(numpy.concatenate(list(pool.map(run_one, slices, parts))))

    return run


@torch.no_grad()
def check_onnx(
    model: nn.Module, path: str | Path, images: torch.Tensor, atol: float = 1e-4
) -> float:
    """Max abs logit difference between onnxruntime on ``path`` and eager ``model``;
    raises :class:`ExportError` above ``atol``."""
    model = model.eval()
    diff = float((onnx_session_runner(path)(images) - model(images).float().cpu()).abs().max())
    if not diff <= atol:  # NaN logits are no match either
        raise ExportError(f"{path}: onnxruntime logits differ from eager by {diff:.3g} "
                          f"(> {atol:g})")
    return diff
