"""Static int8 quantization of the exported ONNX graph by onnxruntime (QDQ format).

onnxruntime's quantizer puts QuantizeLinear/DequantizeLinear pairs around every
convolution, pool and concat, with ranges calibrated (min/max) on real inputs; when the
session loads, onnxruntime fuses each DQ -> op -> Q group into one int8 kernel (MLAS,
with VNNI on x86). Activations are uint8 and weights int8 per output channel, what
onnxruntime advises for x86 CPUs with VNNI. The last linear layer stays float, as on the
PT2E path (:func:`googlenet.deploy.quantize.float_layer_choices`): it decides the class.
ONNX keeps every pool's ceil mode, which Inductor's int8 pools lose (see
:class:`googlenet.deploy.fuse.FloorModeMaxPool2d`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch

from ..errors import GoogLeNetError
from .export import INPUT_NAME


def _classifier_nodes(path: Path) -> list[str]:
    """The name of the graph's last Gemm/MatMul node (the classifier), if any."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return [n.name for n in graph.node if n.op_type in ("Gemm", "MatMul")][-1:]


def quantize_onnx_int8(source: str | Path, target: str | Path,
                       calibration: Iterable[torch.Tensor]) -> Path:
    """Write ``target``: the ONNX model ``source`` (from
    :func:`googlenet.deploy.export.export_onnx`) with static int8 quantization
    calibrated on ``calibration``, batches of NCHW float images as the model takes them."""
    from onnxruntime.quantization import (
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
    return target
