"""Building blocks of the Inception family.

Module and attribute names are part of the public state-dict format (see DESIGN.md):
``branch_1x1``, ``branch_3x3.reduce``, ``branch_3x3.conv``, ``branch_pool.proj`` and so on,
so that weight importers can map foreign checkpoints onto them explicitly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from .errors import SpecError

Norm = Literal["none", "bn"]


class ConvNormAct(nn.Module):
    """Convolution, optional batch norm, optional ReLU.

    With ``norm="bn"`` the convolution has no bias (BN's shift replaces it), as in
    torchvision's ``BasicConv2d``; the paper's network has biases and no BN.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int = 1,
        padding: int | tuple[int, int] | None = None,
        *,
        norm: Norm = "none",
        bn_eps: float = 1e-5,
        bias: bool | None = None,
        act: bool = True,
    ) -> None:
        super().__init__()
        if in_channels <= 0 or out_channels <= 0:
            raise SpecError(
                f"convolution needs positive channel counts, got {in_channels}->{out_channels}"
            )
        ks = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        if padding is None:  # "same" padding for odd kernels, the Inception convention
            padding = (ks[0] // 2, ks[1] // 2)
        use_bias = (norm == "none") if bias is None else bias
        self.conv = nn.Conv2d(in_channels, out_channels, ks, stride, padding, bias=use_bias)
        self.bn = nn.BatchNorm2d(out_channels, eps=bn_eps) if norm == "bn" else None
        self.act = nn.ReLU(inplace=True) if act else None
        self.in_channels = in_channels
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.act is not None:
            x = self.act(x)
        return x


ConvFactory = Callable[..., ConvNormAct]
"""Anything called like :class:`ConvNormAct` (in, out, kernel, stride=..., padding=...)."""


def local_response_norm() -> nn.LocalResponseNorm:
    """LRN with the constants of the BVLC GoogLeNet (size 5, alpha 1e-4, beta 0.75, k 1).

    Caffe divides alpha by the window size, and so does ``nn.LocalResponseNorm``.
    """
    return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=1.0)


class ReduceConv(nn.Module):
    """A 1x1 "reduce" convolution followed by a kxk convolution (paper, section 4)."""

    def __init__(
        self, in_channels: int, reduce: int, out_channels: int, kernel_size: int,
        conv: ConvFactory = ConvNormAct, stride: int = 1,
    ) -> None:
        super().__init__()
        self.reduce = conv(in_channels, reduce, 1)
        self.conv = conv(reduce, out_channels, kernel_size, stride=stride)
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.reduce(x))


class PoolProj(nn.Module):
    """The pooling branch: 3x3/1 pooling, then (optionally) a 1x1 projection."""

    def __init__(
        self, in_channels: int, proj: int | None, conv: ConvFactory = ConvNormAct,
        pool: Literal["max", "avg"] = "max", ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        if pool == "max":
            self.pool: nn.Module = nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=ceil_mode)
        else:
            self.pool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        self.proj = conv(in_channels, proj, 1) if proj else None
        self.out_channels = proj if proj else in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(x)
        return self.proj(x) if self.proj is not None else x


def _check_widths(name: str, widths: dict[str, int]) -> None:
    bad = {k: v for k, v in widths.items() if not isinstance(v, int) or v <= 0}
    if bad:
        listed = ", ".join(f"{k}={v}" for k, v in bad.items())
        raise SpecError(f"{name}: every branch width must be a positive int, got {listed}")


class InceptionBlock(nn.Module):
    """The Inception module with dimension reductions (paper Figure 2b).

    Arguments are grouped by branch, as in d2l: ``b3x3=(reduce, out)``. The output has
    ``b1x1 + b3x3[1] + b5x5[1] + pool_proj`` channels. ``kernel_5x5`` exists because
    torchvision's GoogLeNet uses a 3x3 convolution in its "5x5" branch.
    ``out_norm="lrn"`` applies LRN to the concatenated output.
    """

    def __init__(
        self,
        in_channels: int,
        b1x1: int,
        b3x3: tuple[int, int],
        b5x5: tuple[int, int],
        pool_proj: int,
        *,
        conv: ConvFactory = ConvNormAct,
        kernel_5x5: int = 5,
        pool_ceil_mode: bool = False,
        out_norm: Literal["none", "lrn"] = "none",
    ) -> None:
        super().__init__()
        _check_widths("InceptionBlock", {
            "in_channels": in_channels, "#1x1": b1x1, "#3x3 reduce": b3x3[0], "#3x3": b3x3[1],
            "#5x5 reduce": b5x5[0], "#5x5": b5x5[1], "pool proj": pool_proj,
        })
        self.branch_1x1 = conv(in_channels, b1x1, 1)
        self.branch_3x3 = ReduceConv(in_channels, b3x3[0], b3x3[1], 3, conv)
        self.branch_5x5 = ReduceConv(in_channels, b5x5[0], b5x5[1], kernel_5x5, conv)
        self.branch_pool = PoolProj(in_channels, pool_proj, conv, ceil_mode=pool_ceil_mode)
        self.norm = local_response_norm() if out_norm == "lrn" else None
        self.in_channels = in_channels
        self.out_channels = b1x1 + b3x3[1] + b5x5[1] + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat(
            [self.branch_1x1(x), self.branch_3x3(x), self.branch_5x5(x), self.branch_pool(x)], 1
        )
        return self.norm(out) if self.norm is not None else out


class NaiveInceptionBlock(nn.Module):
    """The naive Inception module (paper Figure 2a): 1x1, 3x3 and 5x5 convolutions and
    3x3 max pooling side by side, with no 1x1 reductions in front of the large kernels.

    ``pool_proj=None`` is the figure exactly: the pooled input passes through, so the
    block's output is wider than its input. An int adds a 1x1 projection after pooling,
    which keeps a network's stage widths equal to Table 1 and isolates what the 3x3/5x5
    reductions save.
    """

    def __init__(
        self, in_channels: int, b1x1: int, b3x3: int, b5x5: int, pool_proj: int | None = None,
        *, conv: ConvFactory = ConvNormAct, pool_ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        widths = {"in_channels": in_channels, "#1x1": b1x1, "#3x3": b3x3, "#5x5": b5x5}
        if pool_proj is not None:
            widths["pool proj"] = pool_proj
        _check_widths("NaiveInceptionBlock", widths)
        self.branch_1x1 = conv(in_channels, b1x1, 1)
        self.branch_3x3 = conv(in_channels, b3x3, 3)
        self.branch_5x5 = conv(in_channels, b5x5, 5)
        self.branch_pool = PoolProj(in_channels, pool_proj, conv, ceil_mode=pool_ceil_mode)
        self.in_channels = in_channels
        self.out_channels = b1x1 + b3x3 + b5x5 + self.branch_pool.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [self.branch_1x1(x), self.branch_3x3(x), self.branch_5x5(x), self.branch_pool(x)], 1
        )


class InceptionA(nn.Module):
    """The "InceptionA" block of the PyTorch course (seed 001), a v3-style module.

    Branches: 1x1 (16); 1x1 16 -> 5x5 24; 1x1 16 -> 3x3 24 -> 3x3 24; 3x3 average pool
    -> 1x1 24. Output 88 channels. Convolutions are plain (bias, no activation), as in
    the course code.
    """

    def __init__(self, in_channels: int, *, conv: ConvFactory = ConvNormAct) -> None:
        super().__init__()
        _check_widths("InceptionA", {"in_channels": in_channels})
        self.branch_1x1 = conv(in_channels, 16, 1)
        self.branch_5x5 = ReduceConv(in_channels, 16, 24, 5, conv)
        self.branch_3x3dbl = nn.Sequential(
            conv(in_channels, 16, 1), conv(16, 24, 3), conv(24, 24, 3)
        )
        self.branch_pool = PoolProj(in_channels, 24, conv, pool="avg")
        self.in_channels = in_channels
        self.out_channels = 16 + 24 + 24 + 24

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [self.branch_1x1(x), self.branch_5x5(x), self.branch_3x3dbl(x), self.branch_pool(x)],
            1,
        )


class AuxHead(nn.Module):
    """Auxiliary classifier (paper section 5): 5x5/3 average pool, 1x1 conv with 128
    filters and ReLU, FC 1024 and ReLU, dropout 0.7, FC to the classes.

    ``adaptive=True`` pools to 4x4 whatever the map size, as torchvision does; the paper's
    fixed 5x5/3 pool gives 4x4 only from a 14x14 map (224x224 input).
    """

    def __init__(
        self, in_channels: int, num_classes: int, *, conv: ConvFactory = ConvNormAct,
        adaptive: bool = False, conv_channels: int = 128, fc_features: int = 1024,
        dropout: float = 0.7, pooled_size: int = 4,
    ) -> None:
        super().__init__()
        self.pool: nn.Module = (
            nn.AdaptiveAvgPool2d(pooled_size) if adaptive else nn.AvgPool2d(5, stride=3)
        )
        self.conv = conv(in_channels, conv_channels, 1)
        self.fc = nn.Linear(conv_channels * pooled_size * pooled_size, fc_features)
        self.drop = nn.Dropout(dropout)
        self.classifier = nn.Linear(fc_features, num_classes)
        self.pooled_size = pooled_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(x)
        if x.shape[-1] != self.pooled_size or x.shape[-2] != self.pooled_size:
            raise SpecError(
                f"auxiliary head needs a {self.pooled_size}x{self.pooled_size} map after its "
                f"5x5/3 pool, got {x.shape[-2]}x{x.shape[-1]}: feed the model's native input "
                "size to forward_train, or use forward() for logits only"
            )
        x = torch.flatten(self.conv(x), 1)
        x = self.drop(F.relu(self.fc(x), inplace=True))
        return self.classifier(x)
