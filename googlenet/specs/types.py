"""The spec format: an architecture as a list of table rows.

A :class:`Row` has the columns of the GoogLeNet paper's Table 1 (type, patch size/stride,
output size, depth, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj) plus the
paper's printed params/ops. A Table 1 ``inception`` row is turned into a branch table by
one function (:func:`googlenet.specs.googlenet.table1_block`); a ``block`` row carries its
branch table (:class:`~googlenet.specs.blocks.BlockSpec`) itself, as Inception v3's do.
The builder looks a row's ``type`` up in an explicit table of builders.

A :class:`NetSpec` is rows plus the choices that are not columns of Table 1 (norm layer,
pooling rounding, aux heads) and the :class:`TableLayout` that ``googlenet summary``
prints. Every deviation from the paper is one of these named fields, set by a variant
with a comment that says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .blocks import BlockSpec


@dataclass(frozen=True)
class Row:
    """One row of an architecture table.

    ``out_size`` is (height, width, channels) at the spec's ``input_size``, as printed in
    the paper; it is checked against the built network. ``paper_params`` / ``paper_ops``
    are the paper's printed numbers (ops are multiply-adds).
    """

    name: str
    type: str
    patch: int | None = None
    stride: int | None = None
    out_size: tuple[int, int, int] | None = None
    depth: int = 0
    n1x1: int | None = None
    n3x3_reduce: int | None = None
    n3x3: int | None = None
    n5x5_reduce: int | None = None
    n5x5: int | None = None
    pool_proj: int | None = None
    paper_params: int | None = None
    paper_ops: int | None = None
    padding: int | None = None
    lrn_after: bool = False
    # A conv row's width where no "#3x3" column gives it (and no printed size does), and
    # whether a ReLU follows it (False: the small nets' conv > pool > ReLU stems).
    out: int | None = None
    act: bool = True
    # BN-Inception's Figure 5 columns: the double-3x3 branch and the pool ("avg + 32",
    # "max + pass through").
    double_3x3_reduce: int | None = None
    double_3x3: int | None = None
    pool: str | None = None
    # An "embedding" row's width (FaceNet's bottleneck).
    features: int | None = None
    # A family's own printed columns that nothing is built from (Inception v4's "stage").
    cells: Mapping[str, str] = field(default_factory=dict)
    # The branch table of a "block" row.
    block: BlockSpec | None = None
    # How the built row departs from the printed one: an inconsistency in the paper (BN-
    # Inception's Figure 5 prints 576 channels where its branches add up to 608) or a
    # change every released model made. The builder then does not hold the row to its
    # printed depth; the family's table marks the row and lists the note.
    deviation: str = ""

    @property
    def is_head(self) -> bool:
        """Rows after the last feature map: global pooling, dropout, linear, softmax."""
        return self.type in HEAD_TYPES

    @property
    def reduce_name(self) -> str:
        """The module a conv row's "#3x3 reduce" column builds (``conv2_reduce``)."""
        return f"{self.name}_reduce"

    @property
    def patch_stride(self) -> str:
        """The paper's "patch size/stride" column, e.g. ``7x7/2``; a block row with a
        stride reads ``stride 2``, as Figure 5 of the BN-Inception paper prints it."""
        if self.patch is None:
            return f"stride {self.stride}" if self.stride and self.stride > 1 else ""
        return f"{self.patch}x{self.patch}/{self.stride or 1}"


HEAD_TYPES = frozenset({"global_avg_pool", "flatten", "dropout", "embedding", "linear",
                        "softmax"})
"""Head row types. ``embedding`` is FaceNet's bottleneck: a linear layer without bias and
a BN to ``Row.features`` dimensions, between dropout and the classifier."""


@dataclass(frozen=True)
class Column:
    """One column of a printed table: its header and the :class:`Row` attribute it shows
    (or key of ``Row.cells``, for a family's own printed columns such as v4's "stage"), or
    one of the values ``googlenet.cost`` computes from the built network
    (``label``, ``output_size``, ``depth``, ``branches``)."""

    header: str
    field: str


@dataclass(frozen=True)
class TableLayout:
    """How ``googlenet summary`` prints a family's table: a title and the spec columns.

    Every table also gets the measured params and MACs per row (and the paper's printed
    figures when its rows carry them). A family adds its own table as one more value.
    """

    title: str
    columns: tuple[Column, ...]
    # Said after the legend of rows marked as differing from the paper's printed figures.
    note: str = ""


BLOCK_TABLE = TableLayout("stages and blocks", (
    Column("name", "name"), Column("type", "label"), Column("patch/stride", "patch_stride"),
    Column("output size", "output_size"), Column("depth", "depth"),
    Column("branches", "branches"),
))
"""Rows by name with each block's branch table in one line: for any family."""


@dataclass(frozen=True)
class AuxSpec:
    """An auxiliary classifier attached to the output of feature module ``after``.

    ``kind`` picks the head: ``"googlenet"`` is the paper's (5x5/3 pool, 1x1 conv, FC 1024,
    FC); ``"inception_v3"`` is torchvision's ``InceptionAux`` (5x5/3 pool, 1x1 conv 128,
    5x5 conv 768, global pool, FC).
    """

    name: str
    after: str
    adaptive_pool: bool = False
    kind: Literal["googlenet", "inception_v3"] = "googlenet"


@dataclass(frozen=True)
class NetSpec:
    """An architecture: rows plus the network-wide choices.

    Defaults are the paper's GoogLeNet. Variants override fields with
    :func:`dataclasses.replace` and a comment that cites the reason.
    """

    name: str
    rows: tuple[Row, ...]
    input_size: int = 224
    in_chans: int = 3
    num_classes: int = 1000
    # "none": plain conv + bias + ReLU, as the paper; "bn": BN after every conv.
    norm: Literal["none", "bn"] = "none"
    # Convolution biases: None gives them exactly to convolutions without a norm (BN's
    # shift replaces a bias); True keeps them in front of BN too, as Caffe models do.
    conv_bias: bool | None = None
    bn_eps: float = 1e-5
    # The paper's LRN after pool1 and after conv2 (rows with lrn_after=True).
    use_lrn: bool = True
    # Caffe rounds pooling output sizes up; Table 1's 112 -> 56 -> 28 needs it.
    pool_ceil_mode: bool = True
    # Kernel of the "5x5" branch of every Inception block.
    kernel_5x5: int = 5
    dropout: float = 0.4
    aux: tuple[AuxSpec, ...] = ()
    aux_dropout: float = 0.7
    width: float = 1.0
    # Average-pooling branches (Inception v3): does the zero padding count in the average?
    # TF/Keras 'same' pooling leaves it out; torchvision's F.avg_pool2d(x, 3, 1, 1) counts it.
    avg_pool_count_include_pad: bool = False
    # Named features that are other names for modules, e.g. d2l's stages b1..b5.
    feature_aliases: Mapping[str, str] = field(default_factory=dict)
    # True when the head flattens a fixed-size map, so only input_size itself works.
    fixed_input_size: bool = False
    mean: tuple[float, ...] = (0.485, 0.456, 0.406)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)
    # The table `googlenet summary` prints (GoogLeNet's specs set Table 1's).
    table: TableLayout = BLOCK_TABLE

    def scaled(self, channels: int) -> int:
        """A channel count under the width multiplier (at least 1)."""
        return max(1, int(channels * self.width + 0.5))


def parse_count(text: str) -> int:
    """The paper's printed counts: ``"2.7K"`` -> 2700, ``"34M"`` -> 34_000_000."""
    scale = {"K": 1_000, "M": 1_000_000, "G": 1_000_000_000}
    suffix = text[-1].upper()
    if suffix in scale:
        return round(float(text[:-1]) * scale[suffix])
    return int(text)
