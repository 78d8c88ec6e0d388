"""Parameters and multiply-adds, measured on the built modules (never typed in).

MACs are multiply-accumulates of convolutions and linear layers, the unit of the paper's
"ops" column; FLOPs are reported as 2 x MACs and labelled so. Pooling, normalisation and
activations are not counted (the paper does not count them either).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .errors import SpecError
from .models.inception_net import InceptionNet
from .specs.types import Row


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


@torch.no_grad()
def profile_model(
    model: nn.Module, input_size: int | tuple[int, int], in_chans: int, with_aux: bool = False
) -> list[LayerCost]:
    """Per top-level module: output shape (without batch), params and MACs.

    ``with_aux`` runs ``forward_train`` so the auxiliary heads are measured too.
    """
    h, w = (input_size, input_size) if isinstance(input_size, int) else input_size
    macs: dict[str, int] = {}
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = []
    for top, child in model.named_children():
        macs[top] = 0

        def record_shape(_m: nn.Module, _i: object, out: torch.Tensor, top: str = top) -> None:
            shapes[top] = tuple(out.shape[1:])

        hooks.append(child.register_forward_hook(record_shape))
        for leaf in child.modules():
            if isinstance(leaf, (nn.Conv2d, nn.Linear)):

                def count(m: nn.Module, _i: object, out: torch.Tensor, top: str = top) -> None:
                    macs[top] += _leaf_macs(m, out)

                hooks.append(leaf.register_forward_hook(count))
    was_training = model.training
    model.eval()
    try:
        x = torch.zeros(1, in_chans, h, w)
        if with_aux and isinstance(model, InceptionNet):
            model.forward_train(x)
        else:
            model(x)
    finally:
        for hk in hooks:
            hk.remove()
        model.train(was_training)
    rows = []
    for top, child in model.named_children():
        if top not in shapes:
            continue  # not run (an aux head without with_aux)
        params = sum(p.numel() for p in child.parameters())
        rows.append(LayerCost(top, type(child).__name__, shapes[top], params, macs[top]))
    return rows


# -- Table 1 -------------------------------------------------------------------------------

_TYPE_LABEL = {
    "conv": "convolution", "max_pool": "max pool", "avg_pool": "avg pool",
    "global_avg_pool": "avg pool", "linear": "linear", "softmax": "softmax",
}
# Rows whose computed figures are more than this far from the printed ones are marked.
DIFF_TOLERANCE = 0.05


@dataclass
class Table1Row:
    """One line of the rendered Table 1: the paper's columns and the computed cost."""

    type: str
    patch_stride: str
    output_size: str
    paper_output_size: str
    depth: int
    n1x1: int | None
    n3x3_reduce: int | None
    n3x3: int | None
    n5x5_reduce: int | None
    n5x5: int | None
    pool_proj: int | None
    params: int
    macs: int
    paper_params: int | None
    paper_ops: int | None
    differs: bool


def _label(row: Row, dropout: float) -> str:
    if row.type == "inception":
        return f"inception ({row.name.rsplit('_', 1)[-1]})"
    if row.type == "dropout":
        return f"dropout ({dropout:.0%})"
    return _TYPE_LABEL.get(row.type, row.type)


def _fmt_size(shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return f"1x1x{shape[0]}"
    c, h, w = shape
    return f"{h}x{w}x{c}"


def _off(computed: int, printed: int | None) -> bool:
    if printed is None:
        return False
    return abs(computed - printed) > DIFF_TOLERANCE * max(printed, 1)


def table1(model: InceptionNet, input_size: int | None = None) -> list[Table1Row]:
    """The paper's Table 1 for ``model``: its spec rows with the cost measured per row."""
    spec = model.spec
    costs = {c.name: c for c in profile_model(model, input_size or spec.input_size,
                                              model.in_chans)}
    head_module = {"global_avg_pool": "global_pool", "dropout": "dropout", "linear": "fc",
                   "flatten": "global_pool"}
    out = []
    last_shape: tuple[int, ...] = ()
    for row in spec.rows:
        names = model.row_modules.get(row.name) or [head_module.get(row.type, "")]
        parts = [costs[n] for n in names if n in costs]
        shape = parts[-1].out_shape if parts else last_shape
        last_shape = shape
        params = sum(p.params for p in parts)
        macs = sum(p.macs for p in parts)
        size = _fmt_size(shape)
        paper_size = _fmt_size((row.out_size[2], *row.out_size[:2])) if row.out_size else ""
        out.append(Table1Row(
            _label(row, spec.dropout), row.patch_stride, size, paper_size, row.depth,
            row.n1x1, row.n3x3_reduce, row.n3x3, row.n5x5_reduce, row.n5x5, row.pool_proj,
            params, macs, row.paper_params, row.paper_ops,
            _off(params, row.paper_params) or _off(macs, row.paper_ops)
            or (bool(paper_size) and paper_size != size),
        ))
    return out


def human(n: float) -> str:
    """3.4K, 120.4M, 1.6G: the paper's style of printing counts."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.1f}{unit}"
    return str(int(n))


def _kilo(n: int | None) -> str:
    """Parameters in thousands, as Table 1 prints them."""
    return f"{n / 1000:.1f}K" if n else ""


def render_table1(rows: list[Table1Row], input_size: int) -> str:
    """Plain-text Table 1 with the paper's and the computed params / multiply-adds."""
    head = ["type", "patch/stride", "output size", "depth", "#1x1", "#3x3 red", "#3x3",
            "#5x5 red", "#5x5", "pool proj", "params", "MACs", "paper params",
            "paper ops", ""]
    lines = []
    for r in rows:
        cells = [r.type, r.patch_stride, r.output_size, str(r.depth)]
        cells += ["" if v is None else str(v) for v in
                  (r.n1x1, r.n3x3_reduce, r.n3x3, r.n5x5_reduce, r.n5x5, r.pool_proj)]
        cells += [_kilo(r.params), human(r.macs) if r.macs else "", _kilo(r.paper_params),
                  human(r.paper_ops) if r.paper_ops else "", "*" if r.differs else ""]
        lines.append(cells)
    total_p = sum(r.params for r in rows)
    total_m = sum(r.macs for r in rows)
    lines.append(["total", "", "", "", "", "", "", "", "", "", human(total_p), human(total_m),
                  "", "", ""])
    text = _grid(head, lines)
    return (f"{text}\nMACs = multiply-adds (the paper's \"ops\") at {input_size}x{input_size}, "
            f"batch 1; FLOPs = 2 x MACs = {human(2 * total_m)}. Total params {total_p:,}; "
            f"MACs {total_m:,}.\n* computed figures more than {DIFF_TOLERANCE:.0%} from the "
            "paper's printed ones (its conv1 row prints 2.7K/34M, which 7x7x3x64 weights "
            "cannot give).")


def render_layers(costs: list[LayerCost], input_size: int) -> str:
    """Per-layer table: output shape, params, MACs and FLOPs."""
    head = ["layer", "type", "output shape", "params", "MACs", "FLOPs (2xMACs)"]
    lines = [[c.name, c.type, "x".join(map(str, c.out_shape)), f"{c.params:,}",
              f"{c.macs:,}", human(c.flops)] for c in costs]
    tp, tm = sum(c.params for c in costs), sum(c.macs for c in costs)
    lines.append(["total", "", "", f"{tp:,}", f"{tm:,}", human(2 * tm)])
    return f"{_grid(head, lines)}\nat {input_size}x{input_size}, batch 1"


def _grid(head: list[str], lines: list[list[str]]) -> str:
    widths = [max(len(x) for x in col) for col in zip(head, *lines, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt.format(*head).rstrip(), rule]
                     + [fmt.format(*ln).rstrip() for ln in lines])


def as_dicts(items: list[Table1Row] | list[LayerCost]) -> list[dict[str, object]]:
    """JSON-ready dictionaries (LayerCost gains its FLOPs)."""
    out = []
    for item in items:
        d = asdict(item)
        if isinstance(item, LayerCost):
            d["flops"] = item.flops
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
    pad = kernel // 2
    direct = nn.Sequential(nn.Conv2d(channels, filters, kernel, padding=pad, bias=bias))
    reduced = nn.Sequential(nn.Conv2d(channels, reduce, 1, bias=bias),
                            nn.Conv2d(reduce, filters, kernel, padding=pad, bias=bias))
    a = profile_model(direct, (height, width), channels)
    b = profile_model(reduced, (height, width), channels)
    return ReductionCost(sum(c.params for c in a), sum(c.macs for c in a),
                         sum(c.params for c in b), sum(c.macs for c in b))
