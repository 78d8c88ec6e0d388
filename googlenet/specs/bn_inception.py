"""BN-Inception as Figure 5 of Ioffe & Szegedy 2015, built as its released Caffe model.

Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network Training by Reducing
Internal Covariate Shift" (2015), appendix, Figure 5: GoogLeNet's Table 1 with BN in front
of every ReLU and three changes to the modules:

- the 5x5 branch becomes two consecutive 3x3 convolutions ("double #3x3");
- there are no pooling layers between modules: 3c and 4e reduce the grid themselves, with
  stride-2 convolutions beside a stride-2 max pool that is passed through unprojected;
- the pool branch averages in most modules and takes the maximum in 5b.

Each ``_module`` row reads like the figure: #1x1, #3x3 reduce, #3x3, double #3x3 reduce,
double #3x3 and "Pool +proj" (``"avg + 32"``, ``"max + pass through"``);
:func:`figure5_block` turns such a row into the module's branch table.

The network is laid out as the widely used Caffe model (Xiong's TSN release,
``bn_inception-9f5701afb96c8044.pth``, ported to PyTorch by Cadene's pretrainedmodels as
``bninception``), so its weights map one to one: the choices that are not columns of the
figure are the :data:`BN_INCEPTION` fields below, each with its reason, and where the built
network departs from the printed figure the row says so in ``Row.deviation``.

Module names (state-dict keys) are GoogLeNet's: ``conv1``, ``conv2_reduce``, ``conv2``,
``inception_3a.branch_3x3.reduce``; the double 3x3 is ``branch_double_3x3.reduce``,
``.conv1``, ``.conv2``. TF-slim's ``inception_v2`` endpoint names are feature aliases
(``Mixed_3b`` is 3a ... ``Mixed_5c`` is 5b).
"""

from __future__ import annotations

from typing import Literal

from ..errors import SpecError
from ..preprocessing import Preprocessing
from .blocks import BlockSpec, Branch, Conv, Op, Pool
from .entry import Accuracy, ModelInfo, PublishedWeights, Release
from .googlenet import BRANCH_1X1, BRANCH_3X3, BRANCH_POOL, CONV, POOL, PROJ, REDUCE
from .publishers import CADENE_README, CADENE_URL, sha256_prefix
from .types import Column, NetSpec, Row, TableLayout

PAPER = ("Ioffe & Szegedy 2015, Batch Normalization: Accelerating Deep Network Training "
         "by Reducing Internal Covariate Shift")

BRANCH_DOUBLE_3X3 = "branch_double_3x3"
CONV_1, CONV_2 = "conv1", "conv2"  # the two 3x3 convolutions of the double branch
PASS_THROUGH = "pass through"
_POOLS: dict[str, Literal["avg", "max"]] = {"avg": "avg", "max": "max"}

# The Caffe model's input: BGR pixels in 0..255 minus a per-channel mean, not scaled
# (Cadene's pretrained_settings: input_space BGR, input_range [0, 255], mean
# [104, 117, 128], std [1, 1, 1]). The means are in the model's channel order, B, G, R.
CAFFE_MEAN_BGR = (104.0, 117.0, 128.0)


def figure5_block(row: Row) -> BlockSpec:
    """The branch table of a Figure 5 row (``type="bn_inception"``).

    Branches in the Caffe model's concatenation order: 1x1 (absent where the figure
    prints 0), 3x3 behind its reduce, double 3x3 behind its reduce, pool. A row with
    ``stride=2`` (3c, 4e) strides its last 3x3s and pools 3x3/2 without padding, the
    pooled input passed through when "Pool +proj" says so.
    """
    columns = (row.n1x1, row.n3x3_reduce, row.n3x3, row.double_3x3_reduce, row.double_3x3)
    pool = row.pool
    if any(c is None for c in columns) or not isinstance(pool, str):
        raise SpecError(f"row {row.name}: a Figure 5 row needs #1x1, #3x3 reduce, #3x3, "
                        "double #3x3 reduce, double #3x3 and 'Pool +proj'")
    n1, r3, n3, rd, nd = (int(c or 0) for c in columns)
    kind, _, proj = pool.partition(" + ")
    if kind not in _POOLS or not (proj == PASS_THROUGH or proj.isdigit()):
        raise SpecError(f"row {row.name}: 'Pool +proj' reads like 'avg + 32' or "
                        f"'max + {PASS_THROUGH}', got {pool!r}")
    stride = row.stride or 1
    branches = [Branch(BRANCH_1X1, (Conv(n1, 1, name=BRANCH_1X1),))] if n1 else []
    branches.append(Branch(BRANCH_3X3, (Conv(r3, 1, name=f"{BRANCH_3X3}.{REDUCE}"),
                                        Conv(n3, 3, stride, name=f"{BRANCH_3X3}.{CONV}"))))
    branches.append(Branch(BRANCH_DOUBLE_3X3, (
        Conv(rd, 1, name=f"{BRANCH_DOUBLE_3X3}.{REDUCE}"),
        Conv(nd, 3, name=f"{BRANCH_DOUBLE_3X3}.{CONV_1}"),
        Conv(nd, 3, stride, name=f"{BRANCH_DOUBLE_3X3}.{CONV_2}"))))
    # Stride 1: 'same' 3x3 pooling. Stride 2: 3x3/2 unpadded, rounded up as Caffe rounds
    # (the network's pool_ceil_mode), which matches the padded stride-2 convolutions on
    # even grids.
    ops: tuple[Op, ...] = (Pool(_POOLS[kind], 3, stride, padding=0 if stride > 1 else None,
                                name=f"{BRANCH_POOL}.{POOL}"),)
    if proj != PASS_THROUGH:
        ops += (Conv(int(proj), 1, name=f"{BRANCH_POOL}.{PROJ}"),)
    branches.append(Branch(BRANCH_POOL, ops))
    return BlockSpec(tuple(branches), label=f"inception ({row.name.rsplit('_', 1)[-1]})")


def _module(name: str, out: tuple[int, int, int], widths: tuple[int, int, int, int, int],
            pool: str, *, stride: int | None = None, deviation: str = "") -> Row:
    n1, r3, n3, rd, nd = widths
    return Row(name, "bn_inception", stride=stride, out_size=out, depth=3, n1x1=n1,
               n3x3_reduce=r3, n3x3=n3, deviation=deviation,
               double_3x3_reduce=rd, double_3x3=nd, pool=pool)


_STRIDE_2 = ("Figure 5 prints the module's input grid, {0}x{0}; its stride-2 branches "
             "output {1}x{1}")

FIGURE5: tuple[Row, ...] = (
    Row("conv1", "conv", patch=7, stride=2, out_size=(112, 112, 64), depth=1,
        deviation="Figure 5's conv1 ('convolution*') is separable with depth multiplier 8 "
                  "(appendix); the Caffe model has a full 7x7 convolution, built here"),
    Row("pool1", "max_pool", patch=3, stride=2, out_size=(56, 56, 64)),
    # "#3x3 reduce 64, #3x3 192" as in Table 1: a 1x1 convolution, then the 3x3. Figure 5
    # prints depth 1 where Table 1 counts the reduce too (2).
    Row("conv2", "conv", patch=3, stride=1, out_size=(56, 56, 192), depth=1,
        n3x3_reduce=64, n3x3=192),
    Row("pool2", "max_pool", patch=3, stride=2, out_size=(28, 28, 192)),
    _module("inception_3a", (28, 28, 256), (64, 64, 64, 64, 96), "avg + 32"),
    _module("inception_3b", (28, 28, 320), (64, 64, 96, 64, 96), "avg + 64"),
    _module("inception_3c", (28, 28, 576), (0, 128, 160, 64, 96), f"max + {PASS_THROUGH}",
            stride=2, deviation=_STRIDE_2.format(28, 14)),
    _module("inception_4a", (14, 14, 576), (224, 64, 96, 96, 128), "avg + 128"),
    _module("inception_4b", (14, 14, 576), (192, 96, 128, 96, 128), "avg + 128"),
    # TF-slim's inception_v2 cuts the pool projections of 4c and 4d to 96 to keep the
    # printed 576; the Caffe model keeps the figure's 128, and so 608.
    _module("inception_4c", (14, 14, 576), (160, 128, 160, 128, 160), "avg + 128",
            deviation="Figure 5 prints 576 channels; its branches add up to "
                      "160+160+160+128 = 608"),
    _module("inception_4d", (14, 14, 576), (96, 128, 192, 160, 192), "avg + 128",
            deviation="Figure 5 prints 576 channels (and 4c gives 608); its branches "
                      "add up to 96+192+192+128 = 608"),
    _module("inception_4e", (14, 14, 1024), (0, 128, 192, 192, 256),
            f"max + {PASS_THROUGH}", stride=2,
            deviation=_STRIDE_2.format(14, 7) + ", and 192+256 plus the 608 passed "
                                                "through = 1056 channels, not 1024"),
    _module("inception_5a", (7, 7, 1024), (352, 192, 320, 160, 224), "avg + 128"),
    _module("inception_5b", (7, 7, 1024), (352, 192, 320, 192, 224), "max + 128"),
    # 7x7/1 average pooling over the 7x7 map, built as global average pooling.
    Row("avgpool", "global_avg_pool", patch=7, stride=1, out_size=(1, 1, 1024)),
    # Section 4.2: "other than the top softmax layer, [it] has no fully-connected layers".
    Row("fc", "linear", out_size=(1, 1, 1000), depth=1),
    Row("softmax", "softmax", out_size=(1, 1, 1000)),
)

FIGURE5_LAYOUT = TableLayout("Figure 5 of the BN-Inception paper (Ioffe & Szegedy 2015)", (
    Column("type", "label"), Column("patch/stride", "patch_stride"),
    Column("output size", "output_size"), Column("depth", "depth"), Column("#1x1", "n1x1"),
    Column("#3x3 red", "n3x3_reduce"), Column("#3x3", "n3x3"),
    Column("dbl #3x3 red", "double_3x3_reduce"), Column("dbl #3x3", "double_3x3"),
    Column("pool +proj", "pool"),
), note="; where the built network departs from Figure 5:\n" + "\n".join(
    f"  {row.name}: {row.deviation}" for row in FIGURE5 if row.deviation))
"""Figure 5's columns, with the rows' deviations from the printed figure under the table."""

SLIM_NAMES: dict[str, str] = {
    alias: row.name for alias, row in zip(
        ("Mixed_3b", "Mixed_3c", "Mixed_4a", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e",
         "Mixed_5a", "Mixed_5b", "Mixed_5c"),
        (r for r in FIGURE5 if r.type == "bn_inception"), strict=True)
}
"""TF-slim's ``inception_v2`` endpoints -> our modules (slim's 4c and 4d project their
pools to 96, not 128: same places in the network, other widths)."""

BN_INCEPTION = NetSpec(
    name="bn_inception",
    rows=FIGURE5,
    input_size=224,
    norm="bn",
    # Section 3.2 drops the convolution bias in front of BN ("its effect will be
    # canceled by the subsequent mean subtraction"); the Caffe model keeps one in every
    # convolution, and its weights carry them.
    conv_bias=True,
    # The Caffe model's BN epsilon as the port keeps it (PyTorch's default).
    bn_eps=1e-5,
    # Section 4.2.1: "Remove Local Response Normalization".
    use_lrn=False,
    # Caffe rounds pooling output sizes up (112 -> 56 -> 28 and the stride-2 modules'
    # 28 -> 14 -> 7 need it) and its average pooling counts the padded zeros.
    pool_ceil_mode=True,
    avg_pool_count_include_pad=True,
    # Section 4.2.1: "Remove Dropout"; the Caffe model has none.
    dropout=0.0,
    feature_aliases=SLIM_NAMES,
    table=FIGURE5_LAYOUT,
    # The Caffe model's BGR 0..255 input minus CAFFE_MEAN_BGR, written for the RGB 0..1
    # pixels the training pipeline feeds: the same numbers up to the channel order, which
    # a weights file's own preprocessing (its release, below) restores.
    mean=tuple(m / 255.0 for m in reversed(CAFFE_MEAN_BGR)),
    std=(1 / 255.0,) * 3,
)
"""BN-Inception laid out as the Caffe model (Cadene's ``bninception`` weights map 1:1)."""

# Cadene's bninception, the Caffe BN-Inception: BGR pixels in 0..255 minus
# CAFFE_MEAN_BGR, std 1; 224x224 crops of images resized to 256 (its 0.875 scale).
_CADENE = Release("timm", ("bn_inception-52deb4733.pth",),
                  Preprocessing(mean=CAFFE_MEAN_BGR, std=(1.0, 1.0, 1.0), scale=255.0,
                                channel_order="BGR", input_size=224, resize_size=256),
                  "Cadene bninception (Caffe BN-Inception): BGR pixels in 0..255 minus the "
                  "mean")

ENTRIES: tuple[ModelInfo, ...] = (
    # 31: the smallest input whose grid at 3c is a 4x4 and at 4e a 2x2. Above it, only
    # sizes whose grids there are even fit (32 and 224 do, 48 does not): the padded
    # stride-2 convolutions and the unpadded pool beside them disagree on odd grids
    # (googlenet.models.grid names the nearest sizes that fit).
    ModelInfo(BN_INCEPTION,
              "BN-Inception (Figure 5) as the Caffe model: conv+bias+BN, BGR 0..255 input.",
              PAPER, min_input_size=31, num_params=11_295_240,
              releases=(_CADENE,), weights=(
                  # Cadene pretrainedmodels/models/bninception.py url; README: BNInception,
                  # "Our porting", 73.524 / 91.562. No size is published.
                  PublishedWeights(
                      "caffe_in1k", _CADENE, "bn_inception-52deb4733.pth",
                      CADENE_URL + "bn_inception-52deb4733.pth",
                      sha256_prefix("bn_inception-52deb4733.pth"), None,
                      "BSD-3-Clause (pretrainedmodels)",
                      Accuracy(73.524, 91.562, CADENE_README + " BNInception"), default=True),
              )),
)
"""The family's registry entries (see :mod:`googlenet.specs.entry`)."""
