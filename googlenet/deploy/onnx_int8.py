"""Static int8 quantization of the exported ONNX graph by onnxruntime (QDQ format).

onnxruntime's quantizer puts QuantizeLinear/DequantizeLinear pairs around every
convolution, pool and concat, with ranges calibrated (min/max) on real inputs; when the
session loads, onnxruntime fuses each DQ -> op -> Q group into one int8 kernel (MLAS,
with VNNI on x86). Activations are uint8 and weights int8 per output channel, what
onnxruntime advises for x86 CPUs with VNNI. The last linear layer stays float, as on the
PT2E path (:func:`googlenet.deploy.quantize.float_layer_choices`): it decides the class.
ONNX keeps every pool's ceil mode, which Inductor's int8 pools lose (see
:class:`googlenet.deploy.fuse.FloorModeMaxPool2d`).

Two passes follow the quantizer:
- every Inception block's concat gets one scale for its inputs and its output
  (:func:`share_concat_scales`), as TensorRT does: onnxruntime's QLinearConcat then
  copies bytes instead of requantizing each branch through a lookup table;
- the float classifier's bias absorbs the mean logit error of the int8 graph on the
  calibration images (:func:`correct_classifier_bias`, empirical bias correction as in
  Nagel et al., "Data-Free Quantization", 2019, applied at the last layer only).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy
import torch

from ..errors import GoogLeNetError
from .export import INPUT_NAME, OUTPUT_NAME, onnx_session

if TYPE_CHECKING:
    import onnx


def _graph_nodes(path: Path) -> list[onnx.NodeProto]:
    import onnx  # optional: the onnx extra

    return list(onnx.load(str(path), load_external_data=False).graph.node)


def _classifier_nodes(path: Path) -> list[str]:
    """The name of the graph's last Gemm/MatMul node (the classifier), if any."""
    return [n.name for n in _graph_nodes(path) if n.op_type in ("Gemm", "MatMul")][-1:]


def quantize_onnx_int8(source: str | Path, target: str | Path,
                       calibration: Iterable[torch.Tensor], *, share_scales: bool = True,
                       correct_bias: bool = True) -> Path:
    """Write ``target``: the ONNX model ``source`` (from
    :func:`googlenet.deploy.export.export_onnx`) with static int8 quantization
    calibrated on ``calibration``, batches of NCHW float images as the model takes them.
    ``share_scales``, ``correct_bias``: the two passes after the quantizer (module
    docstring); off, the quantizer's own output."""
    from onnxruntime.quantization import (  # optional: the onnx extra
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    batches = [b.detach().float().cpu().contiguous().numpy() for b in calibration]
    if not batches:
        raise GoogLeNetError("int8 calibration got no batches: pass a few hundred images")

    class Batches(CalibrationDataReader):  # type: ignore[misc]  # onnxruntime is untyped
        def __init__(self) -> None:
            self.left = list(batches)

        def get_next(self) -> dict[str, object] | None:
            return {INPUT_NAME: self.left.pop(0)} if self.left else None

    source, target = Path(source), Path(target)
    # Shape inference and onnxruntime's graph clean-up first, as its quantizer advises.
    prepared = target.with_name(target.stem + ".prepared.onnx")
    quant_pre_process(str(source), str(prepared))
    try:
        quantize_static(str(prepared), str(target), Batches(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8,
                        nodes_to_exclude=_classifier_nodes(prepared))
    finally:
        prepared.unlink(missing_ok=True)
    if share_scales and not any(n.op_type == "Clip" for n in _graph_nodes(source)):
        share_concat_scales(target)
    if correct_bias:
        correct_classifier_bias(source, target, batches)
    return target


def correct_classifier_bias(source: str | Path, target: str | Path,
                            batches: list[numpy.ndarray]) -> float:
    """Subtract from the bias of ``target``'s classifier (its float Gemm writing the
    logits) the mean difference between its logits and the float model ``source``'s on
    ``batches``; rewrites ``target`` in place and returns the norm of the correction
    (0.0 when the graph ends otherwise).

    Most of the int8 error in the logits is one offset shared by every image: 93% of
    its norm on a random-init googlenet_bn, whose near-tied logits it reordered for 4%
    of images (``benchmarks/int8_anatomy.py`` measures it). The classifier is float, so
    the offset comes off exactly, and only what the calibration images share is removed."""
    import onnx  # optional: the onnx extra
    from onnx import numpy_helper  # optional: the onnx extra

    model = onnx.load(str(target))
    initializers = {i.name: i for i in model.graph.initializer}
    gemm = next((n for n in model.graph.node if n.op_type == "Gemm"
                 and list(n.output) == [OUTPUT_NAME]), None)
    if gemm is None or (len(gemm.input) > 2 and gemm.input[2] not in initializers):
        return 0.0
    beta = next((a.f for a in gemm.attribute if a.name == "beta"), 1.0)

    def logits(path: str | Path) -> numpy.ndarray:
        session = onnx_session(path)
        return numpy.concatenate([session.run([OUTPUT_NAME], {INPUT_NAME: b})[0]
                                  for b in batches])

    offset = (logits(target) - logits(source)).mean(axis=0)
    if len(gemm.input) < 3:  # the exporter drops an all-zero bias
        name = f"{gemm.name}.bias"
        model.graph.initializer.append(numpy_helper.from_array(
            numpy.zeros(offset.shape, numpy.float32), name))
        gemm.input.append(name)
        initializers[name] = model.graph.initializer[-1]
    bias = initializers[gemm.input[2]]
    corrected = numpy_helper.to_array(bias) - offset / beta
    bias.CopyFrom(numpy_helper.from_array(corrected.astype(numpy.float32), bias.name))
    onnx.save(model, str(target))
    return float(numpy.linalg.norm(offset))


def share_concat_scales(path: str | Path) -> int:
    """Give each concat, and the pools and splits joined to it, one activation scale,
    rewriting the QDQ model at ``path`` in place; returns how many scales changed.

    Tensors whose Q/DQ parameters meet at a Concat, MaxPool or Split form a group, which
    takes its largest scale: no value is clipped, and a concat's own calibrated range
    already covers its inputs', so the concat keeps its precision and the branches give
    up some of theirs. Only groups whose ranges all start at 0 are merged (zero point at
    the type's minimum: tensors after a ReLU). The quantizer drops a ReLU or Clip and
    lets the Q node's saturation do its work, so moving a range's lower end would undo
    a ReLU; callers keep graphs with a Clip (ReLU6, whose top end is a clamp too) away."""
    import onnx  # optional: the onnx extra
    from onnx import numpy_helper  # optional: the onnx extra

    model = onnx.load(str(path))
    graph = model.graph
    initializers = {i.name: i for i in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def qparams(node: onnx.NodeProto) -> tuple[str, str] | None:
        if len(node.input) == 3 and all(n in initializers for n in node.input[1:]):
            return node.input[1], node.input[2]
        return None

    def joined(node: onnx.NodeProto) -> list[tuple[str, str]]:
        found = [qparams(producer[name]) for name in node.input if name in producer
                 and producer[name].op_type == "DequantizeLinear"]
        found += [qparams(c) for out in node.output for c in consumers.get(out, [])
                  if c.op_type == "QuantizeLinear"]
        return [q for q in found if q is not None]

    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def root(key: tuple[str, str]) -> tuple[str, str]:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    for node in graph.node:
        if node.op_type in ("Concat", "MaxPool", "Split"):
            keys = joined(node)
            for key in keys[1:]:
                parent[root(key)] = root(keys[0])
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for key in parent:
        groups.setdefault(root(key), []).append(key)

    def value(name: str) -> numpy.ndarray:
        return numpy_helper.to_array(initializers[name])

    changed = 0
    for members in groups.values():
        points = [value(zp) for _, zp in members]
        if any(p.size != 1 or p.dtype != points[0].dtype
               or int(p) != numpy.iinfo(p.dtype).min for p in points):
            continue  # a range that does not start at 0, or per-channel parameters
        top = max(float(value(s)) for s, _ in members)
        for scale, _ in members:
            if float(value(scale)) != top:
                initializers[scale].CopyFrom(numpy_helper.from_array(
                    numpy.array(top, dtype=value(scale).dtype), scale))
                changed += 1
    onnx.save(model, str(path))
    return changed
