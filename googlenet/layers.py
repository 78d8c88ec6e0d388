"""Building blocks of the Inception family: the conv/norm/act unit, the one generic
Inception block built from a branch table (:mod:`googlenet.specs.blocks`), LRN and the
auxiliary heads.

Module and attribute names are part of the public state-dict format (see DESIGN.md): a
block's come from its table (``branch_3x3.reduce``, ``branch5x5_1``); the heads' are the
class constants below, which the weight key maps read instead of repeating them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from .errors import SpecError
from .specs.blocks import (
    BlockSpec,
    Conv,
    Identity,
    Op,
    leading_1x1_branches,
    op_paths,
    pair,
    same_padding,
)

Norm = Literal["none", "bn"]


class ConvNormAct(nn.Module):
    """Convolution, optional batch norm, optional ReLU.

    With ``norm="bn"`` the convolution has no bias (BN's shift replaces it), as in
    torchvision's ``BasicConv2d``; the paper's network has biases and no BN.
    """

    # Child names (state-dict keys), read by the weight key maps.
    CONV, BN = "conv", "bn"

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
        ks = pair(kernel_size)
        use_bias = (norm == "none") if bias is None else bias
        # padding None: "same" padding for odd kernels, the Inception convention.
        self.conv = nn.Conv2d(in_channels, out_channels, ks, stride,
                              same_padding(ks, padding), bias=use_bias)
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


class InceptionBlock(nn.Module):
    """Any Inception block, built from its branch table (a :class:`BlockSpec`).

    Each op becomes a module at its path (``branch_3x3.reduce`` nests ``reduce`` in an
    ``nn.ModuleDict`` named ``branch_3x3``), created branch by branch in table order, so
    state-dict keys follow the table. ``forward`` runs each branch's chain, its split
    arms, concatenates, and applies the residual wrapper when the table has one.

    Network-wide choices come in as arguments: ``conv`` (norm, BN eps), and the defaults
    for pools that leave ``ceil_mode`` / ``count_include_pad`` to the network.
    """

    def __init__(
        self,
        in_channels: int,
        spec: BlockSpec,
        *,
        conv: ConvFactory = ConvNormAct,
        pool_ceil_mode: bool = False,
        count_include_pad: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(in_channels, int) or in_channels <= 0:
            raise SpecError(f"block: input channels must be a positive int, got {in_channels!r}")
        self.spec = spec
        self.in_channels = in_channels
        self.out_channels = spec.out_channels(in_channels)
        self.paths = op_paths(spec)
        for branch, (chain, arms) in zip(spec.branches, self.paths, strict=True):
            ch = in_channels
            for op, path in zip(branch.ops, chain, strict=True):
                self._place(path, _make_op(op, ch, conv, pool_ceil_mode, count_include_pad))
                ch = op.out if isinstance(op, Conv) else ch
            for op, path in zip(branch.split, arms, strict=True):
                self._place(path, _make_op(op, ch, conv, pool_ceil_mode, count_include_pad))
        if spec.residual is not None:
            # Linear projection back to the input width, with bias and without norm,
            # whatever the network's norm (see Residual).
            self._place(spec.residual.name, ConvNormAct(
                spec.concat_channels(in_channels), in_channels, 1, norm="none", act=False))
        # Set by merge_leading_1x1s (inference only): one convolution standing for the
        # first op of the branches in merged_branches, its output split by merged_split.
        self.merged_1x1: ConvNormAct | None = None
        self.merged_branches: tuple[int, ...] = ()
        self.merged_split: tuple[int, ...] = ()

    def _place(self, path: str, module: nn.Module) -> None:
        parent, _, leaf = path.rpartition(".")
        if not parent:
            self.add_module(leaf, module)
            return
        if parent not in self._modules:
            self.add_module(parent, nn.ModuleDict())
        container = self._modules[parent]
        assert isinstance(container, nn.ModuleDict)
        container[leaf] = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.join(x, self.forward_branches(x))

    def forward_branches(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each branch's output, in table order, before concatenation (what the named
        features ``<block>.<branch>`` read)."""
        heads: dict[int, torch.Tensor] = {}
        if self.merged_1x1 is not None:
            parts = torch.split(self.merged_1x1(x), list(self.merged_split), dim=1)
            heads = dict(zip(self.merged_branches, parts, strict=True))
        outs = []
        for i, (chain, arms) in enumerate(self.paths):
            y = heads.get(i, x)
            for path in chain[1:] if i in heads else chain:
                y = self.get_submodule(path)(y)
            if arms:
                y = torch.cat([self.get_submodule(path)(y) for path in arms], 1)
            outs.append(y)
        return outs

    def join(self, x: torch.Tensor, branches: list[torch.Tensor]) -> torch.Tensor:
        """The block's output from its input and its branches' outputs: concatenation,
        then the residual wrapper when the table has one."""
        out = torch.cat(branches, 1)
        residual = self.spec.residual
        if residual is None:
            return out
        out = x + residual.scale * self.get_submodule(residual.name)(out)
        return torch.relu_(out) if residual.relu else out

    def branch_modules(self) -> list[tuple[str, list[nn.Module]]]:
        """Each branch's name and modules (chain, then split arms), in table order; the
        residual projection, if any, as a last entry under its own name."""
        out = [(branch.name, [self.get_submodule(p) for p in (*chain, *arms)])
               for branch, (chain, arms) in zip(self.spec.branches, self.paths, strict=True)]
        if self.spec.residual is not None:
            out.append((self.spec.residual.name, [self.get_submodule(self.spec.residual.name)]))
        return out

    @torch.no_grad()
    def merge_leading_1x1s(self) -> bool:
        """Run the plain 1x1 convolutions that open several branches as one wider one.

        Exact for conv(+bias)(+ReLU) units, i.e. after BN folding; one convolution with
        the summed width uses the matrix units better than several thin ones and reads
        the input once. Which branches qualify comes from the table
        (:func:`leading_1x1_branches`). Returns whether the block now runs merged.
        """
        if self.merged_1x1 is not None:
            return True
        units = [(i, self.paths[i][0][0]) for i in leading_1x1_branches(self.spec)]
        found = [(i, path, u) for i, path in units
                 if isinstance(u := self.get_submodule(path), ConvNormAct) and _plain_1x1(u)]
        if not found:
            return False
        act = found[0][2].act is not None
        found = [f for f in found if (f[2].act is not None) == act]
        if len(found) < 2:
            return False
        convs = [u.conv for _, _, u in found]
        merged = ConvNormAct(self.in_channels, sum(c.out_channels for c in convs), 1,
                             padding=0, bias=True, act=act)
        merged.conv.weight.copy_(torch.cat([c.weight for c in convs]))
        merged.conv.bias.copy_(torch.cat(  # type: ignore[union-attr]  # bias=True above
            [c.bias if c.bias is not None else c.weight.new_zeros(c.out_channels)
             for c in convs]))
        self.merged_1x1 = merged.to(convs[0].weight.device, convs[0].weight.dtype)
        self.merged_branches = tuple(i for i, _, _ in found)
        self.merged_split = tuple(c.out_channels for c in convs)
        for _, path, _ in found:
            parent, _, leaf = path.rpartition(".")
            delattr(self.get_submodule(parent) if parent else self, leaf)
        return True


def _plain_1x1(unit: ConvNormAct) -> bool:
    c = unit.conv
    return unit.bn is None and type(c) is nn.Conv2d and c.kernel_size == (1, 1) \
        and c.stride == (1, 1) and c.padding == (0, 0) and c.dilation == (1, 1) \
        and c.groups == 1 and c.padding_mode == "zeros"


def _make_op(op: Op, in_channels: int, conv: ConvFactory, pool_ceil_mode: bool,
             count_include_pad: bool) -> nn.Module:
    if isinstance(op, Conv):
        return conv(in_channels, op.out, pair(op.kernel), stride=op.stride,
                    padding=same_padding(op.kernel, op.padding), act=op.act)
    if isinstance(op, Identity):
        return nn.Identity()
    ceil = pool_ceil_mode if op.ceil_mode is None else op.ceil_mode
    pad = same_padding(op.kernel, op.padding)
    if op.kind == "max":
        return nn.MaxPool2d(op.kernel, op.stride, pad, ceil_mode=ceil)
    include = count_include_pad if op.count_include_pad is None else op.count_include_pad
    return nn.AvgPool2d(op.kernel, op.stride, pad, ceil_mode=ceil, count_include_pad=include)


class Embedding(nn.Module):
    """FaceNet's "Bottleneck": a linear layer without bias, then batch norm, to a
    ``features``-dimensional embedding (facenet's slim.fully_connected with its BN
    normalizer; facenet-pytorch's ``last_linear`` + ``last_bn``)."""

    # Child names (state-dict keys).
    LINEAR, BN = "linear", "bn"

    def __init__(self, in_features: int, features: int, *, bn_eps: float = 1e-3) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, features, bias=False)
        self.bn = nn.BatchNorm1d(features, eps=bn_eps)
        self.out_features = features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.bn(self.linear(x))
        return out


class AuxHead(nn.Module):
    """Auxiliary classifier (paper section 5): 5x5/3 average pool, 1x1 conv with 128
    filters and ReLU, FC 1024 and ReLU, dropout 0.7, FC to the classes.

    ``adaptive=True`` pools to 4x4 whatever the map size, as torchvision does; the paper's
    fixed 5x5/3 pool gives 4x4 only from a 14x14 map (224x224 input).
    """

    # Child names (state-dict keys), read by the weight key maps.
    CONV, FC, CLASSIFIER = "conv", "fc", "classifier"

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
        out: torch.Tensor = self.classifier(x)
        return out


class InceptionV3Aux(nn.Module):
    """torchvision's ``InceptionAux`` on ``mixed7`` (Inception v3's section 4 side head).

    5x5/3 average pool, 1x1 conv 128, 5x5 conv 768 (both with BN), global average pool,
    FC to the classes. The pooled map must be at least 5x5, i.e. a 17x17 ``mixed7``
    (299x299 input).
    """

    # Child names (state-dict keys), read by the weight key maps.
    CONV0, CONV1, CLASSIFIER = "conv0", "conv1", "classifier"

    def __init__(
        self, in_channels: int, num_classes: int, *, conv: ConvFactory = ConvNormAct,
    ) -> None:
        super().__init__()
        # The pools are modules (no parameters, so no state-dict keys) made in the order
        # forward runs them, so that a description of the head (the diagram) names them.
        self.pool = nn.AvgPool2d(5, stride=3)
        self.conv0 = conv(in_channels, 128, 1)
        self.conv1 = conv(128, 768, 5, padding=0)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h < 17 or w < 17:  # 5x5/3 pooling must leave at least 5x5 for conv1
            raise SpecError(
                f"Inception v3 auxiliary head needs a mixed7 map of 17x17 or more, got {h}x{w}: "
                "feed 299x299 inputs to forward_train, or use forward() for logits only"
            )
        x = self.conv1(self.conv0(self.pool(x)))
        x = torch.flatten(self.global_pool(x), 1)
        out: torch.Tensor = self.classifier(x)
        return out
