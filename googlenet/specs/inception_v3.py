"""Inception v3 as spec rows (Szegedy et al. 2015, "Rethinking the Inception Architecture").

The rows follow the *released* network (TF-slim's ``inception_v3``, which Keras'
``InceptionV3`` and torchvision's ``inception_v3`` reproduce), not the paper's Table 1: the
paper's stem ends in conv 3x3 80, conv 3x3/2 192, conv 3x3 288, the released one in
conv 1x1 80, conv 3x3 192, max pool 3x3/2. Pretrained weights exist only for the latter.

Names, a public format (state-dict keys):

- stem: TF-slim's / torchvision's ``Conv2d_1a_3x3`` ... ``Conv2d_4a_3x3``, ``maxpool1``,
  ``maxpool2`` (Keras' stem layers have only numbered names such as ``conv2d_3``);
- blocks: Keras' ``mixed0`` ... ``mixed10``, the names transfer-learning recipes cut at
  (``mixed7``); torchvision's ``Mixed_5b`` ... ``Mixed_7c`` are feature aliases;
- inside blocks: the TF-slim / torchvision names. A branch's convolutions are
  ``<branch>_1``, ``<branch>_2`` ... (``<branch>`` alone when it has one), and the arms of
  a split take the next number with ``a`` / ``b`` (``branch3x3_2a``, ``branch3x3_2b``):
  :func:`~googlenet.specs.slim.slim_branch` applies that rule, so the tables below carry
  widths only.

Blocks, named by the letters torchvision and TF-slim use, as branch tables that read like
the paper's figures: A (35x35, Figure 5), B (35 -> 17 grid reduction, Figure 10), C
(17x17, 7x7 factorised into 1x7 and 7x1, Figure 6), D (17 -> 8 reduction), E (8x8 with
expanded 1x3 / 3x1 outputs, Figure 7). Branches are in the order Keras and torchvision
concatenate them. Sizes in ``out_size`` are (height, width, channels) at 299x299 input.
"""

from __future__ import annotations

from dataclasses import replace

from ..download import Checksum
from .blocks import BlockSpec, Conv
from .entry import Accuracy, ModelInfo, PublishedWeights, Release
from .publishers import (
    INCEPTION_299,
    KERAS_TABLE,
    KERAS_URL,
    TIMM_INCEPTION_299,
    TIMM_RESULTS,
    TIMM_URL,
    TV,
    TV_URL,
    sha256_prefix,
)
from .slim import AVG_SAME, MAX_VALID, slim_branch, valid
from .types import BLOCK_TABLE, AuxSpec, NetSpec, Row

PAPER = "Szegedy et al. 2015, Rethinking the Inception Architecture for Computer Vision"


def _conv(name: str, patch: int, stride: int, out: tuple[int, int, int], padding: int) -> Row:
    return Row(name, "conv", patch=patch, stride=stride, out_size=out, depth=1, padding=padding)


def block_a(pool_features: int) -> BlockSpec:
    """35x35 (Figure 5): the 5x5 and a "double 3x3"; ``pool_features`` 32 or 64."""
    return BlockSpec((
        slim_branch("branch1x1", Conv(64, 1)),
        slim_branch("branch5x5", Conv(48, 1), Conv(64, 5)),
        slim_branch("branch3x3dbl", Conv(64, 1), Conv(96, 3), Conv(96, 3)),
        slim_branch("branch_pool", AVG_SAME, Conv(pool_features, 1)),
    ), label="Inception A (Figure 5)")


BLOCK_B = BlockSpec((
    slim_branch("branch3x3", valid(384)),
    slim_branch("branch3x3dbl", Conv(64, 1), Conv(96, 3), valid(96)),
    slim_branch("branch_pool", MAX_VALID),
), label="reduction B (Figure 10)")
"""35 -> 17 grid reduction: strided convolutions beside a strided pool."""


def block_c(c7: int) -> BlockSpec:
    """17x17 (Figure 6): 7x7 factorised into 1x7 and 7x1; ``c7`` 128, 160, 160, 192."""
    return BlockSpec((
        slim_branch("branch1x1", Conv(192, 1)),
        slim_branch("branch7x7", Conv(c7, 1), Conv(c7, (1, 7)), Conv(192, (7, 1))),
        slim_branch("branch7x7dbl", Conv(c7, 1), Conv(c7, (7, 1)), Conv(c7, (1, 7)),
                Conv(c7, (7, 1)), Conv(192, (1, 7))),
        slim_branch("branch_pool", AVG_SAME, Conv(192, 1)),
    ), label="Inception C (Figure 6)")


BLOCK_D = BlockSpec((
    slim_branch("branch3x3", Conv(192, 1), valid(320)),
    slim_branch("branch7x7x3", Conv(192, 1), Conv(192, (1, 7)), Conv(192, (7, 1)), valid(192)),
    slim_branch("branch_pool", MAX_VALID),
), label="reduction D")
"""17 -> 8 grid reduction."""

BLOCK_E = BlockSpec((
    slim_branch("branch1x1", Conv(320, 1)),
    slim_branch("branch3x3", Conv(384, 1), split=(Conv(384, (1, 3)), Conv(384, (3, 1)))),
    slim_branch("branch3x3dbl", Conv(448, 1), Conv(384, 3),
            split=(Conv(384, (1, 3)), Conv(384, (3, 1)))),
    slim_branch("branch_pool", AVG_SAME, Conv(192, 1)),
), label="Inception E (Figure 7)")
"""8x8 with expanded filter banks: 3x3 outputs split into parallel 1x3 and 3x1."""


def _block(name: str, block: BlockSpec, out: tuple[int, int, int]) -> Row:
    return Row(name, "block", out_size=out, block=block)


STEM: tuple[Row, ...] = (
    # 'valid' convolutions (padding 0) as in TF-slim; only Conv2d_2b_3x3 pads ('same').
    _conv("Conv2d_1a_3x3", 3, 2, (149, 149, 32), padding=0),
    _conv("Conv2d_2a_3x3", 3, 1, (147, 147, 32), padding=0),
    _conv("Conv2d_2b_3x3", 3, 1, (147, 147, 64), padding=1),
    Row("maxpool1", "max_pool", patch=3, stride=2, out_size=(73, 73, 64)),
    _conv("Conv2d_3b_1x1", 1, 1, (73, 73, 80), padding=0),
    _conv("Conv2d_4a_3x3", 3, 1, (71, 71, 192), padding=0),
    Row("maxpool2", "max_pool", patch=3, stride=2, out_size=(35, 35, 192)),
)

BLOCKS: tuple[Row, ...] = (
    _block("mixed0", block_a(32), (35, 35, 256)),
    _block("mixed1", block_a(64), (35, 35, 288)),
    _block("mixed2", block_a(64), (35, 35, 288)),
    _block("mixed3", BLOCK_B, (17, 17, 768)),
    _block("mixed4", block_c(128), (17, 17, 768)),
    _block("mixed5", block_c(160), (17, 17, 768)),
    _block("mixed6", block_c(160), (17, 17, 768)),
    _block("mixed7", block_c(192), (17, 17, 768)),
    _block("mixed8", BLOCK_D, (8, 8, 1280)),
    _block("mixed9", BLOCK_E, (8, 8, 2048)),
    _block("mixed10", BLOCK_E, (8, 8, 2048)),
)

HEAD: tuple[Row, ...] = (
    Row("avgpool", "global_avg_pool", patch=8, stride=1, out_size=(1, 1, 2048)),
    Row("dropout", "dropout", out_size=(1, 1, 2048)),  # p: NetSpec.dropout
    Row("fc", "linear", out_size=(1, 1, 1000), depth=1),
    Row("softmax", "softmax", out_size=(1, 1, 1000)),
)

TORCHVISION_NAMES: dict[str, str] = {
    alias: f"mixed{i}"
    for i, alias in enumerate(
        ("Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
         "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c")
    )
}
"""torchvision's (and TF-slim's) block names -> ours (Keras')."""

V3_TABLE = replace(BLOCK_TABLE, title="the released Inception v3's stages and blocks")
"""Stem layers, then each block with its branch table in one line."""

INCEPTION_V3 = NetSpec(
    name="inception_v3",
    rows=STEM + BLOCKS + HEAD,
    input_size=299,
    norm="bn",
    use_lrn=False,
    # TF-slim's batch norm epsilon, kept by Keras and torchvision alike.
    bn_eps=1e-3,
    # 'valid' pooling: no padding, floor rounding (35 -> 17 -> 8).
    pool_ceil_mode=False,
    # torchvision's F.avg_pool2d(x, 3, 1, 1) counts the padded zeros in the average.
    avg_pool_count_include_pad=True,
    # torchvision's classifier dropout (Keras' top has none; the paper does not say).
    dropout=0.5,
    # Section 4: one side head, on the last 17x17 block; torchvision's InceptionAux.
    aux=(AuxSpec("aux_mixed7", "mixed7", kind="inception_v3"),),
    feature_aliases=TORCHVISION_NAMES,
    table=V3_TABLE,
    # The released weights expect x / 127.5 - 1 (Keras' preprocess_input mode "tf"), i.e.
    # mean = std = 0.5 on [0, 1] pixels. torchvision's weights expect the same: its
    # transform_input=True turns ImageNet-normalised input back into (x - 0.5) / 0.5.
    mean=(0.5, 0.5, 0.5),
    std=(0.5, 0.5, 0.5),
)
"""Inception v3 laid out as torchvision's ``inception_v3`` (its weights map 1:1)."""

INCEPTION_V3_KERAS = replace(
    INCEPTION_V3,
    name="inception_v3_keras",
    # Keras' AveragePooling2D(padding='same') averages over the real pixels only
    # (count_include_pad=False in PyTorch terms); its weights were trained that way.
    avg_pool_count_include_pad=False,
    # keras.applications.InceptionV3's top: global average pool and Dense, no dropout
    # and no auxiliary head.
    dropout=0.0,
    aux=(),
)
"""Inception v3 as ``keras.applications.InceptionV3`` computes it (Keras weights)."""

# torchvision's weights were converted from TF-slim, as its googlenet's (specs/googlenet.py).
_TORCHVISION = Release("torchvision", ("inception_v3_google-0cc3c7bd.pth",), INCEPTION_299,
                       "torchvision inception_v3 (TF-slim weights): (x - 0.5) / 0.5")
# timm's TF port of Inception v3 has torchvision's layout and no aux head (its first
# file, like Cadene's inception_v4, has TF-slim's 1001 classes; the importer drops
# class 0, "background", as timm's label_offset=1 did).
_TIMM = Release("timm",
                ("tf_inception_v3-e0069de4.pth", "timm/inception_v3.tf_in1k model.safetensors"),
                TIMM_INCEPTION_299,
                "timm inception_v3.tf_in1k (TF-slim weights): (x - 0.5) / 0.5")
# keras.applications.inception_v3.preprocess_input: x / 127.5 - 1, RGB, 299x299.
_KERAS = Release("keras",
                 ("inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
                  "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"),
                 INCEPTION_299, "keras.applications.InceptionV3: x / 127.5 - 1")

ENTRIES: tuple[ModelInfo, ...] = (
    # 75: the smallest input that leaves mixed8's 3x3/2 'valid' convolutions a 3x3 map.
    # num_params counts parameters (BN gamma and beta); Keras' count_params() of its
    # InceptionV3, 23,851,784, counts BN moving mean/var instead of gamma (+17,216).
    ModelInfo(INCEPTION_V3,
              "Inception v3, torchvision's layout and pooling; aux head on mixed7.",
              PAPER, min_input_size=75, num_params=23_834_568, num_params_with_aux=27_161_264,
              releases=(_TORCHVISION, _TIMM), weights=(
                  # pytorch/vision torchvision/models/inception.py
                  # Inception_V3_Weights.IMAGENET1K_V1: acc@1 77.294 / acc@5 93.450,
                  # _file_size 103.903 (MiB).
                  PublishedWeights(
                      "tv_in1k", _TORCHVISION, "inception_v3_google-0cc3c7bd.pth",
                      TV_URL + "inception_v3_google-0cc3c7bd.pth",
                      sha256_prefix("inception_v3_google-0cc3c7bd.pth"), 103.903,
                      "BSD-3-Clause (torchvision)",
                      Accuracy(77.294, 93.450,
                               TV + "inception.py Inception_V3_Weights.IMAGENET1K_V1"),
                      default=True),
                  # timm inception_v3.py default_cfgs['inception_v3.tf_in1k'] url
                  # (v0.1-weights); timm's results: 77.866 / 93.644. timm's licence is
                  # Apache-2.0; no size is published.
                  PublishedWeights(
                      "tf_in1k", _TIMM, "tf_inception_v3-e0069de4.pth",
                      TIMM_URL + "v0.1-weights/tf_inception_v3-e0069de4.pth",
                      sha256_prefix("tf_inception_v3-e0069de4.pth"), None, "Apache-2.0 (timm)",
                      Accuracy(77.866, 93.644, TIMM_RESULTS + " inception_v3.tf_in1k")),
              )),
    ModelInfo(INCEPTION_V3_KERAS,
              "Inception v3 as keras.applications.InceptionV3: pad-free branch pooling.",
              PAPER, min_input_size=75, num_params=23_834_568,
              releases=(_KERAS,), weights=(
                  # keras/src/applications/inception_v3.py: WEIGHTS_PATH, file_hash
                  # "9a0d58056eeedaa3f26cb7ebd46da564"; keras.io: InceptionV3 92 MB,
                  # 77.9% / 93.7%. Keras' licence is Apache-2.0.
                  PublishedWeights(
                      "in1k", _KERAS, "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
                      KERAS_URL + "inception_v3/"
                      "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
                      Checksum("md5", "9a0d58056eeedaa3f26cb7ebd46da564"), 92.0,
                      "Apache-2.0 (Keras)", Accuracy(77.9, 93.7, KERAS_TABLE + " InceptionV3"),
                      default=True),
                  # WEIGHTS_PATH_NO_TOP, file_hash "bcbd6486424b2319ff4ef7d526e38f63". No
                  # classifier, so no accuracy; keras.io gives the size of the model with
                  # its top only.
                  PublishedWeights(
                      "in1k_notop", _KERAS,
                      "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
                      KERAS_URL + "inception_v3/"
                      "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
                      Checksum("md5", "bcbd6486424b2319ff4ef7d526e38f63"), None,
                      "Apache-2.0 (Keras)", None),
              )),
)
"""The family's registry entries (see :mod:`googlenet.specs.entry`)."""
