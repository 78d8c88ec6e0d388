"""Parameters and multiply-adds, measured on the built modules (never typed in).

MACs are multiply-accumulates of convolutions and linear layers, the unit of the paper's
"ops" column; FLOPs are reported as 2 x MACs and labelled so. Pooling, normalisation and
activations are not counted (the paper does not count them either).

Shapes come from a run on PyTorch's meta device (the model's own modules, with meta
tensors standing in for its weights): nothing is computed or allocated, and an input size
whose activations would not fit in memory is refused before anything runs.

Each family prints its own table (:func:`model_table`): the columns are data, the
spec's :class:`~googlenet.specs.types.TableLayout` (Table 1's for GoogLeNet, stages and
blocks for Inception v3), and every row gets its measured params and MACs, optionally
per branch of each block.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from torch.func import functional_call

from .errors import InputSizeError, SpecError
from .layers import InceptionBlock
from .models.inception_net import InceptionNet
from .specs.googlenet import TABLE1_LAYOUT
from .specs.types import Row, TableLayout


@dataclass
class LayerCost:
    """Cost of one top-level module at a given input size (batch 1)."""

    name: str
    type: str
    out_shape: tuple[int, ...]
    params: int
    macs: int

    @property
    def flops(self) -> int:
        return 2 * self.macs


def _leaf_macs(module: nn.Module, out: torch.Tensor) -> int:
    per_sample = out[0].numel() if out.dim() > 1 else out.numel()
    if isinstance(module, nn.Conv2d):
        k = module.kernel_size[0] * module.kernel_size[1]
        return per_sample * (module.in_channels // module.groups) * k
    if isinstance(module, nn.Linear):
        return per_sample * module.in_features
    return 0


class _ForwardTrain(nn.Module):
    """Calls ``forward_train``, so that one functional call measures the aux heads too."""

    def __init__(self, model: InceptionNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.forward_train(x).logits


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux's MemAvailable; else the
    physical memory), or None where neither can be read."""
    try:
        with open("/proc/meminfo") as f:
            return next(int(ln.split()[1]) * 1024 for ln in f if ln.startswith("MemAvailable:"))
    except (OSError, StopIteration):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


@dataclass
class Measured:
    """One meta-device pass: output shapes per top-level module, MACs per leaf module, and
    the largest activation's size in bytes."""

    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    leaf_macs: dict[int, int] = field(default_factory=dict)
    largest: int = 0

    def cost(self, modules: Iterable[nn.Module]) -> tuple[int, int]:
        """Params and MACs of ``modules`` (each counted once)."""
        seen: dict[int, nn.Module] = {}
        for module in modules:
            seen.update({id(m): m for m in module.modules()})
        params = sum(p.numel() for m in seen.values() for p in m.parameters(recurse=False))
        return params, sum(self.leaf_macs.get(i, 0) for i in seen)


@torch.no_grad()
def measure(
    model: nn.Module, input_size: int | tuple[int, int], in_chans: int, with_aux: bool = False,
) -> Measured:
    """Shapes and MACs of ``model`` on one image of ``input_size``, without running it.

    Raises :class:`InputSizeError` when the activations would not fit in memory (the
    largest one, times three: a block's input, its output and a branch alive at once).
    """
    h, w = (input_size, input_size) if isinstance(input_size, int) else input_size
    out = Measured()
    tops = {id(child): top for top, child in model.named_children()}

    def record(m: nn.Module, _i: object, y: object) -> None:
        if not isinstance(y, torch.Tensor):
            return
        out.largest = max(out.largest, y.numel() * y.element_size())
        if id(m) in tops:
            out.shapes[tops[id(m)]] = tuple(y.shape[1:])
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            out.leaf_macs[id(m)] = _leaf_macs(m, y)

    hooks = [m.register_forward_hook(record) for m in model.modules()]
    runner = _ForwardTrain(model) if with_aux and isinstance(model, InceptionNet) else model
    state = {k: torch.empty_like(v, device="meta") for k, v in
             (*runner.named_parameters(), *runner.named_buffers())}
    was_training = model.training
    model.eval()
    try:
        functional_call(runner, state, (torch.zeros(1, in_chans, h, w, device="meta"),))
    finally:
        for hk in hooks:
            hk.remove()
        model.train(was_training)
    free = available_memory()
    if free is not None and 3 * out.largest > free:
        raise InputSizeError(
            f"{h}x{w} inputs need {out.largest / 2**30:.1f} GiB for the largest activation "
            f"alone (batch 1), over a third of the {free / 2**30:.1f} GiB of memory available")
    return out


def profile_model(
    model: nn.Module, input_size: int | tuple[int, int], in_chans: int, with_aux: bool = False
) -> list[LayerCost]:
    """Per top-level module: output shape (without batch), params and MACs.

    ``with_aux`` runs ``forward_train`` so the auxiliary heads are measured too.
    """
    measured = measure(model, input_size, in_chans, with_aux)
    rows = []
    for top, child in model.named_children():
        if top not in measured.shapes:
            continue  # not run (an aux head without with_aux)
        params, macs = measured.cost([child])
        rows.append(LayerCost(top, type(child).__name__, measured.shapes[top], params, macs))
    return rows


# -- each family's table -------------------------------------------------------------------

_TYPE_LABEL = {
    "conv": "convolution", "max_pool": "max pool", "avg_pool": "avg pool",
    "global_avg_pool": "avg pool", "linear": "linear", "softmax": "softmax",
}
# Rows whose computed figures are more than this far from the printed ones are marked.
DIFF_TOLERANCE = 0.05
COMPUTED_FIELDS = ("label", "output_size", "depth", "branches")
"""Column fields computed from the built network; any other field is a Row attribute or,
failing that, a key of ``Row.cells`` (a family's own printed columns)."""


@dataclass
class BranchCost:
    """One branch of a block (or its residual projection): its ops and measured cost."""

    name: str
    ops: str
    params: int
    macs: int


@dataclass
class TableRow:
    """One line of a family's table: the layout's columns (``cells``, by field) and the
    cost measured on the modules the row built."""

    name: str
    type: str
    output_size: str
    paper_output_size: str
    params: int
    macs: int
    paper_params: int | None = None
    paper_ops: int | None = None
    differs: bool = False
    cells: dict[str, object] = field(default_factory=dict)
    branches: list[BranchCost] = field(default_factory=list)


def _label(row: Row, dropout: float, block: InceptionBlock | None) -> str:
    if block is not None and block.spec.label:
        return block.spec.label
    if row.type == "dropout":
        return f"dropout ({dropout:.0%})"
    return _TYPE_LABEL.get(row.type, row.type)


def _fmt_size(shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return f"1x1x{shape[0]}"
    c, h, w = shape
    return f"{h}x{w}x{c}"


def _off(computed: int, printed: int | None) -> bool:
    return printed is not None and abs(computed - printed) > DIFF_TOLERANCE * max(printed, 1)


def branch_costs(block: InceptionBlock, measured: Measured) -> list[BranchCost]:
    """Each branch's (and a residual projection's) ops and cost, from a :func:`measure`."""
    residual = block.spec.residual
    descriptions = [b.describe() for b in block.spec.branches]
    descriptions += [residual.describe()] if residual is not None else []
    return [BranchCost(name, text, *measured.cost(modules))
            for (name, modules), text in zip(block.branch_modules(), descriptions, strict=True)]


def model_table(
    model: InceptionNet, input_size: int | None = None, *, with_aux: bool = False,
    branches: bool = False,
) -> list[TableRow]:
    """``model``'s rows as its family's table, with the cost measured per row.

    ``with_aux`` adds a row per auxiliary head after the row it reads; ``branches`` adds
    each block's per-branch cost (:attr:`TableRow.branches`).
    """
    spec = model.spec
    measured = measure(model, input_size or spec.input_size, model.in_chans, with_aux)
    after = {a: name for name, a in model.aux_after.items()} if with_aux else {}
    out: list[TableRow] = []
    shape: tuple[int, ...] = ()
    for row in spec.rows:
        names = model.row_modules.get(row.name, [])
        modules = [getattr(model, n) for n in names]
        shape = next((measured.shapes[n] for n in reversed(names) if n in measured.shapes),
                     shape)
        params, macs = measured.cost(modules)
        size = _fmt_size(shape)
        paper_size = _fmt_size((row.out_size[2], *row.out_size[:2])) if row.out_size else ""
        blocks = [m for m in modules if isinstance(m, InceptionBlock)]
        computed = {
            "label": _label(row, spec.dropout, blocks[0] if blocks else None),
            "output_size": size,
            "depth": blocks[0].spec.depth() if blocks else row.depth,
            "branches": blocks[0].spec.describe() if blocks else "",
        }
        cells = {c.field: computed[c.field] if c.field in COMPUTED_FIELDS
                 else getattr(row, c.field) if hasattr(row, c.field)
                 else row.cells.get(c.field) for c in spec.table.columns}
        out.append(TableRow(
            row.name, str(computed["label"]), size, paper_size, params, macs,
            row.paper_params, row.paper_ops,
            _off(params, row.paper_params) or _off(macs, row.paper_ops)
            or (bool(paper_size) and paper_size != size),
            cells, branch_costs(blocks[0], measured) if blocks and branches else []))
        for aux in (after[n] for n in names if n in after):
            label = f"aux classifier ({aux})"
            out.append(TableRow(aux, label, _fmt_size(measured.shapes[aux]), "",
                                *measured.cost([getattr(model, aux)]),
                                cells={"label": label, "name": aux}))
    return out


def table1(model: InceptionNet, input_size: int | None = None) -> list[TableRow]:
    """GoogLeNet's Table 1 for ``model`` (a network written as Table 1 rows)."""
    return model_table(model, input_size)


def human(n: float) -> str:
    """3.4K, 120.4M, 1.6G: the paper's style of printing counts."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.1f}{unit}"
    return str(int(n))


def _kilo(n: int | None) -> str:
    """Parameters in thousands, as Table 1 prints them."""
    return f"{n / 1000:.1f}K" if n else ""


def render_table(rows: list[TableRow], layout: TableLayout, input_size: int) -> str:
    """Plain-text table: the layout's columns, params and MACs (and the paper's printed
    figures, when the rows have them), per-branch lines under each block if measured."""
    printed = any(r.paper_params or r.paper_ops for r in rows)
    marked = printed or any(r.paper_output_size for r in rows)
    width = len(layout.columns)
    head = [c.header for c in layout.columns] + ["params", "MACs"]
    head += ["paper params", "paper ops"] if printed else []
    head += [""] if marked else []

    def line(cells: list[str], params: str, macs: int, row: TableRow | None) -> list[str]:
        out = cells + [params, human(macs) if macs else ""]
        if printed:
            out += ["", ""] if row is None else [
                _kilo(row.paper_params), human(row.paper_ops) if row.paper_ops else ""]
        return out + (["*" if row is not None and row.differs else ""] if marked else [])

    lines = []
    for r in rows:
        cells = ["" if r.cells.get(c.field) is None else str(r.cells[c.field])
                 for c in layout.columns]
        lines.append(line(cells, _kilo(r.params), r.macs, r))
        lines += [line([f"  {b.name}: {b.ops}"] + [""] * (width - 1), _kilo(b.params), b.macs,
                       None) for b in r.branches]
    total_p, total_m = sum(r.params for r in rows), sum(r.macs for r in rows)
    lines.append(line(["total"] + [""] * (width - 1), human(total_p), total_m, None))
    grid = text_grid(head, lines, move_first=("paper params", "paper ops"))
    text = (f"{grid}\n" + wrap_prose(f"MACs = multiply-adds (the paper's \"ops\") at "
            f"{input_size}x{input_size}, batch 1; FLOPs = 2 x MACs = {human(2 * total_m)}. "
            f"Total params {total_p:,}; MACs {total_m:,}."))
    if any(r.differs for r in rows):
        text += "\n" + wrap_prose(f"* computed figures more than {DIFF_TOLERANCE:.0%} from "
                                  f"the paper's printed ones{layout.note}.")
    return text


def render_table1(rows: list[TableRow], input_size: int) -> str:
    """Plain-text Table 1 with the paper's and the computed params / multiply-adds."""
    return render_table(rows, TABLE1_LAYOUT, input_size)


def render_layers(costs: list[LayerCost], input_size: int) -> str:
    """Per-layer table: output shape, params, MACs and FLOPs."""
    head = ["layer", "type", "output shape", "params", "MACs", "FLOPs (2xMACs)"]
    lines = [[c.name, c.type, "x".join(map(str, c.out_shape)), f"{c.params:,}",
              f"{c.macs:,}", human(c.flops)] for c in costs]
    tp, tm = sum(c.params for c in costs), sum(c.macs for c in costs)
    lines.append(["total", "", "", f"{tp:,}", f"{tm:,}", human(2 * tm)])
    return f"{text_grid(head, lines)}\nat {input_size}x{input_size}, batch 1"


TEXT_WIDTH = 100
"""The widest line a plain-text table or summary prints (a terminal, a pasted log)."""


def wrap_cell(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` characters, broken at a block's branch
    separators (``" | "``) first and at spaces inside a branch after that."""
    if len(text) <= width:
        return [text]
    out: list[str] = []
    for part in text.split(" | "):
        if out and len(out[-1]) + 3 + len(part) <= width:
            out[-1] += " | " + part
        else:
            if out:
                out[-1] += " |"
            out += textwrap.wrap(part, width - 2, break_on_hyphens=False) or [""]
    return out


def wrap_prose(text: str, width: int = TEXT_WIDTH) -> str:
    """Each line of ``text`` that is wider than ``width`` broken at spaces."""
    return "\n".join(textwrap.fill(ln, width) if len(ln) > width else ln
                     for ln in text.split("\n"))


def _split_header(text: str) -> list[str]:
    """A header on two lines, broken at the space nearest its middle (``"paper params"``)."""
    breaks = [i for i, c in enumerate(text) if c in " /"]
    if not breaks:
        return [text]
    cut = min(breaks, key=lambda i: abs(2 * i - len(text)))
    return [text[:cut + (text[cut] == "/")], text[cut + 1:]]


def text_grid(head: list[str], lines: list[list[str]], max_width: int = TEXT_WIDTH,
              move_first: tuple[str, ...] = ()) -> str:
    """Left-aligned columns under a header and a rule. A table wider than ``max_width``
    first puts its headers on two lines, then takes its widest columns out of the grid and
    prints each row's cells of them on an indented line under the row (``header: text``,
    wrapped), so a block's branches stay readable at 100 columns. The columns named in
    ``move_first`` leave first; the first column (the row's name) always stays."""
    def grid_width(keep: list[int]) -> int:
        return sum(widths[k] for k in keep) + 2 * (len(keep) - 1)

    heads = [[h] for h in head]
    widths = [max(len(x) for x in col) for col in zip(head, *lines, strict=True)]
    keep = list(range(len(head)))
    if grid_width(keep) > max_width:
        heads = [_split_header(h) for h in head]
        widths = [max([len(x) for x in col] + [len(p) for p in heads[k]])
                  for k, col in enumerate(zip(*lines, strict=True))] if lines else widths
    while len(keep) > 1 and grid_width(keep) > max_width:
        keep.remove(max(keep[1:], key=lambda k: (head[k] in move_first, widths[k])))
    moved = [k for k in range(len(head)) if k not in keep]
    fmt = "  ".join(f"{{:<{widths[k]}}}" for k in keep)
    out = [fmt.format(*(heads[k][i] if i < len(heads[k]) else "" for k in keep)).rstrip()
           for i in range(max(len(heads[k]) for k in keep))]
    out.append("  ".join("-" * widths[k] for k in keep).rstrip())
    for ln in lines:
        out.append(fmt.format(*(ln[k] for k in keep)).rstrip())
        extra = " | ".join(f"{head[k]}: {ln[k]}" for k in moved if ln[k])
        out += ["    " + part for part in wrap_cell(extra, max_width - 4) if extra]
    return "\n".join(out)


def as_dicts(items: list[TableRow] | list[LayerCost]) -> list[dict[str, object]]:
    """JSON-ready dictionaries: a table row's cells sit beside its costs; LayerCost gains
    its FLOPs."""
    out = []
    for item in items:
        d = asdict(item)
        if isinstance(item, LayerCost):
            d["flops"] = item.flops
        else:
            costs = d.pop("branches")
            d.update({k: v for k, v in d.pop("cells").items() if k not in d and k != "label"})
            if costs:
                d["branch_costs"] = costs
        out.append(d)
    return out


# -- the 1x1-reduction calculator ----------------------------------------------------------

@dataclass
class ReductionCost:
    """One branch computed directly and behind a 1x1 reduce convolution."""

    direct_params: int
    direct_macs: int
    reduced_params: int
    reduced_macs: int

    @property
    def mac_ratio(self) -> float:
        return self.direct_macs / self.reduced_macs

    @property
    def param_ratio(self) -> float:
        return self.direct_params / self.reduced_params


def reduction_cost(
    height: int, width: int, channels: int, filters: int, kernel: int, reduce: int,
    bias: bool = False,
) -> ReductionCost:
    """Build both versions of a branch ("same" padding) and measure them."""
    sizes = {"height": height, "width": width, "channels": channels, "filters": filters,
             "kernel": kernel, "reduce": reduce}
    bad = next((f"{k}={v}" for k, v in sizes.items() if v < 1), None)
    if bad:
        raise SpecError(f"reduction_cost: every size must be >= 1, got {bad}")
    # torch counts a tensor's elements in int64: beyond that no module can describe it.
    largest = max(height * width * max(channels, filters, reduce),
                  filters * max(channels, reduce) * kernel * kernel)
    if largest >= 2**62:
        raise SpecError(f"reduction_cost: sizes too large to count ({largest:.3g} elements "
                        "in one tensor; at most 2**62)")
    pad = kernel // 2
    # On the meta device: shapes and counts without memory, so any size can be asked.
    with torch.device("meta"):
        direct = nn.Sequential(nn.Conv2d(channels, filters, kernel, padding=pad, bias=bias))
        reduced = nn.Sequential(nn.Conv2d(channels, reduce, 1, bias=bias),
                                nn.Conv2d(reduce, filters, kernel, padding=pad, bias=bias))
        a = profile_model(direct, (height, width), channels)
        b = profile_model(reduced, (height, width), channels)
    return ReductionCost(sum(c.params for c in a), sum(c.macs for c in a),
                         sum(c.params for c in b), sum(c.macs for c in b))
