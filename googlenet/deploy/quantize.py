"""int8 post-training quantization through PT2E and the x86 Inductor backend.

Since torch 2.10 the PT2E flow (``prepare_pt2e``/``convert_pt2e``, ``X86InductorQuantizer``)
lives in ``torchao`` rather than ``torch.ao.quantization``; both locations are tried so the
code runs on older torch too. The eager and FX quantization APIs are deprecated and not
used. The quantized graph only becomes fast once Inductor lowers it (``compile=True``).
"""

from __future__ import annotations

import importlib
import logging
import warnings
from collections.abc import Iterable
from types import ModuleType

import torch
from torch import nn

from ..errors import GoogLeNetError
from .export import batch_dim, traceable
from .inductor import compile_frozen

_PT2E = ("torchao.quantization.pt2e.quantize_pt2e", "torch.ao.quantization.quantize_pt2e")
_X86 = ("torchao.quantization.pt2e.quantizer.x86_inductor_quantizer",
        "torch.ao.quantization.quantizer.x86_inductor_quantizer")


class QuantizationUnavailableError(GoogLeNetError, RuntimeError):
    """Neither torchao nor torch.ao provides the PT2E quantization flow."""


class CompiledInt8Error(GoogLeNetError, RuntimeError):
    """Inductor's compiled int8 graph changes the decisions of its quantized graph."""


def _import_first(names: tuple[str, ...]) -> ModuleType:
    # torchao logs a warning per CUDA extension it cannot load on a CPU-only torch.
    quiet = logging.getLogger("torchao")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        for name in names:
            try:
                return importlib.import_module(name)
            except ImportError:
                continue
    finally:
        quiet.setLevel(level)
    raise QuantizationUnavailableError(
        "int8 needs the PT2E quantization flow: pip install torchao (pin it to your torch)"
    )


def pt2e_available() -> bool:
    """Whether :func:`quantize_int8` can run here."""
    try:
        _import_first(_PT2E)
        _import_first(_X86)
    except QuantizationUnavailableError:
        return False
    return True


SELF_CHECK_AGREEMENT = 0.995
"""Top-1 agreement with the float model, on the calibration images, that a quantization
must reach before the next, more conservative :func:`float_layer_choices` entry is tried."""


def float_layer_choices(model: nn.Module) -> list[list[str]]:
    """Layers to keep in float, tried in this order: the last linear layer alone (it
    decides the class), then the first convolution too.

    The first convolution sees raw pixels; kept in fp32 it was the largest float part of
    GoogLeNet's int8 graph (a 3-channel convolution uses the vector units poorly), and
    quantizing it keeps top-1 agreement on a trained GoogLeNet but not on the small
    Inception-A MNIST network (BENCHMARKS.md, "Inference, CPU": what changed; both cases
    in ``tests/deploy/test_precision.py``).
    """
    convs = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    linears = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    return [linears[-1:], convs[:1] + linears[-1:]] if convs else [linears[-1:]]


def _quantized_graph(model: nn.Module, example: torch.Tensor, batches: list[torch.Tensor],
                     keep_float: list[str]) -> nn.Module:
    pt2e = _import_first(_PT2E)
    x86 = _import_first(_X86)
    graph = torch.export.export(model, (traceable(example),),
                                dynamic_shapes=({0: batch_dim()},)).module()
    quantizer = x86.X86InductorQuantizer()
    quantizer.set_global(x86.get_default_x86_inductor_quantization_config())
    for name in keep_float:
        quantizer.set_module_name_qconfig(name, None)
    with warnings.catch_warnings():
        # The quantizer warns, in a 1,000-character line, for every max pool whose input
        # stays float (after a layer kept in float): by design here, and no news to the
        # user of `googlenet predict --path int8`.
        warnings.filterwarnings("ignore", message="The input of maxpool2d is not quantized")
        prepared = pt2e.prepare_pt2e(graph, quantizer)
    for images in batches:
        prepared(images)
    converted: nn.Module = pt2e.convert_pt2e(prepared)
    return converted


@torch.no_grad()
def quantize_int8(
    model: nn.Module, calibration: Iterable[torch.Tensor], example: torch.Tensor,
    *, compile: bool = True,
) -> nn.Module:
    """Static int8 quantization (per-channel weights, per-tensor activations) calibrated
    on ``calibration`` batches; returns the quantized module, compiled by Inductor with
    freezing when ``compile`` is true (that is where the int8 kernels come from).

    The fewest layers stay in float that keep top-1 agreement with ``model`` on the
    calibration images at :data:`SELF_CHECK_AGREEMENT` (see :func:`float_layer_choices`).
    ``example`` fixes the traced shapes except the batch dimension, which stays dynamic.

    Give it ``fuse_for_inference(..., target="int8")``, whose Inception 1x1s are not
    merged: the quantizer keeps a concat, and the max pool that reads it, in
    int8 only when every input comes straight from a quantized op, and a merged 1x1's
    split is not one. Merged, googlenet_bn's blocks concatenated and pooled in fp32, with
    a quantize/dequantize at every branch, and ran slower (BENCHMARKS.md, "Against what
    users would otherwise run: googlenet_bn eager").
    """
    model = model.eval()
    batches = list(calibration)
    if not batches:
        raise GoogLeNetError("int8 calibration got no batches: pass a few hundred images")
    *tried, last = float_layer_choices(model)
    reference = [model(b).argmax(1) for b in batches] if tried else []
    for keep_float in tried:
        converted = _quantized_graph(model, example, batches, keep_float)
        hits = sum((converted(b).argmax(1) == r).sum().item()
                   for b, r in zip(batches, reference, strict=True))
        if hits / sum(len(r) for r in reference) >= SELF_CHECK_AGREEMENT:
            break
    else:  # the most conservative choice needs no check: nothing is left to fall back to
        converted = _quantized_graph(model, example, batches, last)
    if not compile:
        return converted
    compiled = compile_frozen(converted)
    check_compiled(compiled, converted, batches[0])
    return compiled


def check_compiled(compiled: nn.Module, reference: nn.Module, images: torch.Tensor) -> None:
    """Raise :class:`CompiledInt8Error` unless ``compiled`` (Inductor's lowering of the
    quantized graph ``reference``) agrees with it on ``images``' top-1 at
    :data:`SELF_CHECK_AGREEMENT`; this call also compiles.

    The quantized graph was checked against the float model; this checks the compiler.
    It found one fault: torch 2.13's Inductor dropped ceil_mode from quantized max pools,
    and the paper's googlenet (random init, close logits) lost most of its decisions
    (BENCHMARKS.md, "Against what users would otherwise run: googlenet_bn eager"), before
    :class:`~googlenet.deploy.fuse.FloorModeMaxPool2d` took those pools' place.
    """
    agree = (compiled(images).argmax(1) == reference(images).argmax(1)).float().mean().item()
    if agree < SELF_CHECK_AGREEMENT:
        raise CompiledInt8Error(
            f"int8: the compiled graph's top-1 matches the quantized graph's on only "
            f"{agree:.0%} of the calibration images (a torch {torch.__version__} "
            "compiler fault for this network); use another path, e.g. --path compiled")
