"""GoogLeNet as the paper's Table 1, and its variants as named deviations.

Szegedy et al., "Going Deeper with Convolutions" (2014), Table 1. Each ``_incep`` row
reads like the table: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj, then the
printed params and ops (multiply-adds) at 224x224. :func:`table1_block` turns such a row
into the block's branch table (Figure 2b; Figure 2a when the reduce columns are empty).
"""

from __future__ import annotations

from dataclasses import replace

from ..download import Checksum
from ..errors import SpecError
from ..preprocessing import Preprocessing
from .blocks import BlockSpec, Branch, Conv, Pool
from .entry import Accuracy, ModelInfo, PublishedWeights, Release
from .publishers import HALF, TV, TV_URL, sha256_prefix
from .types import AuxSpec, Column, NetSpec, Row, TableLayout, parse_count

PAPER = "Szegedy et al. 2014, Going Deeper with Convolutions"

# Module names inside a Table 1 block (state-dict keys: the weight key maps read these).
BRANCH_1X1, BRANCH_3X3, BRANCH_5X5, BRANCH_POOL = (
    "branch_1x1", "branch_3x3", "branch_5x5", "branch_pool")
REDUCE, CONV, POOL, PROJ = "reduce", "conv", "pool", "proj"

TABLE1_MODULES: dict[str, str] = {
    "n1x1": BRANCH_1X1,
    "n3x3_reduce": f"{BRANCH_3X3}.{REDUCE}",
    "n3x3": f"{BRANCH_3X3}.{CONV}",
    "n5x5_reduce": f"{BRANCH_5X5}.{REDUCE}",
    "n5x5": f"{BRANCH_5X5}.{CONV}",
    "pool_proj": f"{BRANCH_POOL}.{PROJ}",
}
"""Table 1 column (a :class:`Row` field) -> the convolution it sizes in a block with
reductions (Figure 2b)."""


def _reduced(branch: str, reduce: int | None, out: int, kernel: int) -> Branch:
    if reduce is None:  # Figure 2a: the kxk convolution reads the block input
        return Branch(branch, (Conv(out, kernel, name=branch),))
    return Branch(branch, (Conv(reduce, 1, name=f"{branch}.{REDUCE}"),
                           Conv(out, kernel, name=f"{branch}.{CONV}")))


def table1_block(row: Row, kernel_5x5: int = 5) -> BlockSpec:
    """The branch table of a Table 1 ``inception`` row.

    ``kernel_5x5`` is ``NetSpec.kernel_5x5`` (torchvision's 3x3 "5x5" branch). Empty
    reduce columns give the naive block's kxk convolution reading the block input
    (Figure 2a); an empty pool proj passes the pooled input through, as that figure does.
    """
    if row.n1x1 is None or row.n3x3 is None or row.n5x5 is None:
        raise SpecError(f"row {row.name}: an inception row needs #1x1, #3x3 and #5x5")
    pool: tuple[Conv | Pool, ...] = (Pool("max", 3, 1, name=f"{BRANCH_POOL}.{POOL}"),)
    if row.pool_proj is not None:
        pool += (Conv(row.pool_proj, 1, name=f"{BRANCH_POOL}.{PROJ}"),)
    return BlockSpec((
        Branch(BRANCH_1X1, (Conv(row.n1x1, 1, name=BRANCH_1X1),)),
        _reduced(BRANCH_3X3, row.n3x3_reduce, row.n3x3, 3),
        _reduced(BRANCH_5X5, row.n5x5_reduce, row.n5x5, kernel_5x5),
        Branch(BRANCH_POOL, pool),
    ), label=f"inception ({row.name.rsplit('_', 1)[-1]})")


def _incep(
    name: str, out: tuple[int, int, int], widths: tuple[int, int, int, int, int, int],
    params: str, ops: str,
) -> Row:
    n1, r3, n3, r5, n5, pp = widths
    return Row(
        name, "inception", out_size=out, depth=2, n1x1=n1, n3x3_reduce=r3, n3x3=n3,
        n5x5_reduce=r5, n5x5=n5, pool_proj=pp,
        paper_params=parse_count(params), paper_ops=parse_count(ops),
    )


def _pool(name: str, patch: int, stride: int, out: tuple[int, int, int],
          lrn_after: bool = False) -> Row:
    return Row(name, "max_pool", patch=patch, stride=stride, out_size=out, lrn_after=lrn_after)


TABLE1: tuple[Row, ...] = (
    Row("conv1", "conv", patch=7, stride=2, out_size=(112, 112, 64), depth=1,
        paper_params=parse_count("2.7K"), paper_ops=parse_count("34M")),
    _pool("pool1", 3, 2, (56, 56, 64), lrn_after=True),
    # "#3x3 reduce 64, #3x3 192": a 1x1 reduce convolution, then the 3x3, hence depth 2.
    Row("conv2", "conv", patch=3, stride=1, out_size=(56, 56, 192), depth=2,
        n3x3_reduce=64, n3x3=192, lrn_after=True,
        paper_params=parse_count("112K"), paper_ops=parse_count("360M")),
    _pool("pool2", 3, 2, (28, 28, 192)),
    _incep("inception_3a", (28, 28, 256), (64, 96, 128, 16, 32, 32), "159K", "128M"),
    _incep("inception_3b", (28, 28, 480), (128, 128, 192, 32, 96, 64), "380K", "304M"),
    _pool("pool3", 3, 2, (14, 14, 480)),
    _incep("inception_4a", (14, 14, 512), (192, 96, 208, 16, 48, 64), "364K", "73M"),
    _incep("inception_4b", (14, 14, 512), (160, 112, 224, 24, 64, 64), "437K", "88M"),
    _incep("inception_4c", (14, 14, 512), (128, 128, 256, 24, 64, 64), "463K", "100M"),
    _incep("inception_4d", (14, 14, 528), (112, 144, 288, 32, 64, 64), "580K", "119M"),
    _incep("inception_4e", (14, 14, 832), (256, 160, 320, 32, 128, 128), "840K", "170M"),
    _pool("pool4", 3, 2, (7, 7, 832)),
    _incep("inception_5a", (7, 7, 832), (256, 160, 320, 32, 128, 128), "1072K", "54M"),
    _incep("inception_5b", (7, 7, 1024), (384, 192, 384, 48, 128, 128), "1388K", "71M"),
    # 7x7/1 average pooling over a 7x7 map is global average pooling; built as such so
    # that other input sizes work too.
    Row("avgpool", "global_avg_pool", patch=7, stride=1, out_size=(1, 1, 1024)),
    Row("dropout", "dropout", out_size=(1, 1, 1024)),  # p: NetSpec.dropout
    Row("fc", "linear", out_size=(1, 1, 1000), depth=1,
        paper_params=parse_count("1000K"), paper_ops=parse_count("1M")),
    Row("softmax", "softmax", out_size=(1, 1, 1000)),
)

TABLE1_LAYOUT = TableLayout("the paper's Table 1", (
    Column("type", "label"), Column("patch/stride", "patch_stride"),
    Column("output size", "output_size"), Column("depth", "depth"), Column("#1x1", "n1x1"),
    Column("#3x3 red", "n3x3_reduce"), Column("#3x3", "n3x3"),
    Column("#5x5 red", "n5x5_reduce"), Column("#5x5", "n5x5"),
    Column("pool proj", "pool_proj"),
), note=" (its conv1 row prints 2.7K/34M, which 7x7x3x64 weights cannot give)")
"""Table 1's columns, for GoogLeNet and every variant written as Table 1 rows."""

# Section 5: auxiliary classifiers on the outputs of 4a and 4d.
PAPER_AUX = (AuxSpec("aux_4a", "inception_4a"), AuxSpec("aux_4d", "inception_4d"))

GOOGLENET = NetSpec(name="googlenet", rows=TABLE1, aux=PAPER_AUX, table=TABLE1_LAYOUT)
"""The paper's network: LRN, biases, real 5x5 branches, dropout 0.4, 5x5/3 aux pooling."""


def _with_pool4(rows: tuple[Row, ...], patch: int) -> tuple[Row, ...]:
    return tuple(replace(r, patch=patch) if r.name == "pool4" else r for r in rows)


GOOGLENET_BN = replace(
    GOOGLENET,
    name="googlenet_bn",
    # Ioffe & Szegedy 2015 (Inception-v2) replaced LRN by BN after every convolution;
    # torchvision's GoogLeNet does the same, without conv biases.
    norm="bn",
    use_lrn=False,
    # torchvision (and the TF-slim checkpoints it was converted from) use eps 1e-3.
    bn_eps=1e-3,
    # torchvision's "5x5" branch is a 3x3 convolution (pytorch/vision#906); kept so that
    # its weights load unchanged.
    kernel_5x5=3,
    # torchvision pools 2x2/2 before 5a (the paper: 3x3/2); both give 7x7 with ceil mode.
    rows=_with_pool4(TABLE1, 2),
    # torchvision's classifier dropout is 0.2 (the paper: 0.4).
    dropout=0.2,
    # torchvision pools the aux input adaptively to 4x4, so any input size works.
    aux=tuple(replace(a, adaptive_pool=True) for a in PAPER_AUX),
    # torchvision's GoogLeNet weights come from TF-slim and expect (x - 0.5) / 0.5 (its
    # transform_input=True undoes the ImageNet normalisation); a fresh model uses the
    # same, so the registry never contradicts the converted weights.
    mean=(0.5, 0.5, 0.5),
    std=(0.5, 0.5, 0.5),
)
"""GoogLeNet with batch norm, laid out as torchvision's ``googlenet`` (weights map 1:1)."""


def _naive(rows: tuple[Row, ...]) -> tuple[Row, ...]:
    # Figure 2a blocks: no reduce columns, so the 3x3 and 5x5 read the block input (one
    # convolution deep). The printed params/ops are those of Figure 2b blocks: dropped.
    # The pool branch keeps Table 1's 1x1 projection, so every stage has the paper's
    # width and the comparison with `googlenet` isolates the 3x3/5x5 reductions.
    return tuple(
        replace(r, n3x3_reduce=None, n5x5_reduce=None, depth=1, paper_params=None,
                paper_ops=None) if r.type == "inception" else r
        for r in rows)


GOOGLENET_NAIVE = replace(GOOGLENET, name="googlenet_naive", rows=_naive(TABLE1), aux=())
"""Table 1 widths with naive Inception blocks: what the 1x1 reductions save."""

# From models/bvlc_googlenet/train_val.prototxt (transform_param: mirror, crop_size 224,
# mean_value 104 / 117 / 123) and Caffe's image pipeline: images are decoded by OpenCV,
# hence BGR, kept in the 0-255 range (transform_param sets no scale), the per-channel
# mean is subtracted, and nothing divides by a std. The means are in the model's
# channel order, B, G, R. The ImageNet LMDBs were built from images resized to
# 256x256; at test time the data layer takes the centre 224x224 crop.
_CAFFE = Release("caffe", ("bvlc_googlenet.caffemodel",),
                 Preprocessing(mean=(104.0, 117.0, 123.0), std=(1.0, 1.0, 1.0), scale=255.0,
                               channel_order="BGR", input_size=224, resize_size=256),
                 "BVLC GoogLeNet: BGR pixels in 0..255 minus the per-channel mean")
# torchvision's pretrained GoogLeNet and Inception v3 were converted from TF-slim
# checkpoints and run with transform_input=True: the model turns ImageNet-normalised
# input back into (x - 0.5) / 0.5 before its first convolution. Our models have no
# such step, so the preprocessing the weights really expect is written down instead.
_TORCHVISION = Release("torchvision", ("googlenet-1378be20.pth",),
                       Preprocessing(mean=HALF, std=HALF, input_size=224, resize_size=256),
                       "torchvision googlenet (TF-slim weights): (x - 0.5) / 0.5")

ENTRIES: tuple[ModelInfo, ...] = (
    ModelInfo(GOOGLENET,
              "The paper's GoogLeNet: Table 1, LRN, biases, 5x5 branches, two aux heads.",
              PAPER, min_input_size=31, num_params=6_998_552, num_params_with_aux=13_378_280,
              releases=(_CAFFE,), weights=(
                  # BVLC/caffe models/bvlc_googlenet/readme.md: caffemodel_url, sha1,
                  # "license: unrestricted"; "top-1 accuracy 68.7% ... top-5 accuracy 88.9%
                  # on the validation set, using just the center crop". The readme gives
                  # no file size.
                  PublishedWeights(
                      "bvlc", _CAFFE, "bvlc_googlenet.caffemodel",
                      "http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel",
                      Checksum("sha1", "405fc5acd08a3bb12de8ee5e23a96bec22f08204"), None,
                      "unrestricted use (BVLC model zoo)",
                      Accuracy(68.7, 88.9, "BVLC/caffe models/bvlc_googlenet/readme.md"),
                      default=True),
              )),
    ModelInfo(GOOGLENET_BN,
              "GoogLeNet with BN after every conv, torchvision's layout and weights.",
              PAPER, min_input_size=15, num_params=6_624_904, num_params_with_aux=13_004_888,
              releases=(_TORCHVISION,), weights=(
                  # pytorch/vision torchvision/models/googlenet.py
                  # GoogLeNet_Weights.IMAGENET1K_V1: url, _metrics ImageNet-1K acc@1
                  # 69.778 / acc@5 89.530, _file_size 49.731 (MiB). The repository's
                  # licence is BSD-3-Clause.
                  PublishedWeights(
                      "tv_in1k", _TORCHVISION, "googlenet-1378be20.pth",
                      TV_URL + "googlenet-1378be20.pth",
                      sha256_prefix("googlenet-1378be20.pth"), 49.731,
                      "BSD-3-Clause (torchvision)",
                      Accuracy(69.778, 89.530,
                               TV + "googlenet.py GoogLeNet_Weights.IMAGENET1K_V1"),
                      default=True),
              )),
    ModelInfo(GOOGLENET_NAIVE,
              "Table 1 widths with naive (Figure 2a) blocks: no 1x1 reductions.",
              PAPER, min_input_size=31, num_params=25_305_944),
)
"""The family's registry entries (see :mod:`googlenet.specs.entry`)."""
