"""Inception-ResNet v1 and v2 as spec rows (Szegedy et al. 2016, "Inception-v4,
Inception-ResNet and the Impact of Residual Connections on Learning").

Both networks follow the paper's Figure 15 schema: a stem, ``n`` Inception-ResNet-A
blocks at 35x35, Reduction-A, Inception-ResNet-B blocks at 17x17, Reduction-B,
Inception-ResNet-C blocks at 8x8, global average pooling, dropout (keep 0.8) and the
classifier. Every residual block is a branch table wrapped in a
:class:`~googlenet.specs.blocks.Residual`: ``relu(x + scale * proj(concat))`` with a
linear 1x1 projection (bias, no BN) back to the input width; BN sits only on the
branches' convolutions ("batch-normalization only on top of the traditional layers, but
not on top of the summations", section 3.3).

``inception_resnet_v2`` is the network *as released* (TF-slim's ``inception_resnet_v2``,
which Keras' ``InceptionResNetV2`` and timm reproduce), because pretrained weights exist
only for it. Where it leaves the paper is a field of :class:`Stages` or a named constant,
each with its source below: the stem, the block counts, the last block, the final 1x1
convolution, and the widths the blocks carry. ``inception_resnet_v1`` is the paper's
network (Figures 10-15); FaceNet's form of it is a variant.

Names, a public format (state-dict keys):

- stem: TF-slim's ``Conv2d_1a_3x3`` ... (Inception v3's stem, whose pools are
  ``maxpool1`` / ``maxpool2`` as there; TF-slim's ``MaxPool_3a_3x3`` / ``MaxPool_5a_3x3``
  are feature aliases);
- blocks: Keras' ``mixed_5b``, ``block35_1`` ... ``block35_10``, ``mixed_6a``,
  ``block17_1`` ..., ``mixed_7a``, ``block8_1`` ..., ``conv_7b``; TF-slim's end points
  (``Mixed_5b``, ``Mixed_6a``, ``PreAuxLogits``, ``Mixed_7a``, ``Conv2d_7b_1x1``) are
  aliases. A block's output is its ReLU's: Keras splits it into a scale layer
  ``block35_1`` and its activation ``block35_1_ac`` (``conv_7b`` into the convolution
  and ``conv_7b_ac``), and our ``block35_1`` equals Keras' ``block35_1_ac``;
- inside blocks: timm's / TF-slim's ``Branch_<i>``: a branch with one op is ``branch0``,
  a chain is numbered ``branch1.0``, ``branch1.1`` ...; the residual projection is
  ``conv2d``.

So timm's ``inception_resnet_v2`` keys map by renaming alone: ``conv2d_1a`` ->
``Conv2d_1a_3x3`` (and so on for the stem), ``repeat.<i>`` / ``repeat_1.<i>`` /
``repeat_2.<i>`` -> ``block35_<i+1>`` / ``block17_<i+1>`` / ``block8_<i+1>``, ``block8`` ->
``block8_10``, ``conv2d_7b`` -> ``conv_7b``, ``classif`` (Cadene's ``last_linear``) ->
``fc``, and a projection's ``conv2d.weight`` -> ``conv2d.conv.weight`` (timm's
BasicConv2d is our conv/bn unit); :mod:`googlenet.weights.timm_map` computes this map
from the rows below.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..download import Checksum
from ..preprocessing import Preprocessing
from .blocks import BlockSpec, Branch, Conv, Op, Pool, Residual
from .entry import Accuracy, ModelInfo, PublishedWeights, Release
from .inception_v3 import INCEPTION_V3_KERAS
from .inception_v3 import STEM as V3_STEM
from .inception_v4 import PAPER
from .publishers import (
    CADENE_README,
    CADENE_URL,
    HALF,
    INCEPTION_299,
    KERAS_TABLE,
    KERAS_URL,
    TIMM_RESULTS,
    TIMM_URL,
    sha256_prefix,
)
from .slim import MAX_VALID, valid
from .types import BLOCK_TABLE, Row

Size = tuple[int, int, int]


def _branch(index: int, *ops: Op) -> Branch:
    """timm's / TF-slim's names: ``branch<i>`` for one op, ``branch<i>.<j>`` for a chain."""
    name = f"branch{index}"
    if len(ops) == 1:
        return Branch(name, (replace(ops[0], name=name),))
    return Branch(name, tuple(replace(op, name=f"{name}.{j}") for j, op in enumerate(ops)))


def resnet_a(b0: int, b1: tuple[int, int], b2: tuple[int, int, int], scale: float,
             label: str) -> BlockSpec:
    """35x35 Inception-ResNet-A: 1x1 | 1x1 > 3x3 | 1x1 > 3x3 > 3x3, projected back."""
    return BlockSpec((
        _branch(0, Conv(b0, 1)),
        _branch(1, Conv(b1[0], 1), Conv(b1[1], 3)),
        _branch(2, Conv(b2[0], 1), Conv(b2[1], 3), Conv(b2[2], 3)),
    ), Residual(scale), label)


def resnet_b(b0: int, b1: tuple[int, int, int], scale: float, label: str) -> BlockSpec:
    """17x17 Inception-ResNet-B: 1x1 | 1x1 > 1x7 > 7x1, projected back."""
    return BlockSpec((
        _branch(0, Conv(b0, 1)),
        _branch(1, Conv(b1[0], 1), Conv(b1[1], (1, 7)), Conv(b1[2], (7, 1))),
    ), Residual(scale), label)


def resnet_c(b0: int, b1: tuple[int, int, int], scale: float, label: str) -> BlockSpec:
    """8x8 Inception-ResNet-C: 1x1 | 1x1 > 1x3 > 3x1, projected back."""
    return BlockSpec((
        _branch(0, Conv(b0, 1)),
        _branch(1, Conv(b1[0], 1), Conv(b1[1], (1, 3)), Conv(b1[2], (3, 1))),
    ), Residual(scale), label)


def reduction_a(k: int, l: int, m: int, n: int) -> BlockSpec:  # noqa: E741 - the paper's l
    """35 -> 17 (Figure 7), with the paper's Table 1 filter counts k, l, m, n."""
    return BlockSpec((
        _branch(0, valid(n)),
        _branch(1, Conv(k, 1), Conv(l, 3), valid(m)),
        _branch(2, MAX_VALID),
    ), label="Reduction-A (Figure 7)")


def reduction_b(b0: int, b1: int, b2: tuple[int, int], label: str) -> BlockSpec:
    """17 -> 8: three 1x1 256 reductions before strided 3x3s, beside a strided max pool."""
    return BlockSpec((
        _branch(0, Conv(256, 1), valid(b0)),
        _branch(1, Conv(256, 1), valid(b1)),
        _branch(2, Conv(256, 1), Conv(b2[0], 3), valid(b2[1])),
        _branch(3, MAX_VALID),
    ), label=label)


@dataclass(frozen=True)
class Stages:
    """Figure 15's schema: ``repeats`` A blocks, Reduction-A, B blocks, Reduction-B, C
    blocks. Defaults are the paper's; a release changes a field and says why."""

    a: BlockSpec
    reduction_a: BlockSpec
    b: BlockSpec
    reduction_b: BlockSpec
    c: BlockSpec
    # Figure 15: 5 x Inception-ResNet-A, 10 x B, 5 x C.
    repeats: tuple[int, int, int] = (5, 10, 5)
    # One more C block after the repeats with scale 1.0 and no ReLU (TF-slim's
    # ``block8(net, activation_fn=None)``); the paper has none.
    linear_last: bool = False
    # A 1x1 convolution with BN and ReLU after the last block; the paper has none.
    final_conv: int | None = None

    def rows(self, sizes: tuple[Size, Size, Size] | None) -> tuple[Row, ...]:
        """The block rows, Keras-named; ``sizes`` are the printed (h, w, c) of the three
        stages at 299x299, checked against the built network (None: not printed)."""
        a, b, c = sizes or (None, None, None)
        n_a, n_b, n_c = self.repeats

        def block(name: str, spec: BlockSpec, out: Size | None) -> Row:
            return Row(name, "block", out_size=out, block=spec)

        rows = [block(f"block35_{i + 1}", self.a, a) for i in range(n_a)]
        rows.append(block("mixed_6a", self.reduction_a, b))
        rows += [block(f"block17_{i + 1}", self.b, b) for i in range(n_b)]
        rows.append(block("mixed_7a", self.reduction_b, c))
        rows += [block(f"block8_{i + 1}", self.c, c) for i in range(n_c)]
        if self.linear_last:
            rows.append(block(f"block8_{n_c + 1}",
                              replace(self.c, residual=Residual(1.0, relu=False)), c))
        if self.final_conv is not None:
            out = (c[0], c[1], self.final_conv) if c else None
            rows.append(Row("conv_7b", "conv", patch=1, stride=1, out_size=out, depth=1,
                            padding=0, out=self.final_conv))
        return tuple(rows)


def head(channels: int) -> tuple[Row, ...]:
    """Global average pooling, dropout (p: ``NetSpec.dropout``), the classifier."""
    return (
        Row("avgpool", "global_avg_pool", patch=8, stride=1, out_size=(1, 1, channels)),
        Row("dropout", "dropout", out_size=(1, 1, channels)),
        Row("fc", "linear", out_size=(1, 1, 1000), depth=1),
        Row("softmax", "softmax", out_size=(1, 1, 1000)),
    )


# -- Inception-ResNet-v2, as released -------------------------------------------------

MIXED_5B = BlockSpec((
    _branch(0, Conv(96, 1)),
    _branch(1, Conv(48, 1), Conv(64, 5)),
    _branch(2, Conv(64, 1), Conv(96, 3), Conv(96, 3)),
    _branch(3, Pool("avg", 3, 1), Conv(64, 1)),
), label="Inception A (mixed_5b)")
"""The released stem's last block, Inception v3's Figure 5 block with wider 1x1 and pool
branches (320 channels out); the paper's Figure 3 stem has no such block."""

V2_STAGES = Stages(
    resnet_a(32, (32, 32), (32, 48, 64), 0.17, "Inception-ResNet-A (Figure 16)"),
    # The paper's Table 1 values for Inception-ResNet-v2, which the release keeps. What
    # differs is its input: 320 channels from mixed_5b where the paper's stem gives 384,
    # so it outputs 320 + 384 + 384 = 1088, not 1152 (Figure 17 prints 1154).
    reduction_a(k=256, l=256, m=384, n=384),
    resnet_b(192, (128, 160, 192), 0.10, "Inception-ResNet-B (Figure 17)"),
    # 1088 + 384 + 288 + 320 = 2080 channels out, where Figure 19 prints 2048.
    reduction_b(384, 288, (288, 320), "Reduction-B (Figure 18)"),
    resnet_c(192, (192, 224, 256), 0.20, "Inception-ResNet-C (Figure 19)"),
    # TF-slim's inception_resnet_v2 (and Keras, timm): slim.repeat 10 x block35, 20 x
    # block17, 9 x block8 then block8(activation_fn=None): twice the paper's 5/10/5.
    repeats=(10, 20, 9),
    linear_last=True,
    # TF-slim's Conv2d_7b_1x1 (Keras' conv_7b): 2080 -> 1536 before pooling.
    final_conv=1536,
)
"""The residual stages of the released Inception-ResNet-v2. The residual scales 0.17,
0.10 and 0.20 are TF-slim's: section 3.3 only says "between 0.1 and 0.3"."""

TF_SLIM_NAMES: dict[str, str] = {
    "MaxPool_3a_3x3": "maxpool1", "MaxPool_5a_3x3": "maxpool2", "Mixed_5b": "mixed_5b",
    "Mixed_6a": "mixed_6a", "PreAuxLogits": "block17_20", "Mixed_7a": "mixed_7a",
    "Conv2d_7b_1x1": "conv_7b",
}
"""TF-slim's end points of inception_resnet_v2 -> ours (Keras')."""

IR_TABLE = replace(BLOCK_TABLE, title="Inception-ResNet stages and blocks")
"""Stem layers, then each block (residual projection and scale included) in one line."""

INCEPTION_RESNET_V2 = replace(
    # Keras' Inception v3's network-wide choices, which are TF-slim's for both networks:
    # BN (eps 1e-3) after every convolution, 'valid' pooling with floor rounding (35 ->
    # 17 -> 8), 'same' average pools over the real pixels only (mixed_5b's; timm's
    # count_include_pad=False too), 299x299 input as x / 127.5 - 1 (mean = std = 0.5).
    INCEPTION_V3_KERAS,
    name="inception_resnet_v2",
    # The stem is Inception v3's, row for row (35x35x192), then mixed_5b: TF-slim's
    # release, not the paper's Figure 3 stem (Inception-v4's, 35x35x384).
    rows=V3_STEM + (Row("mixed_5b", "block", out_size=(35, 35, 320), block=MIXED_5B),)
    + V2_STAGES.rows(((35, 35, 320), (17, 17, 1088), (8, 8, 2080))) + head(1536),
    # Figure 15: dropout (keep 0.8), TF-slim's dropout_keep_prob=0.8. Keras has none;
    # it only acts in training.
    dropout=0.2,
    feature_aliases=TF_SLIM_NAMES,
    table=replace(IR_TABLE, title="the released Inception-ResNet-v2's stages and blocks"),
)
"""Inception-ResNet-v2 as TF-slim, Keras' ``InceptionResNetV2`` and timm release it."""


# -- Inception-ResNet-v1, the paper's ----------------------------------------------------

V1_STEM: tuple[Row, ...] = V3_STEM[:-1] + (
    # Figure 14: Inception v3's stem up to its 3x3 192, then a 3x3/2 'valid' convolution
    # to 256 where v3 max-pools (TF-slim / FaceNet's Conv2d_4b_3x3).
    Row("Conv2d_4b_3x3", "conv", patch=3, stride=2, out_size=(35, 35, 256), depth=1,
        padding=0),
)

V1_STAGES = Stages(
    resnet_a(32, (32, 32), (32, 32, 32), 0.17, "Inception-ResNet-A (Figure 10)"),
    reduction_a(k=192, l=192, m=256, n=384),  # Table 1, Inception-ResNet-v1
    resnet_b(128, (128, 128, 128), 0.10, "Inception-ResNet-B (Figure 11)"),
    reduction_b(384, 256, (256, 256), "Reduction-B (Figure 12)"),
    resnet_c(192, (192, 192, 192), 0.20, "Inception-ResNet-C (Figure 13)"),
)
"""The paper's residual stages of Inception-ResNet-v1 (Figure 15: 5/10/5 blocks). The
scales 0.17, 0.10 and 0.20 are TF-slim's and FaceNet's, the paper gives none."""

INCEPTION_RESNET_V1 = replace(
    INCEPTION_RESNET_V2,
    name="inception_resnet_v1",
    rows=V1_STEM + V1_STAGES.rows(((35, 35, 256), (17, 17, 896), (8, 8, 1792))) + head(1792),
    feature_aliases={k: v for k, v in TF_SLIM_NAMES.items()
                     if k in ("MaxPool_3a_3x3", "Mixed_6a", "Mixed_7a")},
    table=replace(IR_TABLE, title="Inception-ResNet-v1's stages and blocks (Figure 15)"),
)
"""Inception-ResNet-v1 as the paper draws it (Figures 10-15), with v2's BN epsilon,
pooling and dropout; 1792 channels before pooling."""

def _unsized(row: Row) -> Row:
    """``row`` without its printed 299x299 size, its depth kept as an explicit width."""
    if row.out_size is None:
        return row
    return replace(row, out_size=None, out=row.out_size[2])


# FaceNet's images are (x - 127.5) / 128: facenet's prewhiten / fixed_image_standardization.
_FACENET_STD = 128 / 255

INCEPTION_RESNET_V1_FACENET = replace(
    INCEPTION_RESNET_V1,
    name="inception_resnet_v1_facenet",
    # FaceNet (davidsandberg/facenet models/inception_resnet_v1.py, which facenet-pytorch
    # ports) adds one linear C block, block8(net, activation_fn=None), after the paper's
    # five, and ends in a 512-d "Bottleneck" linear layer with BN and no bias: the face
    # embedding. It has no classifier (num_classes 0); training adds one on the embedding.
    rows=tuple(_unsized(r) for r in V1_STEM) + replace(V1_STAGES, linear_last=True).rows(None)
    + (Row("avgpool", "global_avg_pool"), Row("dropout", "dropout"),
       Row("embedding", "embedding", features=512),
       Row("fc", "linear", depth=1)),
    num_classes=0,
    # Faces aligned and cropped to 160x160 (facenet's align_dataset_mtcnn default).
    input_size=160,
    mean=(0.5, 0.5, 0.5),
    std=(_FACENET_STD,) * 3,
)
"""Inception-ResNet-v1 in FaceNet's form: 160x160 faces to a 512-d embedding (BN'd; FaceNet
compares its L2-normalised form, ``F.normalize(model(x))``)."""

# keras.applications.inception_resnet_v2.preprocess_input: x / 127.5 - 1, RGB, 299x299.
_KERAS = Release("keras",
                 ("inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
                  "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5"),
                 INCEPTION_299, "keras.applications.InceptionResNetV2: x / 127.5 - 1")
# timm's default_cfg for inception_resnet_v2.tf_in1k (timm/models/inception_resnet_v2.py):
# IMAGENET_INCEPTION_MEAN / _STD (0.5), 299x299, crop_pct 0.8975, which timm's eval
# transform turns into a resize to floor(299 / 0.8975) = 333 (timm resizes bicubic,
# Preprocessing bilinear). Cadene's inceptionresnetv2 settings: input_range [0, 1],
# mean = std = 0.5, 299; its file and timm's first (-940b1cd6, label_offset=1) have
# TF-slim's 1001 classes, whose "background" the importer drops.
_TIMM = Release("timm",
                ("inceptionresnetv2-520b38e4.pth", "inception_resnet_v2-940b1cd6.pth",
                 "timm/inception_resnet_v2.tf_in1k model.safetensors"),
                Preprocessing(mean=HALF, std=HALF, input_size=299, resize_size=333),
                "timm / Cadene inception_resnet_v2 (TF-slim weights): (x - 0.5) / 0.5")

ENTRIES: tuple[ModelInfo, ...] = (
    # 75 for the full-size Inception-ResNets too: mixed_7a's 3x3/2 'valid' convolutions
    # need a 3x3 map (Keras' InceptionResNetV2 says "no smaller than 75").
    # 55,843,464 is timm's count; Keras' count_params(), 55,873,736, counts BN moving
    # mean/var instead of gamma (scale=False).
    ModelInfo(INCEPTION_RESNET_V2,
              "Inception-ResNet-v2 as released (TF-slim, Keras, timm): 10/20/10 blocks.",
              PAPER, min_input_size=75, num_params=55_843_464,
              releases=(_KERAS, _TIMM), weights=(
                  # timm inception_resnet_v2.py default_cfgs['inception_resnet_v2.tf_in1k']
                  # url (v0.1-weights, Ross Wightman's TF port); timm's results 80.434 /
                  # 95.312.
                  PublishedWeights(
                      "tf_in1k", _TIMM, "inception_resnet_v2-940b1cd6.pth",
                      TIMM_URL + "v0.1-weights/inception_resnet_v2-940b1cd6.pth",
                      sha256_prefix("inception_resnet_v2-940b1cd6.pth"), None,
                      "Apache-2.0 (timm)",
                      Accuracy(80.434, 95.312, TIMM_RESULTS + " inception_resnet_v2.tf_in1k"),
                      default=True),
                  # Cadene pretrainedmodels/models/inceptionresnetv2.py url; README:
                  # InceptionResNetV2, "Our porting", 80.170 / 95.234. The repository's
                  # licence is BSD-3-Clause.
                  PublishedWeights(
                      "cadene_in1k", _TIMM, "inceptionresnetv2-520b38e4.pth",
                      CADENE_URL + "inceptionresnetv2-520b38e4.pth",
                      sha256_prefix("inceptionresnetv2-520b38e4.pth"), None,
                      "BSD-3-Clause (pretrainedmodels)",
                      Accuracy(80.170, 95.234, CADENE_README + " InceptionResNetV2")),
                  # keras/src/applications/inception_resnet_v2.py: BASE_WEIGHT_URL + fname,
                  # file_hash "e693bd0210a403b3192acc6073ad2e96"; keras.io:
                  # InceptionResNetV2 215 MB, 80.3 / 95.3.
                  PublishedWeights(
                      "keras_in1k", _KERAS,
                      "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
                      KERAS_URL + "inception_resnet_v2/"
                      "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
                      Checksum("md5", "e693bd0210a403b3192acc6073ad2e96"), 215.0,
                      "Apache-2.0 (Keras)",
                      Accuracy(80.3, 95.3, KERAS_TABLE + " InceptionResNetV2")),
                  # The same file without the top: file_hash
                  # "d19885ff4a710c122648d3b5c3b684e4"; no classifier, no accuracy, no
                  # published size.
                  PublishedWeights(
                      "keras_in1k_notop", _KERAS,
                      "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
                      KERAS_URL + "inception_resnet_v2/"
                      "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
                      Checksum("md5", "d19885ff4a710c122648d3b5c3b684e4"), None,
                      "Apache-2.0 (Keras)", None),
              )),
    ModelInfo(INCEPTION_RESNET_V1,
              "The paper's Inception-ResNet-v1: its stem, 5/10/5 blocks, 1792 channels.",
              PAPER, min_input_size=75, num_params=22_756_328),
    ModelInfo(INCEPTION_RESNET_V1_FACENET,
              "Inception-ResNet-v1 as FaceNet: 160x160 faces to a 512-d embedding.",
              "Schroff et al. 2015, FaceNet; davidsandberg/facenet",
              min_input_size=75, num_params=23_482_624),
)
"""The family's registry entries (see :mod:`googlenet.specs.entry`)."""
