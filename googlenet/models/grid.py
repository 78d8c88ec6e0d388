"""The spatial arithmetic of a spec: the grid every row outputs, computed from the rows.

PyTorch's output-size rules for convolution and pooling, applied row by row and, inside a
block, branch by branch, tell without building or running anything:

- whether an input size goes through, and if not which row stops it: a kernel that no
  longer fits, or a block whose branches disagree. BN-Inception's stride-2 modules pad
  their 3x3/2 convolutions but not the 3x3/2 max pool beside them (the Caffe model's
  layout); the two agree only on even grids, so an input whose grid at 3c or 4e is odd
  cannot be concatenated there;
- the smallest input every row takes, which the registry's ``min_input_size`` is checked
  against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..specs.blocks import BlockSpec, Conv, Op, Pool, pair, same_padding
from ..specs.types import NetSpec, Row
from .builder import BLOCK_TABLES, block_table, pool_geometry

# Far beyond any input a model here is meant for; the search for a minimum stops there.
_LARGEST = 4096


@dataclass(frozen=True)
class GridStop:
    """Why an input does not go through ``row``: a kernel that no longer fits
    (``"small"``) or branches whose grids disagree (``"branches"``)."""

    row: str
    kind: Literal["small", "branches"]
    detail: str


def conv_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """A convolution's output length (0: the kernel does not fit)."""
    span = size + 2 * padding - kernel
    return span // stride + 1 if span >= 0 else 0


def pooled_length(n: int, kernel: int, stride: int, padding: int, ceil_mode: bool,
                  dilation: int = 1) -> int:
    """PyTorch's pooled length of an input of length ``n`` (0: the window does not fit);
    in ceil mode the last window must still start inside the input or its left padding.
    The one copy of the rule: the spec arithmetic here and the inference graph's pools
    (:mod:`googlenet.deploy.fuse`, :mod:`googlenet.deploy.native_pool`) use it."""
    span = n + 2 * padding - dilation * (kernel - 1) - 1
    if span < 0 and not ceil_mode:
        return 0
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= n + padding:
        out -= 1
    return max(out, 0)


Grid = tuple[int, int]


def _op(op: Op, grid: Grid, spec: NetSpec) -> Grid:
    if isinstance(op, Conv):
        kernel, pad, s = pair(op.kernel), same_padding(op.kernel, op.padding), op.stride
        return (conv_size(grid[0], kernel[0], s, pad[0]), conv_size(grid[1], kernel[1], s, pad[1]))
    if isinstance(op, Pool):
        margin = same_padding(op.kernel, op.padding)[0]
        ceil = spec.pool_ceil_mode if op.ceil_mode is None else op.ceil_mode
        return (pooled_length(grid[0], op.kernel, op.stride, margin, ceil),
                pooled_length(grid[1], op.kernel, op.stride, margin, ceil))
    return grid


def _chain(ops: tuple[Op, ...], grid: Grid, spec: NetSpec) -> Grid:
    for op in ops:
        grid = _op(op, grid, spec)
        if min(grid) < 1:
            break
    return grid


def _block(block: BlockSpec, grid: Grid, spec: NetSpec, name: str) -> Grid | GridStop:
    outs: list[tuple[str, Grid]] = []
    for branch in block.branches:
        out = _chain(branch.ops, grid, spec)
        arms = {_chain((op,), out, spec) for op in branch.split} if branch.split else {out}
        if min(out) < 1 or any(min(a) < 1 for a in arms):
            return GridStop(name, "small", f"branch {branch.name} of {name} has no output "
                                           f"from a {grid[0]}x{grid[1]} grid")
        if len(arms) > 1:
            return GridStop(name, "branches", f"the split of branch {branch.name} of {name} "
                                              f"disagrees on a {grid[0]}x{grid[1]} grid")
        outs.append((branch.name, arms.pop()))
    if len({g for _, g in outs}) > 1:
        sizes = ", ".join(f"{b} {g[0]}x{g[1]}" for b, g in outs)
        return GridStop(name, "branches", f"the branches of {name} give {sizes} from a "
                                          f"{grid[0]}x{grid[1]} grid")
    return outs[0][1]


def _row(row: Row, grid: Grid, spec: NetSpec) -> Grid | GridStop:
    if row.type in BLOCK_TABLES:
        return _block(block_table(row, spec), grid, spec, row.name)
    if row.type == "conv" and row.patch is not None:
        ops: tuple[Op, ...] = (Conv(1, row.patch, row.stride or 1, row.padding),)
    elif row.type in ("max_pool", "avg_pool"):
        kernel, stride, padding = pool_geometry(row)
        ops = (Pool("max", kernel, stride, padding),)
    else:  # ReLU, and head rows: global pooling takes any grid
        return grid
    out = _chain(ops, grid, spec)
    if min(out) < 1:
        return GridStop(row.name, "small", f"{row.name} gets a {grid[0]}x{grid[1]} grid")
    return out


def trace_grid(spec: NetSpec, height: int, width: int, upto: str | None = None,
               ) -> Grid | GridStop:
    """The grid of the last feature row (or of row ``upto``) for a ``height`` x ``width``
    input, or where and why the input stops."""
    grid: Grid = (height, width)
    for row in spec.rows:
        if row.is_head:
            break
        step = _row(row, grid, spec)
        if isinstance(step, GridStop):
            return step
        grid = step
        if row.name == upto:
            break
    return grid


def grid_error(spec: NetSpec, height: int, width: int, upto: str | None = None) -> str:
    """One line saying why a ``height`` x ``width`` input does not go through ``spec`` (up
    to row ``upto``), with the nearest square sizes that do; "" when it does."""
    stop = trace_grid(spec, height, width, upto)
    if not isinstance(stop, GridStop):
        return ""
    size = max(height, width)

    def fit(candidates: range) -> int | None:
        return next((s for s in candidates
                     if not isinstance(trace_grid(spec, s, s, upto), GridStop)), None)

    below, above = fit(range(size - 1, 0, -1)), fit(range(size + 1, size + _LARGEST))
    near = " and ".join(str(s) for s in (below, above) if s is not None)
    return (f"{spec.name}: a {height}x{width} input does not fit: {stop.detail}"
            + (f" (square sizes near it that fit: {near})" if near else ""))


def min_input_size(spec: NetSpec, upto: str | None = None) -> int:
    """The smallest square input that goes through every row (up to ``upto``)."""
    for size in range(1, _LARGEST + 1):
        if not isinstance(trace_grid(spec, size, size, upto), GridStop):
            return size
    raise ValueError(f"{spec.name}: no input up to {_LARGEST}x{_LARGEST} goes through")
