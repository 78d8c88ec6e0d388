"""Turn spec rows into modules.

Each row type has one builder in :data:`ROW_BUILDERS`, an explicit table (no registration
by import side effects). A builder gets the row, the input channel count and the spec, and
returns the named modules the row stands for plus its output channel count. Most rows
give one module named after the row; ``conv2`` of Table 1 gives ``conv2_reduce`` and
``conv2`` (its "#3x3 reduce" column) and, in the paper's network, the LRN ``conv2_norm``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from torch import nn

from ..errors import SpecError
from ..layers import (
    ConvFactory,
    ConvNormAct,
    InceptionA,
    InceptionBlock,
    NaiveInceptionBlock,
    local_response_norm,
)
from ..layers_v3 import InceptionV3A, InceptionV3B, InceptionV3C, InceptionV3D, InceptionV3E
from ..specs.types import NetSpec, Row

Built = tuple[list[tuple[str, nn.Module]], int]
RowBuilder = Callable[[Row, int, NetSpec], Built]


def conv_factory(spec: NetSpec) -> ConvFactory:
    """The conv/norm/act unit every convolution of ``spec`` is made of."""
    return partial(ConvNormAct, norm=spec.norm, bn_eps=spec.bn_eps)


def _with_lrn(row: Row, spec: NetSpec, modules: list[tuple[str, nn.Module]]) -> None:
    if row.lrn_after and spec.use_lrn:
        modules.append((f"{row.name}_norm", local_response_norm()))


def _conv(row: Row, in_ch: int, spec: NetSpec) -> Built:
    out = row.options.get("out") or row.n3x3 or (row.out_size[2] if row.out_size else None)
    if out is None or row.patch is None:
        raise SpecError(f"row {row.name}: a conv row needs a patch size and an output depth")
    conv = conv_factory(spec)
    act = row.options.get("act", True)
    modules: list[tuple[str, nn.Module]] = []
    if row.n3x3_reduce:
        reduce = spec.scaled(row.n3x3_reduce)
        modules.append((f"{row.name}_reduce", conv(in_ch, reduce, 1)))
        in_ch = reduce
    out = spec.scaled(out)
    modules.append((row.name, conv(in_ch, out, row.patch, stride=row.stride or 1,
                                   padding=row.padding, act=act)))
    _with_lrn(row, spec, modules)
    return modules, out


def _pool(row: Row, in_ch: int, spec: NetSpec) -> Built:
    cls = nn.MaxPool2d if row.type == "max_pool" else nn.AvgPool2d
    pool = cls(row.patch or 2, row.stride or row.patch or 2, padding=row.padding or 0,
               ceil_mode=spec.pool_ceil_mode)
    modules: list[tuple[str, nn.Module]] = [(row.name, pool)]
    _with_lrn(row, spec, modules)
    return modules, in_ch


def _relu(row: Row, in_ch: int, spec: NetSpec) -> Built:
    return [(row.name, nn.ReLU(inplace=True))], in_ch


def _inception(row: Row, in_ch: int, spec: NetSpec) -> Built:
    widths = (row.n1x1, row.n3x3_reduce, row.n3x3, row.n5x5_reduce, row.n5x5, row.pool_proj)
    if any(w is None for w in widths):
        raise SpecError(f"row {row.name}: an inception row needs all six width columns")
    n1, r3, n3, r5, n5, pp = (spec.scaled(w) for w in widths)  # type: ignore[arg-type]
    conv = conv_factory(spec)
    block: nn.Module
    if spec.naive:
        block = NaiveInceptionBlock(in_ch, n1, n3, n5, pp, conv=conv,
                                    pool_ceil_mode=spec.pool_ceil_mode)
    else:
        block = InceptionBlock(in_ch, n1, (r3, n3), (r5, n5), pp, conv=conv,
                               kernel_5x5=spec.kernel_5x5, pool_ceil_mode=spec.pool_ceil_mode)
    out = block.out_channels
    if row.out_size and spec.width == 1.0 and out != row.out_size[2]:
        raise SpecError(
            f"row {row.name}: branches add up to {n1}+{n3}+{n5}+{pp}={out} channels "
            f"but the row's output depth is {row.out_size[2]}"
        )
    return [(row.name, block)], out


def _inception_a(row: Row, in_ch: int, spec: NetSpec) -> Built:
    # The course's InceptionA uses plain convolutions (bias, no activation).
    block = InceptionA(in_ch, conv=partial(ConvNormAct, norm="none", act=False))
    return [(row.name, block)], block.out_channels


def _v3_option(row: Row, key: str) -> int:
    value = row.options.get(key)
    if not isinstance(value, int) or value <= 0:
        raise SpecError(f"row {row.name}: a {row.type} row needs a positive int options[{key!r}]")
    return value


def _inception_v3(row: Row, in_ch: int, spec: NetSpec) -> Built:
    # Inception v3's block widths are fixed by the paper; only A's pool branch and C's
    # 7x7 width vary between blocks, and they live in row.options.
    if spec.width != 1.0:
        raise SpecError(f"row {row.name}: Inception v3 blocks have fixed widths; "
                        f"width={spec.width} is not supported")
    conv = conv_factory(spec)
    pad = spec.avg_pool_count_include_pad
    block: nn.Module
    if row.type == "inception_v3_a":
        block = InceptionV3A(in_ch, _v3_option(row, "pool_features"), conv=conv,
                             count_include_pad=pad)
    elif row.type == "inception_v3_c":
        block = InceptionV3C(in_ch, _v3_option(row, "channels_7x7"), conv=conv,
                             count_include_pad=pad)
    elif row.type == "inception_v3_e":
        block = InceptionV3E(in_ch, conv=conv, count_include_pad=pad)
    else:
        block = (InceptionV3B if row.type == "inception_v3_b" else InceptionV3D)(in_ch, conv=conv)
    out = block.out_channels
    if row.out_size and out != row.out_size[2]:
        raise SpecError(f"row {row.name}: the block gives {out} channels but the row's output "
                        f"depth is {row.out_size[2]}")
    return [(row.name, block)], out


ROW_BUILDERS: dict[str, RowBuilder] = {
    "conv": _conv,
    "max_pool": _pool,
    "avg_pool": _pool,
    "relu": _relu,
    "inception": _inception,
    "inception_a": _inception_a,
    "inception_v3_a": _inception_v3,
    "inception_v3_b": _inception_v3,
    "inception_v3_c": _inception_v3,
    "inception_v3_d": _inception_v3,
    "inception_v3_e": _inception_v3,
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
