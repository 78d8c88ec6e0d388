"""Turn spec rows into modules.

Each row type has one builder in :data:`ROW_BUILDERS`, an explicit table (no registration
by import side effects). A builder gets the row, the input channel count and the spec, and
returns the named modules the row stands for plus its output channel count. Most rows
give one module named after the row; ``conv2`` of Table 1 gives ``conv2_reduce`` and
``conv2`` (its "#3x3 reduce" column) and, in the paper's network, the LRN ``conv2_norm``.

Every block of every family is one :class:`~googlenet.layers.InceptionBlock` built from a
branch table; :data:`BLOCK_TABLES` says where a row's table comes from (Table 1's columns
through :func:`~googlenet.specs.googlenet.table1_block`, BN-Inception's Figure 5 columns
through :func:`~googlenet.specs.bn_inception.figure5_block`, or the row's own ``block``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from torch import nn

from ..errors import SpecError
from ..layers import ConvFactory, ConvNormAct, InceptionBlock, local_response_norm
from ..specs.blocks import BlockSpec, scale_block
from ..specs.bn_inception import figure5_block
from ..specs.googlenet import table1_block
from ..specs.types import NetSpec, Row

Built = tuple[list[tuple[str, nn.Module]], int]
RowBuilder = Callable[[Row, int, NetSpec], Built]


def conv_factory(spec: NetSpec) -> ConvFactory:
    """The conv/norm/act unit every convolution of ``spec`` is made of."""
    return partial(ConvNormAct, norm=spec.norm, bn_eps=spec.bn_eps, bias=spec.conv_bias)


def _with_lrn(row: Row, spec: NetSpec, modules: list[tuple[str, nn.Module]]) -> None:
    if row.lrn_after and spec.use_lrn:
        modules.append((f"{row.name}_norm", local_response_norm()))


def _conv(row: Row, in_ch: int, spec: NetSpec) -> Built:
    out = row.out or row.n3x3 or (row.out_size[2] if row.out_size else None)
    if out is None or row.patch is None:
        raise SpecError(f"row {row.name}: a conv row needs a patch size and an output depth")
    conv = conv_factory(spec)
    act = row.act
    modules: list[tuple[str, nn.Module]] = []
    if row.n3x3_reduce:
        reduce = spec.scaled(row.n3x3_reduce)
        modules.append((row.reduce_name, conv(in_ch, reduce, 1)))
        in_ch = reduce
    out = spec.scaled(out)
    modules.append((row.name, conv(in_ch, out, row.patch, stride=row.stride or 1,
                                   padding=row.padding, act=act)))
    _with_lrn(row, spec, modules)
    return modules, out


def pool_geometry(row: Row) -> tuple[int, int, int]:
    """A pooling row's kernel, stride (default: the kernel) and padding (default 0)."""
    kernel = row.patch or 2
    return kernel, row.stride or kernel, row.padding or 0


def _pool(row: Row, in_ch: int, spec: NetSpec) -> Built:
    cls = nn.MaxPool2d if row.type == "max_pool" else nn.AvgPool2d
    kernel, stride, padding = pool_geometry(row)
    pool = cls(kernel, stride, padding=padding, ceil_mode=spec.pool_ceil_mode)
    modules: list[tuple[str, nn.Module]] = [(row.name, pool)]
    _with_lrn(row, spec, modules)
    return modules, in_ch


def _relu(row: Row, in_ch: int, spec: NetSpec) -> Built:
    return [(row.name, nn.ReLU(inplace=True))], in_ch


def _own_table(row: Row, spec: NetSpec) -> BlockSpec:
    if row.block is None:
        raise SpecError(f"row {row.name}: a block row needs its branch table (Row.block)")
    return row.block


BLOCK_TABLES: dict[str, Callable[[Row, NetSpec], BlockSpec]] = {
    "inception": lambda row, spec: table1_block(row, spec.kernel_5x5),
    "bn_inception": lambda row, spec: figure5_block(row),
    "block": _own_table,
}
"""Row type -> the function that gives the row's branch table (at width 1)."""


def block_table(row: Row, spec: NetSpec) -> BlockSpec:
    """The branch table a block row builds, under the spec's width multiplier."""
    block = BLOCK_TABLES[row.type](row, spec)
    return block if spec.width == 1.0 else scale_block(block, spec.scaled)


def _block(row: Row, in_ch: int, spec: NetSpec) -> Built:
    table = block_table(row, spec)
    try:
        block = InceptionBlock(in_ch, table, conv=conv_factory(spec),
                               pool_ceil_mode=spec.pool_ceil_mode,
                               count_include_pad=spec.avg_pool_count_include_pad)
    except SpecError as err:
        raise SpecError(f"row {row.name}: {err}") from None
    out = block.out_channels
    # A row with a named deviation (a misprinted depth) is not held to its printed one.
    if row.out_size and spec.width == 1.0 and out != row.out_size[2] and not row.deviation:
        widths = "+".join(str(b.out_channels(in_ch)) for b in table.branches)
        gives = (f"branches add up to {widths}={out}" if table.residual is None
                 else f"a residual block keeps its input's {out}")
        raise SpecError(f"row {row.name}: {gives} channels but the row's output depth is "
                        f"{row.out_size[2]}")
    return [(row.name, block)], out


ROW_BUILDERS: dict[str, RowBuilder] = {
    "conv": _conv,
    "max_pool": _pool,
    "avg_pool": _pool,
    "relu": _relu,
    **{kind: _block for kind in BLOCK_TABLES},
}


@dataclass
class FeatureLayout:
    """The feature extractor of a spec: modules in order, and which row made which."""

    modules: list[tuple[str, nn.Module]]
    row_modules: dict[str, list[str]]
    channels: dict[str, int]
    out_channels: int


def build_features(spec: NetSpec, in_chans: int) -> FeatureLayout:
    """Build every non-head row of ``spec``, checking the channel arithmetic on the way."""
    modules: list[tuple[str, nn.Module]] = []
    row_modules: dict[str, list[str]] = {}
    channels: dict[str, int] = {}
    ch = in_chans
    for row in spec.rows:
        if row.is_head:
            continue
        builder = ROW_BUILDERS.get(row.type)
        if builder is None:
            known = ", ".join(sorted(ROW_BUILDERS))
            raise SpecError(f"row {row.name}: unknown row type {row.type!r} (known: {known})")
        built, ch = builder(row, ch, spec)
        modules.extend(built)
        row_modules[row.name] = [name for name, _ in built]
        running = channels[modules[-len(built) - 1][0]] if len(modules) > len(built) else in_chans
        for name, module in built:
            # LRN and pooling keep the width; convolutions and blocks say theirs.
            running = getattr(module, "out_channels", running)
            channels[name] = running
    return FeatureLayout(modules, row_modules, channels, ch)
