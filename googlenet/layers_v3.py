"""The blocks of Inception v3 (Szegedy et al. 2015, "Rethinking the Inception Architecture").

Five block types, named by the letters torchvision and TF-slim use (figures of the paper):

- :class:`InceptionV3A` (35x35, Figure 5): 5x5 and "double 3x3" branches; ``mixed0..2``.
- :class:`InceptionV3B` (35 -> 17, Figure 10): grid reduction; ``mixed3``.
- :class:`InceptionV3C` (17x17, Figure 6): 7x7 factorised into 1x7 and 7x1; ``mixed4..7``.
- :class:`InceptionV3D` (17 -> 8): grid reduction; ``mixed8``.
- :class:`InceptionV3E` (8x8, Figure 7): expanded 1x3 / 3x1 outputs; ``mixed9``, ``mixed10``.

Child names are the TF-slim / torchvision branch names (``branch1x1``, ``branch5x5_1``,
``branch3x3dbl_3a`` ...), each a :class:`~googlenet.layers.ConvNormAct` with ``conv`` and
``bn`` children, so torchvision's ``BasicConv2d`` keys map one to one. Children are
created in the order Keras' ``InceptionV3`` creates its layers, and every ``forward``
concatenates branches in the order both Keras and torchvision do.

Average pooling branches take ``count_include_pad``: TF/Keras ``'same'`` pooling leaves
the padded zeros out of the average, torchvision's ``F.avg_pool2d(x, 3, 1, 1)`` counts
them (see ``NetSpec.avg_pool_count_include_pad``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .errors import SpecError
from .layers import ConvFactory, ConvNormAct


class _AvgPoolBranch(nn.Module):
    """Mixin for blocks with a 3x3/1 average pool followed by the ``branch_pool`` conv."""

    count_include_pad: bool
    branch_pool: ConvNormAct

    def _pool_branch(self, x: torch.Tensor) -> torch.Tensor:
        pooled = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=self.count_include_pad)
        return self.branch_pool(pooled)


class InceptionV3A(_AvgPoolBranch):
    """35x35 block: 1x1 64 | 1x1 48 -> 5x5 64 | 1x1 64 -> 3x3 96 -> 3x3 96 | pool -> 1x1."""

    def __init__(
        self, in_channels: int, pool_features: int, *, conv: ConvFactory = ConvNormAct,
        count_include_pad: bool = False,
    ) -> None:
        super().__init__()
        self.branch1x1 = conv(in_channels, 64, 1)
        self.branch5x5_1 = conv(in_channels, 48, 1)
        self.branch5x5_2 = conv(48, 64, 5)
        self.branch3x3dbl_1 = conv(in_channels, 64, 1)
        self.branch3x3dbl_2 = conv(64, 96, 3)
        self.branch3x3dbl_3 = conv(96, 96, 3)
        self.branch_pool = conv(in_channels, pool_features, 1)
        self.count_include_pad = count_include_pad
        self.in_channels = in_channels
        self.out_channels = 64 + 64 + 96 + pool_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, self._pool_branch(x)], 1)


class InceptionV3B(nn.Module):
    """35 -> 17 reduction: 3x3/2 384 | 1x1 64 -> 3x3 96 -> 3x3/2 96 | 3x3/2 max pool.

    Strided convolutions and the pool are unpadded ("valid"), with floor rounding.
    """

    def __init__(self, in_channels: int, *, conv: ConvFactory = ConvNormAct) -> None:
        super().__init__()
        self.branch3x3 = conv(in_channels, 384, 3, stride=2, padding=0)
        self.branch3x3dbl_1 = conv(in_channels, 64, 1)
        self.branch3x3dbl_2 = conv(64, 96, 3)
        self.branch3x3dbl_3 = conv(96, 96, 3, stride=2, padding=0)
        self.in_channels = in_channels
        self.out_channels = 384 + 96 + in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionV3C(_AvgPoolBranch):
    """17x17 block with 7x7 convolutions factorised into 1x7 and 7x1 (paper Figure 6).

    1x1 192 | 1x1 c7 -> 1x7 c7 -> 7x1 192 | 1x1 c7 -> 7x1 -> 1x7 -> 7x1 -> 1x7 192 |
    pool -> 1x1 192, where ``c7`` is ``channels_7x7`` (128, 160, 160, 192 in mixed4..7).
    """

    def __init__(
        self, in_channels: int, channels_7x7: int, *, conv: ConvFactory = ConvNormAct,
        count_include_pad: bool = False,
    ) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = conv(in_channels, 192, 1)
        self.branch7x7_1 = conv(in_channels, c7, 1)
        self.branch7x7_2 = conv(c7, c7, (1, 7))
        self.branch7x7_3 = conv(c7, 192, (7, 1))
        self.branch7x7dbl_1 = conv(in_channels, c7, 1)
        self.branch7x7dbl_2 = conv(c7, c7, (7, 1))
        self.branch7x7dbl_3 = conv(c7, c7, (1, 7))
        self.branch7x7dbl_4 = conv(c7, c7, (7, 1))
        self.branch7x7dbl_5 = conv(c7, 192, (1, 7))
        self.branch_pool = conv(in_channels, 192, 1)
        self.count_include_pad = count_include_pad
        self.in_channels = in_channels
        self.out_channels = 4 * 192

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3,
                      self.branch7x7dbl_4, self.branch7x7dbl_5):
            d = layer(d)
        return torch.cat([self.branch1x1(x), b7, d, self._pool_branch(x)], 1)


class InceptionV3D(nn.Module):
    """17 -> 8 reduction: 1x1 192 -> 3x3/2 320 | 1x1 192 -> 1x7 -> 7x1 -> 3x3/2 192 |
    3x3/2 max pool (unpadded, floor rounding)."""

    def __init__(self, in_channels: int, *, conv: ConvFactory = ConvNormAct) -> None:
        super().__init__()
        self.branch3x3_1 = conv(in_channels, 192, 1)
        self.branch3x3_2 = conv(192, 320, 3, stride=2, padding=0)
        self.branch7x7x3_1 = conv(in_channels, 192, 1)
        self.branch7x7x3_2 = conv(192, 192, (1, 7))
        self.branch7x7x3_3 = conv(192, 192, (7, 1))
        self.branch7x7x3_4 = conv(192, 192, 3, stride=2, padding=0)
        self.in_channels = in_channels
        self.out_channels = 320 + 192 + in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = x
        for layer in (self.branch7x7x3_1, self.branch7x7x3_2, self.branch7x7x3_3,
                      self.branch7x7x3_4):
            b7 = layer(b7)
        return torch.cat([b3, b7, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionV3E(_AvgPoolBranch):
    """8x8 block with expanded filter banks (paper Figure 7): the 3x3 outputs split into
    parallel 1x3 and 3x1 convolutions whose outputs are concatenated.

    1x1 320 | 1x1 384 -> (1x3 384, 3x1 384) | 1x1 448 -> 3x3 384 -> (1x3 384, 3x1 384) |
    pool -> 1x1 192; 2048 channels out.
    """

    def __init__(
        self, in_channels: int, *, conv: ConvFactory = ConvNormAct,
        count_include_pad: bool = False,
    ) -> None:
        super().__init__()
        self.branch1x1 = conv(in_channels, 320, 1)
        self.branch3x3_1 = conv(in_channels, 384, 1)
        self.branch3x3_2a = conv(384, 384, (1, 3))
        self.branch3x3_2b = conv(384, 384, (3, 1))
        self.branch3x3dbl_1 = conv(in_channels, 448, 1)
        self.branch3x3dbl_2 = conv(448, 384, 3)
        self.branch3x3dbl_3a = conv(384, 384, (1, 3))
        self.branch3x3dbl_3b = conv(384, 384, (3, 1))
        self.branch_pool = conv(in_channels, 192, 1)
        self.count_include_pad = count_include_pad
        self.in_channels = in_channels
        self.out_channels = 320 + 2 * 384 + 2 * 384 + 192

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        return torch.cat([self.branch1x1(x), b3, d, self._pool_branch(x)], 1)


class InceptionV3Aux(nn.Module):
    """torchvision's ``InceptionAux`` on ``mixed7`` (the paper's section 4 side head).

    5x5/3 average pool, 1x1 conv 128, 5x5 conv 768 (both with BN), global average pool,
    FC to the classes. The pooled map must be at least 5x5, i.e. a 17x17 ``mixed7``
    (299x299 input).
    """

    def __init__(
        self, in_channels: int, num_classes: int, *, conv: ConvFactory = ConvNormAct,
    ) -> None:
        super().__init__()
        self.conv0 = conv(in_channels, 128, 1)
        self.conv1 = conv(128, 768, 5, padding=0)
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h < 17 or w < 17:  # 5x5/3 pooling must leave at least 5x5 for conv1
            raise SpecError(
                f"Inception v3 auxiliary head needs a mixed7 map of 17x17 or more, got {h}x{w}: "
                "feed 299x299 inputs to forward_train, or use forward() for logits only"
            )
        x = F.avg_pool2d(x, 5, stride=3)
        x = self.conv1(self.conv0(x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.classifier(x)
