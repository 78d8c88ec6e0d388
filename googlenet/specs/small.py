"""GoogLeNet-family networks for small images: MNIST-like 28x28, CIFAR 32x32, d2l's 96x96.

The Inception stages keep Table 1's widths (times a width multiplier); only the stem
shrinks, because a 7x7/2 convolution and two 3x3/2 pools would leave a 28x28 image
with a 2x2 map before stage 3.
"""

from __future__ import annotations

from dataclasses import replace

from .blocks import BlockSpec, Branch, Conv, Pool
from .entry import ModelInfo
from .googlenet import (
    BRANCH_1X1,
    BRANCH_5X5,
    BRANCH_POOL,
    CONV,
    PAPER,
    POOL,
    PROJ,
    REDUCE,
    TABLE1,
    TABLE1_LAYOUT,
)
from .inception_resnet import INCEPTION_RESNET_V2, IR_TABLE, MIXED_5B, V2_STAGES
from .inception_v4 import PAPER as V4_PAPER
from .types import NetSpec, Row

FASHION_MEAN, FASHION_STD = (0.2860,), (0.3530,)
CIFAR_MEAN, CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


def _stages() -> tuple[Row, ...]:
    """Table 1 from inception_3a on, without the printed sizes (they hold at 224 only)."""
    start = next(i for i, r in enumerate(TABLE1) if r.name == "inception_3a")
    return tuple(replace(r, out_size=None) for r in TABLE1[start:])


def _small_stem() -> tuple[Row, ...]:
    # Two 3x3/1 convolutions take the place of conv1/conv2 and keep full resolution;
    # pool2 then halves it, so stages 3/4/5 see 1/2, 1/4, 1/8 of the input as in
    # Table 1 (28, 14, 7 out of 224).
    return (
        Row("conv1", "conv", patch=3, stride=1, depth=1, out=64),
        Row("conv2", "conv", patch=3, stride=1, depth=1, n3x3=192),
        Row("pool2", "max_pool", patch=3, stride=2),
    )


GOOGLENET_CIFAR = NetSpec(
    name="googlenet_cifar", rows=_small_stem() + _stages(), input_size=32, num_classes=10,
    norm="bn", use_lrn=False, dropout=0.2, mean=CIFAR_MEAN, std=CIFAR_STD,
    table=TABLE1_LAYOUT,
)
"""GoogLeNet with BN for 32x32 images (CIFAR-10/100)."""

GOOGLENET_MNIST = replace(
    GOOGLENET_CIFAR, name="googlenet_mnist", input_size=28, in_chans=1,
    mean=FASHION_MEAN, std=FASHION_STD,
)
"""GoogLeNet with BN for 28x28 one-channel images (MNIST, Fashion-MNIST)."""


def _strided_stem() -> tuple[Row, ...]:
    # conv2 strides instead of running at full resolution before pool2: at 28x28 the
    # full-resolution conv2 is a quarter of googlenet_mnist's multiply-adds
    # (`googlenet summary googlenet_mnist`), which this spec spends on wider stages.
    return (
        Row("conv1", "conv", patch=3, stride=1, depth=1, out=64),
        Row("conv2", "conv", patch=3, stride=2, depth=1, n3x3=192),
    )


GOOGLENET_MNIST_WIDE = replace(
    GOOGLENET_MNIST, name="googlenet_mnist_wide", rows=_strided_stem() + _stages(), width=0.5,
)
"""googlenet_mnist with a strided stem and half of Table 1's widths by default (1.5M
parameters); its Fashion-MNIST benchmark run is in BENCHMARKS.md."""


def _plain(out: int, kernel: int, name: str) -> Conv:
    # The course's convolutions are bare nn.Conv2d: bias, no activation.
    return Conv(out, kernel, name=name, act=False)


INCEPTION_A = BlockSpec((
    Branch(BRANCH_1X1, (_plain(16, 1, BRANCH_1X1),)),
    Branch(BRANCH_5X5, (_plain(16, 1, f"{BRANCH_5X5}.{REDUCE}"),
                        _plain(24, 5, f"{BRANCH_5X5}.{CONV}"))),
    # The course's branch3x3_1..3, here a numbered container (state-dict keys).
    Branch("branch_3x3dbl", (_plain(16, 1, "branch_3x3dbl.0"), _plain(24, 3, "branch_3x3dbl.1"),
                             _plain(24, 3, "branch_3x3dbl.2"))),
    # The course pools with F.avg_pool2d(x, 3, stride=1, padding=1), whose default
    # count_include_pad=True counts the padded zeros in the border averages.
    Branch(BRANCH_POOL, (
        Pool("avg", 3, 1, count_include_pad=True, name=f"{BRANCH_POOL}.{POOL}"),
        _plain(24, 1, f"{BRANCH_POOL}.{PROJ}"))),
), label="InceptionA")
"""The course's InceptionA (seed 001), a v3-style block: 1x1 16 | 1x1 16 > 5x5 24 |
1x1 16 > 3x3 24 > 3x3 24 | 3x3 average pool > 1x1 24; 88 channels out."""

INCEPTION_A_NET = NetSpec(
    name="inception_a_net",
    rows=(
        Row("conv1", "conv", patch=5, stride=1, padding=0, depth=1,
            out=10, act=False),
        Row("pool1", "max_pool", patch=2, stride=2),
        Row("relu1", "relu"),
        Row("incep1", "block", block=INCEPTION_A),
        Row("conv2", "conv", patch=5, stride=1, padding=0, depth=1,
            out=20, act=False),
        Row("pool2", "max_pool", patch=2, stride=2),
        Row("relu2", "relu"),
        Row("incep2", "block", block=INCEPTION_A),
        Row("flatten", "flatten"),
        Row("fc", "linear", depth=1),
    ),
    input_size=28, in_chans=1, num_classes=10, use_lrn=False, pool_ceil_mode=False,
    dropout=0.0, fixed_input_size=True, mean=(0.1307,), std=(0.3081,),
)
"""The MNIST network of the PyTorch course (seed 001): two InceptionA blocks, fc 1408."""


def _d2l_rows() -> tuple[Row, ...]:
    # d2l pools 3x3/2 with padding 1 and floor rounding; the stages are named b1..b5.
    rows = []
    for r in TABLE1:
        if r.type == "max_pool":
            r = replace(r, padding=1)
        if r.name == "conv1":  # the printed sizes hold at 224 only; keep the depth
            r = replace(r, out=64)
        rows.append(replace(r, out_size=None, lrn_after=False))
    return tuple(rows)


D2L_GOOGLENET = NetSpec(
    name="d2l_googlenet", rows=_d2l_rows(), input_size=96, in_chans=1, num_classes=10,
    use_lrn=False, pool_ceil_mode=False, dropout=0.0,
    feature_aliases={"b1": "pool1", "b2": "pool2", "b3": "pool3", "b4": "pool4",
                     "b5": "inception_5b"},
    mean=(0.0,), std=(1.0,), table=TABLE1_LAYOUT,
)
"""d2l.ai's GoogLeNet (stages b1..b5), trained on Fashion-MNIST resized to 96x96."""


def _inception_resnet_rows() -> tuple[Row, ...]:
    # Two 3x3/1 convolutions and mixed_5b at full resolution stand in for the released
    # stem, which takes 299 down to 35; the grid reductions then give 28 -> 13 -> 6.
    stem = (
        Row("conv1", "conv", patch=3, stride=1, depth=1, out=64),
        Row("conv2", "conv", patch=3, stride=1, depth=1, out=192),
        Row("mixed_5b", "block", block=MIXED_5B),
    )
    # Two, four and two of the release's 10/20/10 blocks; no linear last block and no
    # final 1x1 convolution, which only the release has (see V2_STAGES).
    stages = replace(V2_STAGES, repeats=(2, 4, 2), linear_last=False, final_conv=None)
    return stem + stages.rows(None) + (Row("avgpool", "global_avg_pool"),
                                        Row("dropout", "dropout"), Row("fc", "linear", depth=1))


INCEPTION_RESNET_CIFAR = replace(
    INCEPTION_RESNET_V2, name="inception_resnet_cifar", rows=_inception_resnet_rows(),
    input_size=32, num_classes=10, feature_aliases={},
    # A quarter of the release's widths (mixed_5b: 80 channels, mixed_7a: 520).
    width=0.25, mean=CIFAR_MEAN, std=CIFAR_STD,
    table=replace(IR_TABLE, title="a small Inception-ResNet's stages and blocks"),
)
"""Inception-ResNet for 32x32 images (d2l 8.4, exercise 1: "use residual connections in the
Inception block"): Inception-ResNet-v2's branch tables at a quarter width, 2/4/2 blocks."""

INCEPTION_RESNET_MNIST = replace(
    INCEPTION_RESNET_CIFAR, name="inception_resnet_mnist", input_size=28, in_chans=1,
    mean=FASHION_MEAN, std=FASHION_STD,
)
"""The same for 28x28 one-channel images (Fashion-MNIST)."""

ENTRIES: tuple[ModelInfo, ...] = (
    ModelInfo(GOOGLENET_CIFAR,
              "GoogLeNet with BN for 32x32 images; `width` scales every stage.",
              PAPER, min_input_size=8, num_params=5_979_178),
    ModelInfo(GOOGLENET_MNIST,
              "GoogLeNet with BN for 28x28 grayscale images; `width` scales stages.",
              PAPER, min_input_size=8, num_params=5_978_026),
    ModelInfo(GOOGLENET_MNIST_WIDE,
              "googlenet_mnist with a strided stem, half of Table 1's widths by default.",
              PAPER, min_input_size=7, num_params=1_500_826),
    ModelInfo(INCEPTION_A_NET,
              "The PyTorch course's MNIST net: two InceptionA blocks, fc 1408->10.",
              "Liu Er, PyTorch Deep Learning Practice (seed 001)",
              min_input_size=28, num_params=97_298),
    ModelInfo(D2L_GOOGLENET,
              "d2l.ai's GoogLeNet, stages b1..b5, 1-channel 96x96 (Fashion-MNIST).",
              "Zhang et al., Dive into Deep Learning, section 8.4",
              min_input_size=1, num_params=5_977_530),
    # 7: the two grid reductions' 3x3/2 'valid' convolutions need 7 -> 3 -> 1.
    ModelInfo(INCEPTION_RESNET_CIFAR,
              "A small Inception-ResNet for 32x32 images: v2's blocks at 1/4 width.",
              V4_PAPER, min_input_size=7, num_params=995_090),
    ModelInfo(INCEPTION_RESNET_MNIST,
              "A small Inception-ResNet for 28x28 gray images (Fashion-MNIST).",
              V4_PAPER, min_input_size=7, num_params=994_802),
)
"""The family's registry entries (see :mod:`googlenet.specs.entry`)."""
