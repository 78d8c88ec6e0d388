"""The block format: every Inception block of every family as a table of branches.

A :class:`BlockSpec` is what a paper's block figure draws: branches side by side, each a
chain of operations on the block input, their outputs concatenated along channels.

- an operation is a convolution (:class:`Conv`: kxk or 1xn / nx1, with out channels,
  stride and padding), a pooling (:class:`Pool`: max or average) or a pass-through
  (:class:`Identity`);
- a branch may end in a *split* (:attr:`Branch.split`): parallel operations on the
  chain's output whose results are concatenated, as in Inception v3's 8x8 block (Figure 7,
  1x3 and 3x1 side by side) and Inception-v4's C block;
- a block may be *residual* (:class:`Residual`): ``act(x + scale * proj(concat))`` with a
  linear 1x1 projection back to the input width, as in Inception-ResNet.

One module, :class:`googlenet.layers.InceptionBlock`, builds any block from this data.

Module names are a public format (state-dict keys): each parametrised op carries its
module path inside the block in ``name`` (``"branch_3x3.reduce"``, a dot nests it in the
branch's container; ``"branch5x5_1"``, a direct child). Ops without a name (pools,
pass-throughs, which have no weights) are called ``<branch>_<index>``; :func:`op_paths`
resolves every name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from ..errors import SpecError

Pair = tuple[int, int]


def pair(value: int | Pair) -> Pair:
    """``3`` -> ``(3, 3)``; a (height, width) pair stays as it is."""
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def same_padding(kernel: int | Pair, padding: int | Pair | None) -> Pair:
    """The padding an op uses: explicit, or "same" (k // 2 per side) for ``None``."""
    if padding is None:
        kh, kw = pair(kernel)
        return (kh // 2, kw // 2)
    return pair(padding)


def _check_geometry(what: str, kernel: int | Pair, stride: int, padding: int | Pair | None,
                    ) -> None:
    if min(pair(kernel)) < 1 or stride < 1:
        raise SpecError(f"{what}: kernel and stride must be positive, got kernel {kernel}, "
                        f"stride {stride}")
    if padding is not None and min(pair(padding)) < 0:
        raise SpecError(f"{what}: padding must not be negative, got {padding}")


@dataclass(frozen=True)
class Conv:
    """A convolution with the network's norm and activation (``act=False``: linear).

    ``kernel`` is k (kxk) or (height, width) for factorised 1xn / nx1 convolutions;
    ``padding=None`` is "same" padding (k // 2), the Inception convention.
    """

    out: int
    kernel: int | Pair = 1
    stride: int = 1
    padding: int | Pair | None = None
    name: str = ""
    act: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.out, int) or self.out <= 0:
            raise SpecError(f"conv {self.name or self.describe()}: out channels must be a "
                            f"positive int, got {self.out!r}")
        _check_geometry(f"conv {self.name or self.out}", self.kernel, self.stride, self.padding)

    def describe(self) -> str:
        kh, kw = pair(self.kernel)
        stride = f"/{self.stride}" if self.stride != 1 else ""
        return f"{kh}x{kw}{stride} {self.out}"


@dataclass(frozen=True)
class Pool:
    """Max or average pooling. ``None`` for ``count_include_pad`` / ``ceil_mode`` means
    the network's choice (``NetSpec.avg_pool_count_include_pad`` / ``pool_ceil_mode``)."""

    kind: Literal["max", "avg"]
    kernel: int = 3
    stride: int = 1
    padding: int | None = None
    count_include_pad: bool | None = None
    ceil_mode: bool | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("max", "avg"):
            raise SpecError(f"pool {self.name}: kind must be 'max' or 'avg', got {self.kind!r}")
        what = f"{self.kind} pool {self.name}".rstrip()
        _check_geometry(what, self.kernel, self.stride, self.padding)
        if self.padding is not None and self.padding > self.kernel // 2:
            raise SpecError(f"{what}: padding {self.padding} is more than half the kernel "
                            f"{self.kernel}")

    def describe(self) -> str:
        stride = f"/{self.stride}" if self.stride != 1 else ""
        return f"{self.kind} pool {self.kernel}x{self.kernel}{stride}"


@dataclass(frozen=True)
class Identity:
    """Pass-through: the branch carries its input unchanged."""

    name: str = ""

    def describe(self) -> str:
        return "identity"


Op = Conv | Pool | Identity


@dataclass(frozen=True)
class Branch:
    """A chain of ops on the block input, optionally ending in a split whose parallel ops
    read the chain's output and are concatenated (each arm is one op)."""

    name: str
    ops: tuple[Op, ...]
    split: tuple[Op, ...] = ()

    def __post_init__(self) -> None:
        if not self.name or "." in self.name:
            raise SpecError(f"branch {self.name!r}: needs a name without dots")
        if not self.ops and not self.split:
            raise SpecError(f"branch {self.name}: has no ops")
        if len(self.split) == 1:
            raise SpecError(f"branch {self.name}: a split needs two or more arms")

    def out_channels(self, in_channels: int) -> int:
        """Channels this branch outputs for ``in_channels`` input channels."""
        ch = in_channels
        for op in self.ops:
            ch = op.out if isinstance(op, Conv) else ch
        if self.split:
            return sum(op.out if isinstance(op, Conv) else ch for op in self.split)
        return ch

    def describe(self) -> str:
        """``1x1 96 > 3x3 128``; a split reads ``1x1 384 > (1x3 384 | 3x1 384)``."""
        parts = [op.describe() for op in self.ops]
        if self.split:
            parts.append("(" + " | ".join(op.describe() for op in self.split) + ")")
        return " > ".join(parts)


@dataclass(frozen=True)
class Residual:
    """Inception-ResNet's wrapper: ``x + scale * proj(concat)``, then ReLU if ``relu``.

    ``proj`` is a 1x1 convolution with bias and no norm or activation back to the input
    width (the papers' "1x1 Conv (Linear)"; TF-slim's ``normalizer_fn=None,
    activation_fn=None``); ``name`` is its module name. Section 3.3 of Szegedy et al. 2016
    scales residuals by 0.1-0.3 before the addition to keep training stable.
    """

    scale: float
    relu: bool = True
    name: str = "conv2d"

    def __post_init__(self) -> None:
        if not self.scale > 0:
            raise SpecError(f"residual: scale must be positive, got {self.scale}")
        if not self.name or "." in self.name:
            raise SpecError(f"residual: projection needs a name without dots, got "
                            f"{self.name!r}")

    def describe(self) -> str:
        return f"1x1 linear projection, x {self.scale:g}" + ("" if self.relu else ", no ReLU")


@dataclass(frozen=True)
class BlockSpec:
    """A block: branches concatenated in order, optionally wrapped as a residual.

    Frozen and hashable, so importers can recognise a known block by its table.

    ``label`` is how tables print the block (``"Inception A (Figure 5)"``).
    """

    branches: tuple[Branch, ...]
    residual: Residual | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if not self.branches:
            raise SpecError("block: has no branches")
        paths = [p for branch in op_paths(self) for p in (*branch[0], *branch[1])]
        if self.residual is not None:
            paths.append(self.residual.name)
        seen: set[str] = set()
        for path in paths:
            if path.count(".") > 1:
                raise SpecError(f"block: module name {path!r} nests deeper than "
                                "<container>.<op>")
            prefix = path.split(".")[0]
            clash = path in seen or any(p.startswith(path + ".") for p in seen) \
                or (prefix != path and prefix in seen)
            if clash:
                raise SpecError(f"block: module name {path!r} is used twice (or nests in "
                                "another op's name)")
            seen.add(path)

    def out_channels(self, in_channels: int) -> int:
        """Output channels for ``in_channels`` input channels (residual: the input width)."""
        if self.residual is not None:
            return in_channels
        return sum(b.out_channels(in_channels) for b in self.branches)

    def concat_channels(self, in_channels: int) -> int:
        """Channels of the concatenated branches (what a residual projection reads)."""
        return sum(b.out_channels(in_channels) for b in self.branches)

    def depth(self) -> int:
        """The longest chain of convolutions through the block (Table 1's "depth"), the
        residual projection included."""
        return max(sum(isinstance(op, Conv) for op in b.ops)
                   + any(isinstance(op, Conv) for op in b.split) for b in self.branches) \
            + (self.residual is not None)

    def describe(self) -> str:
        """One line: the branches' op chains, ``|`` between branches."""
        text = " | ".join(b.describe() for b in self.branches)
        return text if self.residual is None else f"{text} ; + {self.residual.describe()}"


BranchPaths = tuple[tuple[str, ...], tuple[str, ...]]
"""Module paths of one branch: its chain ops, then its split arms."""


def op_paths(block: BlockSpec) -> tuple[BranchPaths, ...]:
    """The module path of every op, per branch: ``name`` or ``<branch>_<index>``."""
    out = []
    for branch in block.branches:
        ops = tuple(op.name or f"{branch.name}_{i}" for i, op in enumerate(branch.ops))
        start = len(branch.ops)
        split = tuple(op.name or f"{branch.name}_{start + i}" for i, op in enumerate(branch.split))
        out.append((ops, split))
    return tuple(out)


def is_plain_1x1(op: Op) -> bool:
    """A 1x1, stride-1, unpadded convolution: several of them reading one input can run as
    one wider convolution."""
    return isinstance(op, Conv) and pair(op.kernel) == (1, 1) and op.stride == 1 \
        and same_padding(op.kernel, op.padding) == (0, 0)


def leading_1x1_branches(block: BlockSpec) -> tuple[int, ...]:
    """Branches whose first op is a plain 1x1 convolution of the block input."""
    return tuple(i for i, b in enumerate(block.branches) if b.ops and is_plain_1x1(b.ops[0]))


def scale_block(block: BlockSpec, scaled: Callable[[int], int]) -> BlockSpec:
    """``block`` with every convolution's width passed through ``scaled`` (a width
    multiplier); a residual projection follows the input width by itself."""

    def op(o: Op) -> Op:
        return replace(o, out=scaled(o.out)) if isinstance(o, Conv) else o

    return replace(block, branches=tuple(
        replace(b, ops=tuple(map(op, b.ops)), split=tuple(map(op, b.split)))
        for b in block.branches))
