"""Inception-v4 as spec rows (Szegedy et al. 2016, "Inception-v4, Inception-ResNet and the
Impact of Residual Connections on Learning").

Figure 9's schema: the stem (Figure 3), 4 x Inception-A (Figure 4), Reduction-A (Figure 7,
with the paper's Table 1 filter counts k, l, m, n = 192, 224, 256, 384), 7 x Inception-B
(Figure 5), Reduction-B (Figure 8), 3 x Inception-C (Figure 6), average pooling, dropout
(keep 0.8) and the softmax. Each block is a branch table that reads like its figure, in
the layer order and concatenation order of the released network (TF-slim's
``inception_v4``, which timm's and Cadene's ``inception_v4`` reproduce and whose weights
they carry): 'V' marks the figures' unpadded ('valid') convolutions and pools.

Names, a public format (state-dict keys):

- stem convolutions: TF-slim's ``Conv2d_1a_3x3``, ``Conv2d_2a_3x3``, ``Conv2d_2b_3x3`` (as
  in :mod:`~googlenet.specs.inception_v3`);
- blocks: the paper's, ``stem_3a`` .. ``stem_5a`` (the stem's three concatenations),
  ``inception_a1`` .. ``inception_a4``, ``reduction_a``, ``inception_b1`` .. ``inception_b7``,
  ``reduction_b``, ``inception_c1`` .. ``inception_c3``; TF-slim's ``Mixed_3a`` .. ``Mixed_7d``
  are feature aliases;
- inside blocks: TF-slim / torchvision-style branch names by what the branch computes
  (``branch1x1``, ``branch3x3dbl_2``, ``branch7x7_3``, split arms ``branch3x3_2a`` /
  ``_2b``), numbered by :func:`~googlenet.specs.slim.slim_branch`.

timm names the blocks ``features.0`` .. ``features.21`` and the branches by position;
:mod:`googlenet.weights.timm_map` maps those names onto these, from the tables.
Sizes in ``out_size`` are (height, width, channels) at 299x299 input.
"""

from __future__ import annotations

from dataclasses import replace

from .blocks import BlockSpec, Conv
from .entry import Accuracy, ModelInfo, PublishedWeights, Release
from .publishers import TIMM_INCEPTION_299, TIMM_RESULTS, TIMM_URL, sha256_prefix
from .slim import AVG_SAME, MAX_VALID, slim_branch, valid
from .types import BLOCK_TABLE, Column, NetSpec, Row

PAPER = ("Szegedy et al. 2016, Inception-v4, Inception-ResNet and the Impact of Residual "
         "Connections on Learning")

STEM_3A = BlockSpec((
    slim_branch("branch_pool", MAX_VALID),
    slim_branch("branch3x3", valid(96)),
), label="stem (Figure 3)")
"""147 -> 73: a 3x3/2 max pool beside a 3x3/2 convolution."""

STEM_4A = BlockSpec((
    slim_branch("branch3x3", Conv(64, 1), valid(96, stride=1)),
    slim_branch("branch7x7x3", Conv(64, 1), Conv(64, (1, 7)), Conv(64, (7, 1)),
                valid(96, stride=1)),
), label="stem (Figure 3)")
"""73 -> 71: two towers ending in 3x3 V convolutions, one through a factorised 7x7."""

STEM_5A = BlockSpec((
    slim_branch("branch3x3", valid(192)),
    slim_branch("branch_pool", MAX_VALID),
), label="stem (Figure 3)")
"""71 -> 35: a 3x3/2 convolution beside a 3x3/2 max pool."""

INCEPTION_A = BlockSpec((
    slim_branch("branch1x1", Conv(96, 1)),
    slim_branch("branch3x3", Conv(64, 1), Conv(96, 3)),
    slim_branch("branch3x3dbl", Conv(64, 1), Conv(96, 3), Conv(96, 3)),
    slim_branch("branch_pool", AVG_SAME, Conv(96, 1)),
), label="Inception-A (Figure 4)")
"""35x35: 1x1, 3x3 and double 3x3 beside an average pool, 96 channels each."""


def reduction_a(k: int, l: int, m: int, n: int) -> BlockSpec:  # noqa: E741  (the paper's l)
    """35 -> 17 (Figure 7): a 3x3/2 convolution with ``n`` filters, 1x1 ``k`` -> 3x3 ``l``
    -> 3x3/2 ``m``, and a 3x3/2 max pool. The paper's Table 1 gives k, l, m, n per network."""
    return BlockSpec((
        slim_branch("branch3x3", valid(n)),
        slim_branch("branch3x3dbl", Conv(k, 1), Conv(l, 3), valid(m)),
        slim_branch("branch_pool", MAX_VALID),
    ), label="Reduction-A (Figure 7)")


INCEPTION_B = BlockSpec((
    slim_branch("branch1x1", Conv(384, 1)),
    slim_branch("branch7x7", Conv(192, 1), Conv(224, (1, 7)), Conv(256, (7, 1))),
    slim_branch("branch7x7dbl", Conv(192, 1), Conv(192, (7, 1)), Conv(224, (1, 7)),
                Conv(224, (7, 1)), Conv(256, (1, 7))),
    slim_branch("branch_pool", AVG_SAME, Conv(128, 1)),
), label="Inception-B (Figure 5)")
"""17x17: 7x7 and double 7x7 factorised into 1x7 and 7x1."""

REDUCTION_B = BlockSpec((
    slim_branch("branch3x3", Conv(192, 1), valid(192)),
    slim_branch("branch7x7x3", Conv(256, 1), Conv(256, (1, 7)), Conv(320, (7, 1)),
                valid(320)),
    slim_branch("branch_pool", MAX_VALID),
), label="Reduction-B (Figure 8)")
"""17 -> 8."""

INCEPTION_C = BlockSpec((
    slim_branch("branch1x1", Conv(256, 1)),
    slim_branch("branch3x3", Conv(384, 1), split=(Conv(256, (1, 3)), Conv(256, (3, 1)))),
    slim_branch("branch3x3dbl", Conv(384, 1), Conv(448, (3, 1)), Conv(512, (1, 3)),
                split=(Conv(256, (1, 3)), Conv(256, (3, 1)))),
    slim_branch("branch_pool", AVG_SAME, Conv(256, 1)),
), label="Inception-C (Figure 6)")
"""8x8: outputs expanded by parallel 1x3 and 3x1 convolutions."""


def _conv(name: str, stride: int, out: tuple[int, int, int], padding: int) -> Row:
    return Row(name, "conv", patch=3, stride=stride, out_size=out, depth=1, padding=padding,
               cells={"stage": "stem"})


def _blocks(stage: str, names: list[str], block: BlockSpec, out: tuple[int, int, int],
            ) -> tuple[Row, ...]:
    return tuple(Row(name, "block", out_size=out, block=block, cells={"stage": stage})
                 for name in names)


def _numbered(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(1, count + 1)]


ROWS: tuple[Row, ...] = (
    # TF-slim's stem: 3x3/2 V, 3x3 V, 3x3 'same'.
    _conv("Conv2d_1a_3x3", 2, (149, 149, 32), padding=0),
    _conv("Conv2d_2a_3x3", 1, (147, 147, 32), padding=0),
    _conv("Conv2d_2b_3x3", 1, (147, 147, 64), padding=1),
    *_blocks("stem", ["stem_3a"], STEM_3A, (73, 73, 160)),
    *_blocks("stem", ["stem_4a"], STEM_4A, (71, 71, 192)),
    *_blocks("stem", ["stem_5a"], STEM_5A, (35, 35, 384)),
    *_blocks("4 x Inception-A", _numbered("inception_a", 4), INCEPTION_A, (35, 35, 384)),
    *_blocks("Reduction-A", ["reduction_a"], reduction_a(192, 224, 256, 384), (17, 17, 1024)),
    *_blocks("7 x Inception-B", _numbered("inception_b", 7), INCEPTION_B, (17, 17, 1024)),
    *_blocks("Reduction-B", ["reduction_b"], REDUCTION_B, (8, 8, 1536)),
    *_blocks("3 x Inception-C", _numbered("inception_c", 3), INCEPTION_C, (8, 8, 1536)),
    Row("avgpool", "global_avg_pool", patch=8, stride=1, out_size=(1, 1, 1536),
        cells={"stage": "Average Pooling"}),
    Row("dropout", "dropout", out_size=(1, 1, 1536), cells={"stage": "Dropout (keep 0.8)"}),
    Row("fc", "linear", out_size=(1, 1, 1000), depth=1, cells={"stage": "Softmax"}),
    Row("softmax", "softmax", out_size=(1, 1, 1000), cells={"stage": "Softmax"}),
)

SLIM_NAMES: dict[str, str] = dict(zip(
    ["Mixed_3a", "Mixed_4a", "Mixed_5a", *(f"Mixed_5{c}" for c in "bcde"), "Mixed_6a",
     *(f"Mixed_6{c}" for c in "bcdefgh"), "Mixed_7a", *(f"Mixed_7{c}" for c in "bcd")],
    [r.name for r in ROWS if r.type == "block"], strict=True))
"""TF-slim's ``inception_v4`` endpoints -> our blocks."""

V4_TABLE = replace(BLOCK_TABLE, title="Inception-v4's stages and blocks (Figure 9)",
                   columns=(Column("stage", "stage"), *BLOCK_TABLE.columns))
"""Figure 9's stages, then each layer or block with its branch table in one line."""

INCEPTION_V4 = NetSpec(
    name="inception_v4",
    rows=ROWS,
    input_size=299,
    norm="bn",
    use_lrn=False,
    # TF-slim's batch norm epsilon, kept by timm and Cadene.
    bn_eps=1e-3,
    # 'valid' pooling: no padding, floor rounding (147 -> 73, 35 -> 17 -> 8).
    pool_ceil_mode=False,
    # TF's 'SAME' average pooling averages the real pixels only; timm and Cadene pool with
    # count_include_pad=False to match the released weights.
    avg_pool_count_include_pad=False,
    # Figure 9: "Dropout (keep 0.8)", as TF-slim's dropout_keep_prob=0.8.
    dropout=0.2,
    # No auxiliary head: Figure 9 draws none, and timm's and Cadene's files have none
    # (TF-slim's optional AuxLogits on Mixed_6h are not in them).
    aux=(),
    feature_aliases=SLIM_NAMES,
    table=V4_TABLE,
    # The released weights expect x / 127.5 - 1: mean = std = 0.5 on 0..1 RGB pixels
    # (timm's IMAGENET_INCEPTION_MEAN / _STD, Cadene's settings).
    mean=(0.5, 0.5, 0.5),
    std=(0.5, 0.5, 0.5),
)
"""Inception-v4 as TF-slim released it and timm ports it (42,679,816 parameters)."""

# timm's and Cadene's TF-slim port (timm's preprocessing: TIMM_INCEPTION_299).
_TIMM = Release("timm",
                ("inceptionv4-8e4777a0.pth", "timm/inception_v4.tf_in1k model.safetensors"),
                TIMM_INCEPTION_299,
                "timm / Cadene inception_v4 (TF-slim weights): (x - 0.5) / 0.5")

ENTRIES: tuple[ModelInfo, ...] = (
    # 75: the smallest input that leaves Reduction-B's 3x3/2 'valid' convolutions a 3x3
    # map (the same arithmetic as Inception v3's stem and reductions).
    ModelInfo(INCEPTION_V4,
              "Inception-v4 as TF-slim released it and timm ports it; no aux head.",
              PAPER, min_input_size=75, num_params=42_679_816,
              releases=(_TIMM,), weights=(
                  # timm inception_v4.py default_cfgs['inception_v4.tf_in1k'] url
                  # (v0.1-cadene: Cadene's file, pretrainedmodels/models/inceptionv4.py,
                  # rehosted); timm's results 80.144 / 94.982. No size is published.
                  PublishedWeights(
                      "tf_in1k", _TIMM, "inceptionv4-8e4777a0.pth",
                      TIMM_URL + "v0.1-cadene/inceptionv4-8e4777a0.pth",
                      sha256_prefix("inceptionv4-8e4777a0.pth"), None, "Apache-2.0 (timm)",
                      Accuracy(80.144, 94.982, TIMM_RESULTS + " inception_v4.tf_in1k"),
                      default=True),
              )),
)
"""The family's registry entries (see :mod:`googlenet.specs.entry`)."""
