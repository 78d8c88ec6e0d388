"""What a learner asks of an architecture, computed from its spec and its modules.

- **Receptive field**: how many input pixels one output position sees, after every
  feature module (:func:`receptive_fields`) and inside a block per branch
  (:func:`branch_scale`): the "scale" a branch looks at, 1x1 / 3x3 / 5x5 in GoogLeNet,
  7x7 for Inception v3's factorised 1x7 > 7x1 chains.
- **Layer count**: the paper's "22 layers deep when counting only layers with
  parameters (or 27 layers if we also count pooling)" (section 5), counted from the spec
  (:func:`layer_count`): a block counts as the longest chain of convolutions through it.
- **Naive vs reduced**: every block beside its naive form, the 1x1 reductions in front of
  its larger convolutions removed (:func:`naive_block`, :func:`compare_naive`): what the
  paper's Figure 2b saves over Figure 2a, for any family's blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from torch import nn
from torch.nn.modules.utils import _pair

from ..cost import measure
from ..layers import ConvNormAct, InceptionBlock
from ..models.builder import BLOCK_TABLES, block_table, conv_factory
from ..models.features import NamedFeatures
from ..models.inception_net import InceptionNet
from ..specs.blocks import BlockSpec, Branch, Conv, Op, is_plain_1x1
from ..specs.types import NetSpec

Pair = tuple[int, int]


@dataclass(frozen=True)
class Field:
    """A receptive field: ``size`` (height, width) in input pixels, and ``jump``, the input
    pixels between neighbouring output positions (the product of the strides so far).
    ``size`` None means global: every output sees the whole input."""

    size: Pair | None = (1, 1)
    jump: Pair = (1, 1)

    def text(self) -> str:
        """``"59"`` for a square field, ``"7x1"`` otherwise, ``"all"`` for a global one."""
        if self.size is None:
            return "all"
        h, w = self.size
        return str(h) if h == w else f"{h}x{w}"


GLOBAL = Field(None)


def _grow(field: Field, kernel: Pair, stride: Pair, dilation: Pair = (1, 1)) -> Field:
    if field.size is None:
        return field
    size = tuple(s + (k - 1) * d * j for s, k, d, j in
                 zip(field.size, kernel, dilation, field.jump, strict=True))
    jump = tuple(j * s for j, s in zip(field.jump, stride, strict=True))
    return Field((size[0], size[1]), (jump[0], jump[1]))


def _widest(fields: list[Field]) -> Field:
    if any(f.size is None for f in fields):
        return GLOBAL
    sizes = [f.size for f in fields if f.size is not None]
    return Field((max(s[0] for s in sizes), max(s[1] for s in sizes)),
                 (max(f.jump[0] for f in fields), max(f.jump[1] for f in fields)))


def _through_branch(block: InceptionBlock, index: int, field: Field) -> Field:
    chain, arms = block.paths[index]
    for path in chain:
        field = module_field(block.get_submodule(path), field)
    if arms:
        field = _widest([module_field(block.get_submodule(p), field) for p in arms])
    return field


def module_field(module: nn.Module, field: Field) -> Field:
    """The receptive field after ``module`` given the one before it.

    Convolutions and pools grow it by their kernel (and multiply the jump by their
    stride); a block takes the widest of its branches (the output concatenates them all;
    a residual's identity path is never wider); adaptive pooling makes it global; norms,
    activations and dropout leave it alone.
    """
    if isinstance(module, ConvNormAct):
        module = module.conv
    if isinstance(module, nn.Conv2d):
        return _grow(field, _pair(module.kernel_size), _pair(module.stride),
                     _pair(module.dilation))
    if isinstance(module, nn.MaxPool2d):
        return _grow(field, _pair(module.kernel_size), _pair(module.stride or module.kernel_size),
                     _pair(module.dilation))
    if isinstance(module, nn.AvgPool2d):
        return _grow(field, _pair(module.kernel_size), _pair(module.stride or module.kernel_size))
    if isinstance(module, InceptionBlock):
        return _widest([field] + [_through_branch(module, i, field)
                                  for i in range(len(module.paths))])
    if isinstance(module, nn.AdaptiveAvgPool2d | nn.AdaptiveMaxPool2d | nn.Flatten):
        return GLOBAL
    if isinstance(module, nn.Sequential):
        for child in module:
            field = module_field(child, field)
    return field


def receptive_fields(model: NamedFeatures) -> dict[str, Field]:
    """The receptive field after every feature module of ``model``, in input pixels."""
    field, out = Field(), {}
    for name in model.feature_names:
        field = module_field(model.feature_module(name), field)
        out[name] = field
    return out


def branch_scale(block: InceptionBlock, index: int) -> Field:
    """The receptive field of branch ``index`` measured on the block's input: the scale
    that branch sees (1x1 > 3x3 is 3, 1x1 > 3x3 > 3x3 is 5, 1x1 > 1x7 > 7x1 is 7)."""
    return _through_branch(block, index, Field())


def in_pixels(scale: Field, before: Field) -> Field:
    """A branch's ``scale`` (on its block's input) in input pixels, given the block
    input's own receptive field ``before``."""
    if scale.size is None or before.size is None:
        return GLOBAL
    return _grow(before, scale.size, (1, 1))


# -- the paper's layer count ------------------------------------------------------------

POOLING_ROWS = frozenset({"max_pool", "avg_pool", "global_avg_pool"})


@dataclass(frozen=True)
class LayerCount:
    """Layers along the deepest path: with parameters, and with pooling layers too."""

    with_params: int
    pooling: int

    @property
    def with_pooling(self) -> int:
        return self.with_params + self.pooling

    def text(self) -> str:
        """``"22 layers with parameters, 27 counting pooling"``."""
        return f"{self.with_params} layers with parameters, {self.with_pooling} counting pooling"


def layer_count(spec: NetSpec) -> LayerCount:
    """Count as section 5 of the paper does, from the rows: a conv row is its
    convolutions (conv2's 1x1 reduce and 3x3: two), a block the longest chain of
    convolutions through it (its table's depth), the classifier one; pooling rows add
    one each. Auxiliary heads are off the main path and not counted."""
    params = pools = 0
    for row in spec.rows:
        if row.type in BLOCK_TABLES:
            params += block_table(row, spec).depth()
        elif row.type == "conv":
            params += 1 + bool(row.n3x3_reduce)
        elif row.type == "linear":
            params += 1
        elif row.type in POOLING_ROWS:
            pools += 1
    return LayerCount(params, pools)


# -- naive vs reduced ---------------------------------------------------------------------

def _naive_branch(branch: Branch) -> Branch:
    # A plain 1x1 convolution with another convolution after it (in the chain or in the
    # split) is a reduction: the naive block lets that convolution read the block input.
    later_convs = [any(isinstance(o, Conv) for o in (*branch.ops[i + 1:], *branch.split))
                   for i in range(len(branch.ops))]
    ops: tuple[Op, ...] = tuple(op for op, later in zip(branch.ops, later_convs, strict=True)
                                if not (is_plain_1x1(op) and later))
    return replace(branch, ops=ops)


def naive_block(block: BlockSpec) -> BlockSpec:
    """``block`` without its 1x1 reductions (Figure 2a from Figure 2b): each larger
    convolution reads the block input. Projections after pools stay, as in
    ``googlenet_naive``, so the block keeps its output width."""
    return replace(block, branches=tuple(_naive_branch(b) for b in block.branches))


@dataclass(frozen=True)
class NaiveRow:
    """One block's cost with its reductions and without them (batch 1)."""

    name: str
    label: str
    input_size: str
    params: int
    macs: int
    naive_params: int
    naive_macs: int

    @property
    def param_ratio(self) -> float:
        return self.naive_params / max(self.params, 1)

    @property
    def mac_ratio(self) -> float:
        return self.naive_macs / max(self.macs, 1)


def _block_cost(block: InceptionBlock, shape: tuple[int, ...]) -> tuple[int, int]:
    c, h, w = shape
    return measure(block, (h, w), c).cost([block])


def compare_naive(model: InceptionNet, input_size: int) -> list[NaiveRow]:
    """Every block of ``model`` measured at the input it gets for an ``input_size`` image,
    beside its :func:`naive_block` built with the same network-wide choices."""
    spec = model.spec
    shapes = measure(model, input_size, model.in_chans).shapes
    rows = []
    previous: tuple[int, ...] = (model.in_chans, input_size, input_size)
    for name in model.feature_names:
        module = model.feature_module(name)
        if isinstance(module, InceptionBlock):
            naive = InceptionBlock(previous[0], naive_block(module.spec),
                                   conv=conv_factory(spec), pool_ceil_mode=spec.pool_ceil_mode,
                                   count_include_pad=spec.avg_pool_count_include_pad)
            c, h, w = previous
            rows.append(NaiveRow(name, module.spec.label or "block", f"{h}x{w}x{c}",
                                 *_block_cost(module, previous), *_block_cost(naive, previous)))
        previous = shapes[name]
    return rows
