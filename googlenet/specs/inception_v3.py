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
- inside blocks: the TF-slim / torchvision branch names (see :mod:`googlenet.layers_v3`).

Sizes in ``out_size`` are (height, width, channels) at the default 299x299 input.
"""

from __future__ import annotations

from dataclasses import replace

from .types import AuxSpec, NetSpec, Row


def _conv(name: str, patch: int, stride: int, out: tuple[int, int, int], padding: int) -> Row:
    return Row(name, "conv", patch=patch, stride=stride, out_size=out, depth=1, padding=padding)


def _block(name: str, kind: str, out: tuple[int, int, int], depth: int, **options: int) -> Row:
    return Row(name, f"inception_v3_{kind}", out_size=out, depth=depth, options=options)


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
    # depth = the longest chain of convolutions in the block.
    _block("mixed0", "a", (35, 35, 256), 3, pool_features=32),
    _block("mixed1", "a", (35, 35, 288), 3, pool_features=64),
    _block("mixed2", "a", (35, 35, 288), 3, pool_features=64),
    _block("mixed3", "b", (17, 17, 768), 3),
    _block("mixed4", "c", (17, 17, 768), 5, channels_7x7=128),
    _block("mixed5", "c", (17, 17, 768), 5, channels_7x7=160),
    _block("mixed6", "c", (17, 17, 768), 5, channels_7x7=160),
    _block("mixed7", "c", (17, 17, 768), 5, channels_7x7=192),
    _block("mixed8", "d", (8, 8, 1280), 4),
    _block("mixed9", "e", (8, 8, 2048), 3),
    _block("mixed10", "e", (8, 8, 2048), 3),
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
