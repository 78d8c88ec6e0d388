"""An exact inference graph: BN folded into convolutions, the three 1x1 convolutions
of each Inception block merged into one, LRN as a matrix product, aux heads removed.

Every rewrite is exact in real arithmetic; in fp32 the logits move by float rounding
only (``tests/deploy/test_fuse.py`` holds them to 1e-4). The result is a copy: the
training model is never modified.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ..layers import ConvNormAct, InceptionBlock, PoolProj, ReduceConv


@torch.no_grad()
def fold_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A convolution with bias that computes ``bn(conv(x))`` in eval mode."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                      conv.padding, conv.dilation, conv.groups, bias=True)
    fused.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    fused.bias.copy_((bias - bn.running_mean) * scale + bn.bias)
    return fused.to(conv.weight.device)


def fold_all_bn(model: nn.Module) -> nn.Module:
    """Fold the BN of every :class:`ConvNormAct` in ``model`` (in place); returns it."""
    for m in model.modules():
        if isinstance(m, ConvNormAct) and m.bn is not None:
            m.conv = fold_bn(m.conv, m.bn)
            m.bn = None
    return model


def _bias(conv: nn.Conv2d) -> torch.Tensor:
    return conv.bias if conv.bias is not None else conv.weight.new_zeros(conv.out_channels)


class FusedInceptionBlock(nn.Module):
    """An :class:`InceptionBlock` whose 1x1, "3x3 reduce" and "5x5 reduce" convolutions,
    which all read the block's input, run as one wider 1x1 convolution.

    One convolution with 1.5-2x the output channels uses the matrix units far better
    than three thin ones, and reads the input once.
    """

    def __init__(self, block: InceptionBlock) -> None:
        super().__init__()
        heads = [block.branch_1x1, block.branch_3x3.reduce, block.branch_5x5.reduce]
        self.split_sizes = [h.conv.out_channels for h in heads]
        first = heads[0].conv
        self.stem = nn.Conv2d(first.in_channels, sum(self.split_sizes), 1, bias=True)
        with torch.no_grad():
            self.stem.weight.copy_(torch.cat([h.conv.weight for h in heads]))
            self.stem.bias.copy_(torch.cat([_bias(h.conv) for h in heads]))
        self.stem.to(first.weight.device)
        self.act = nn.ReLU(inplace=True) if heads[0].act is not None else None
        self.conv_3x3 = block.branch_3x3.conv
        self.conv_5x5 = block.branch_5x5.conv
        self.branch_pool = block.branch_pool
        self.norm = block.norm
        self.out_channels = block.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.stem(x)
        if self.act is not None:
            y = self.act(y)
        b1, r3, r5 = torch.split(y, self.split_sizes, dim=1)
        out = torch.cat([b1, self.conv_3x3(r3), self.conv_5x5(r5), self.branch_pool(x)], 1)
        return self.norm(out) if self.norm is not None else out


def can_fuse_block(block: InceptionBlock) -> bool:
    """The merge is exact only when the three 1x1 units are plain conv(+ReLU) alike."""
    heads = [block.branch_1x1, block.branch_3x3.reduce, block.branch_5x5.reduce]
    ok_types = isinstance(block.branch_3x3, ReduceConv) and isinstance(block.branch_pool,
                                                                        PoolProj)
    return ok_types and all(
        isinstance(h, ConvNormAct) and h.bn is None
        and (h.act is None) == (heads[0].act is None)
        and h.conv.kernel_size == (1, 1) and h.conv.stride == (1, 1)
        and h.conv.padding == (0, 0) and h.conv.groups == 1
        for h in heads
    )


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
        self.register_buffer("weight", weight.reshape(channels, channels, 1, 1))
        self.k = float(lrn.k)
        self.beta = float(lrn.beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sums = nn.functional.conv2d(x * x, self.weight.to(x.dtype))
        return x / (sums + self.k).pow(self.beta)


def strip_aux(model: nn.Module) -> nn.Module:
    """Delete the auxiliary heads of an :class:`InceptionNet` (in place); returns it."""
    for name in list(getattr(model, "aux_after", {})):
        delattr(model, name)
    if hasattr(model, "aux_after"):
        model.aux_after = {}
    return model


def _replace_children(module: nn.Module, channels: dict[int, int]) -> None:
    for name, child in module.named_children():
        if isinstance(child, InceptionBlock) and can_fuse_block(child):
            _replace_children(child, channels)
            setattr(module, name, FusedInceptionBlock(child))
        elif isinstance(child, nn.LocalResponseNorm) and id(child) in channels:
            setattr(module, name, MatmulLRN(child, channels[id(child)]))
        else:
            _replace_children(child, channels)


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


def fuse_for_inference(model: nn.Module, example: torch.Tensor) -> nn.Module:
    """An eval-mode copy of ``model``: aux heads removed, BN folded, Inception 1x1s merged,
    LRN as a matmul. ``example`` (one small batch) only serves to read LRN widths."""
    fused = strip_aux(copy.deepcopy(model)).eval()
    fold_all_bn(fused)
    channels = _lrn_channels(fused, example[:1])
    _replace_children(fused, channels)
    return fused.to(example.device)  # the new LRN buffers are made on the CPU
