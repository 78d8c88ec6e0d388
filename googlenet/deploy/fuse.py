"""An exact inference graph: BN folded into convolutions, the 1x1 convolutions that open
an Inception block's branches merged into one, LRN as a matrix product (or, for compiled
graphs, a shifted-window sum), aux heads removed.

Everything works from the block data, for every family: BN folding and conv+ReLU act on
the conv/norm/act units every block is made of, and the 1x1 merge is the block's own
:meth:`~googlenet.layers.InceptionBlock.merge_leading_1x1s`, whose branch table says which
convolutions read the block input; the block keeps running its own ``forward``.

Every rewrite is exact in real arithmetic; in fp32 the logits move by float rounding
only (``tests/deploy/test_fuse.py`` holds them to 1e-4). The result is a copy: the
training model is never modified.
"""

from __future__ import annotations

import copy
import threading
from typing import Literal

import torch
from torch import nn

from ..errors import WeightsError
from ..layers import ConvNormAct, InceptionBlock

# Re-exported: deploy/native_pool.py imports the rule from here.
from ..models.grid import pooled_length as pooled_length
from ..specs.blocks import pair


@torch.no_grad()
def fold_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A convolution with bias that computes ``bn(conv(x))`` in eval mode."""
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("fold_bn needs a BatchNorm2d that tracks running statistics")
    mean, var = bn.running_mean, bn.running_var
    scale = bn.weight / torch.sqrt(var + bn.eps)
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, _pair2(conv.kernel_size),
                      _pair2(conv.stride), _pair2(conv.padding), _pair2(conv.dilation),
                      conv.groups, bias=True)
    fused.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
    bias = conv.bias if conv.bias is not None else torch.zeros_like(mean)
    assert fused.bias is not None  # made with bias=True
    fused.bias.copy_((bias - mean) * scale + bn.bias)
    return fused.to(conv.weight.device)


def _pair2(value: str | tuple[int, ...]) -> tuple[int, int]:
    """A Conv2d's (height, width) attribute; "same"/"valid" padding strings cannot fold."""
    if isinstance(value, str) or len(value) != 2:
        raise ValueError(f"fold_bn needs explicit 2-d sizes, got {value!r}")
    return (value[0], value[1])


def fold_all_bn(model: nn.Module) -> nn.Module:
    """Fold the BN of every :class:`ConvNormAct` in ``model`` (in place); returns it."""
    for m in model.modules():
        if isinstance(m, ConvNormAct) and m.bn is not None:
            m.conv = fold_bn(m.conv, m.bn)
            m.bn = None
    return model


class MatmulLRN(nn.Module):
    """Cross-channel LRN computed with a banded 1x1 convolution over ``x**2``.

    ``nn.LocalResponseNorm`` pads and runs a 3-d average pool over a 5-d view, which is
    slow and breaks channels_last; a CxC band matrix gives the same window sums through
    the convolution kernels. Same formula and window as ``F.local_response_norm``.
    """

    def __init__(self, lrn: nn.LocalResponseNorm, channels: int) -> None:
        super().__init__()
        n = lrn.size
        idx = torch.arange(channels)
        offset = idx.reshape(1, -1) - idx.reshape(-1, 1)  # [c, c'] = c' - c
        band = (offset >= -(n // 2)) & (offset <= (n - 1) // 2)
        weight = band.to(torch.float32) * (lrn.alpha / n)
        self.weight: torch.Tensor
        self.bias: torch.Tensor
        self.register_buffer("weight", weight.reshape(channels, channels, 1, 1))
        self.register_buffer("bias", torch.full((channels,), float(lrn.k)))  # the k term
        self.beta = float(lrn.beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # In place after the convolution: at GoogLeNet's second LRN a batch of 32 makes
        # 77 MB tensors, and allocating one per step cost as much as the arithmetic.
        base = nn.functional.conv2d(x * x, self.weight.to(x.dtype), self.bias.to(x.dtype))
        return inverse_power_(base, self.beta).mul_(x)


class WindowLRN(nn.Module):
    """Cross-channel LRN as the sum of ``size`` channel-shifted copies of ``x**2``.

    For traced graphs: Inductor fuses the shifts, the sum and the normalisation into
    one pass over memory, where :class:`MatmulLRN` would spend a CxC convolution (115M
    multiply-adds per 224x224 image at GoogLeNet's second LRN) on a 5-wide window.
    Eager, the shifted copies are strided and slow, so eager paths keep the matmul.
    """

    def __init__(self, lrn: nn.LocalResponseNorm) -> None:
        super().__init__()
        self.size = lrn.size
        self.scale = lrn.alpha / lrn.size
        self.k = float(lrn.k)
        self.beta = float(lrn.beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        # F.local_response_norm's window: size // 2 channels before, (size - 1) // 2 after.
        padded = nn.functional.pad(x * x, (0, 0, 0, 0, self.size // 2, (self.size - 1) // 2))
        sums = padded[:, :channels]
        for i in range(1, self.size):
            sums = sums + padded[:, i:i + channels]
        return x * inverse_power_(sums * self.scale + self.k, self.beta)


def inverse_power_(base: torch.Tensor, beta: float) -> torch.Tensor:
    """``base ** -beta`` for positive ``base``, which it may overwrite.

    A fractional ``pow`` runs as exp(beta * log) per element and, at 0.75 (every
    GoogLeNet LRN), was most of the LRN's time (BENCHMARKS.md, "Inference, CPU": what
    changed); 0.75 and 0.5 have exact forms in vectorised square roots
    (``b**0.75 = b * sqrt(b)`` under a reciprocal square root).
    """
    if beta == 0.75:
        return base.sqrt().mul_(base).rsqrt_()
    if beta == 0.5:
        return base.rsqrt_()
    return base.pow_(-beta)


def strip_aux(model: nn.Module) -> nn.Module:
    """Delete the auxiliary heads of an :class:`InceptionNet` (in place); returns it."""
    for name in list(getattr(model, "aux_after", {})):
        delattr(model, name)
    if hasattr(model, "aux_after"):
        setattr(model, "aux_after", {})  # noqa: B010 - an InceptionNet attribute, not a module
    return model


FuseTarget = Literal["eager", "graph", "int8"]
"""What runs the fused model: PyTorch op by op (``"eager"``), a tracer that compiles or
exports it (``"graph"``: torch.compile, torch.export, ONNX), which needs plain aten ops,
or PT2E int8 quantization then Inductor (``"int8"``: a "graph" with the differences
:func:`fuse_for_inference` lists)."""


def _mkldnn_available() -> bool:
    return bool(torch.backends.mkldnn.is_available())  # type: ignore[no-untyped-call]  # untyped in torch


class OneDNNConvReLU(nn.Module):
    """``relu(conv(x))`` in one oneDNN kernel on the CPU, where eager PyTorch runs the
    convolution and then a second pass over its output for the ReLU.

    Uses ``mkldnn._convolution_pointwise``, the op Inductor emits for the same fusion;
    elsewhere (CUDA, fp16, a build without oneDNN, under a tracer such as torch.export,
    whose quantizer must see a plain convolution) it runs the two plain ops.
    """

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
            raise ValueError("OneDNNConvReLU needs explicit zero padding")
        self.conv = conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.conv
        if x.device.type == "cpu" and x.dtype in (torch.float32, torch.bfloat16) \
                and _mkldnn_available() and not torch.compiler.is_compiling():
            out: torch.Tensor = torch.ops.mkldnn._convolution_pointwise(
                x, c.weight, c.bias, list(c.padding), list(c.stride), list(c.dilation),
                c.groups, "relu", [None], "")
            return out
        return torch.relu_(c(x))


class ReusedIndexMaxPool2d(nn.Module):
    """``nn.MaxPool2d`` for inference on the CPU that writes its argmax indices into a
    buffer kept between calls.

    PyTorch's CPU max pooling always computes int64 indices, twice the size of the
    output, even without autograd; allocating them afresh each call (page faults on
    tens of MB at batch 32) was a large part of pooling's time (BENCHMARKS.md,
    "Inference, CPU": what changed). The buffer is per thread, so concurrent calls
    cannot share it.
    """

    def __init__(self, pool: nn.MaxPool2d) -> None:
        super().__init__()
        if pool.return_indices:
            raise ValueError("ReusedIndexMaxPool2d discards the indices")
        self.pool = pool
        self._local = threading.local()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu" or (torch.is_grad_enabled() and x.requires_grad) \
                or torch.compiler.is_compiling():
            plain: torch.Tensor = self.pool(x)  # out= variants have no autograd; tracers
            return plain                         # want the plain op
        p = self.pool
        indices = getattr(self._local, "indices", None)
        if indices is None:
            # A normal tensor even when made under inference_mode, so that later calls
            # outside inference_mode may still write into it.
            with torch.inference_mode(False):
                indices = self._local.indices = torch.empty(0, dtype=torch.long)
        # Zero elements, same storage: out= may then take any shape without PyTorch's
        # "output was resized" warning, and reallocates only when it needs more room.
        indices.resize_(0)
        out = x.new_empty(0)
        torch.ops.aten.max_pool2d_with_indices.out(
            x, pair(p.kernel_size), pair(p.stride), pair(p.padding),
            pair(p.dilation), p.ceil_mode, out=out, indices=indices)
        return out

    def __getstate__(self) -> dict[str, object]:  # deepcopy/pickle: thread-locals cannot
        state = self.__dict__.copy()
        state["_local"] = None
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        super().__setstate__(state)  # type: ignore[no-untyped-call]  # untyped in torch
        self._local = threading.local()


def _reuse_pool_indices(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.MaxPool2d) and not child.return_indices:
            setattr(module, name, ReusedIndexMaxPool2d(child))
        else:
            _reuse_pool_indices(child)


def _fuse_relu(model: nn.Module) -> None:
    for m in model.modules():  # every block's units, merged 1x1s included
        if isinstance(m, ConvNormAct) and m.bn is None and m.act is not None:
            # ConvNormAct only calls its conv, so a conv-like module may take its place.
            m.conv, m.act = OneDNNConvReLU(m.conv), None  # type: ignore[assignment]  # see above


def merge_blocks(model: nn.Module) -> int:
    """Merge the leading 1x1 convolutions of every Inception block of ``model`` (in place,
    after BN folding); returns how many blocks now run merged."""
    return sum(m.merge_leading_1x1s() for m in list(model.modules())
               if isinstance(m, InceptionBlock))


class FloorModeMaxPool2d(nn.Module):
    """``nn.MaxPool2d`` with ``ceil_mode=True`` computed as floor mode on an input padded
    with -inf at the bottom and right: the same windows, the same output.

    For int8 graphs: torch 2.13's Inductor lowers a quantized max pool with its ceil_mode
    dropped (112x112 pooled to 55x55 instead of 56x56), which shrank every later layer
    and moved googlenet_bn's int8 logits (BENCHMARKS.md, "Against what users would
    otherwise run: googlenet_bn eager"). A pool whose input needs no
    padding is left a plain int8 pool; one that does runs in float, as the pad between
    it and its quantized input keeps the quantizer from matching it.
    """

    def __init__(self, pool: nn.MaxPool2d) -> None:
        super().__init__()
        if pool.return_indices or not pool.ceil_mode:
            raise ValueError("FloorModeMaxPool2d stands for a ceil-mode pool without indices")
        self.kernel, self.stride = pair(pool.kernel_size), pair(pool.stride or pool.kernel_size)
        self.padding, self.dilation = pair(pool.padding), pair(pool.dilation)

    def _extra(self, n: int, i: int) -> int:
        """Pixels to add after an input of length ``n`` on axis ``i``, so that floor mode
        gives ceil mode's output length (PyTorch's rule: the last window must start
        inside the input or its left padding)."""
        k, s, p, d = self.kernel[i], self.stride[i], self.padding[i], self.dilation[i]
        span = d * (k - 1) + 1
        out = pooled_length(n, k, s, p, ceil_mode=True, dilation=d)
        return max(0, (out - 1) * s + span - (n + 2 * p))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bottom, right = self._extra(x.shape[-2], 0), self._extra(x.shape[-1], 1)
        if bottom or right:
            x = nn.functional.pad(x, (0, right, 0, bottom), value=float("-inf"))
        return nn.functional.max_pool2d(x, self.kernel, self.stride, self.padding,
                                        self.dilation, ceil_mode=False)


def _replace_children(module: nn.Module, channels: dict[int, int], target: FuseTarget) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.LocalResponseNorm) and id(child) in channels:
            setattr(module, name, MatmulLRN(child, channels[id(child)]) if target == "eager"
                    else WindowLRN(child))
        elif target == "int8" and isinstance(child, nn.MaxPool2d) and child.ceil_mode:
            setattr(module, name, FloorModeMaxPool2d(child))
        else:
            _replace_children(child, channels, target)


@torch.no_grad()
def _lrn_channels(model: nn.Module, example: torch.Tensor) -> dict[int, int]:
    """Channel count at every LRN, read by running ``example`` once."""
    found: dict[int, int] = {}
    hooks = [m.register_forward_hook(lambda mod, inp, out: found.__setitem__(id(mod),
                                                                             out.shape[1]))
             for m in model.modules() if isinstance(m, nn.LocalResponseNorm)]
    try:
        model(example)
    finally:
        for h in hooks:
            h.remove()
    return found


def check_float32(model: nn.Module) -> None:
    """Refuse, up front and naming a tensor, a model held in another dtype than float32
    (fp16, bf16, float64) rather than fail in the middle of a forward pass: fusion folds
    BN into float32 weights and biases (the lower-precision paths cast the fused fp32
    graph), and preprocessing hands every path float32 images."""
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        if tensor.is_floating_point() and tensor.dtype != torch.float32:
            raise WeightsError(f"{name}: the model is held in {tensor.dtype}; inference "
                               "takes a float32 model (model.float())")


def fuse_for_inference(model: nn.Module, example: torch.Tensor,
                       target: FuseTarget = "eager") -> nn.Module:
    """An eval-mode copy of ``model``: aux heads removed, BN folded, Inception 1x1s merged.

    For ``target="eager"`` LRN becomes a matmul, conv+ReLU pairs one oneDNN kernel and max
    pools keep their index buffer between calls; for
    ``"graph"`` (torch.compile, export) LRN becomes a shifted-window sum that the compiler
    fuses into one pass, and everything stays plain aten ops the tracers know. ``"int8"``
    is a "graph" for PT2E quantization: the 1x1s stay unmerged (see
    :func:`googlenet.deploy.quantize.quantize_int8`) and ceil-mode max pools become
    :class:`FloorModeMaxPool2d`. ``example`` (one small batch) only serves to read LRN
    widths.
    """
    check_float32(model)
    fused = strip_aux(copy.deepcopy(model)).eval()
    fold_all_bn(fused)
    channels = _lrn_channels(fused, example[:1])
    if target != "int8":  # see quantize_int8 for why int8 graphs keep them apart
        merge_blocks(fused)
    _replace_children(fused, channels, target)
    if target == "eager":
        _fuse_relu(fused)
        _reuse_pool_indices(fused)
    return fused.to(example.device)  # the new LRN buffers are made on the CPU
