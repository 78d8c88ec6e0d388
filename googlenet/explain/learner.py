"""The learner's columns of ``googlenet summary``: receptive fields per row, and each block
beside its naive form (``--compare naive``). The numbers come from
:mod:`googlenet.explain.anatomy`; this module only lays them out."""

from __future__ import annotations

from dataclasses import asdict, replace

from ..cost import TableRow, human, text_grid
from ..models.inception_net import InceptionNet
from ..specs.types import Column, TableLayout
from .anatomy import Field, NaiveRow, module_field

RF_FIELD = "receptive_field"
RF_COLUMN = Column("RF", RF_FIELD)
"""Receptive field in input pixels: what one output position of the row sees."""


def row_fields(model: InceptionNet) -> dict[str, Field]:
    """The receptive field after each row of the spec (head rows too: a global pool
    sees everything), in input pixels."""
    field, out = Field(), {}
    for row in model.spec.rows:
        for name in model.row_modules.get(row.name, []):
            field = module_field(getattr(model, name), field)
        out[row.name] = field
    return out


def add_receptive_fields(model: InceptionNet, rows: list[TableRow],
                         layout: TableLayout) -> TableLayout:
    """Fill each row's receptive field into its cells and return ``layout`` with the RF
    column after its own columns. Aux-head rows get none (they leave the main path)."""
    fields = row_fields(model)
    for row in rows:
        if row.name in fields:
            row.cells[RF_FIELD] = fields[row.name].text()
    return replace(layout, columns=(*layout.columns, RF_COLUMN))


def naive_items(rows: list[NaiveRow]) -> list[dict[str, object]]:
    """:func:`compare_naive`'s rows as JSON-ready dicts, with the ratios."""
    return [{**asdict(r), "param_ratio": r.param_ratio, "mac_ratio": r.mac_ratio}
            for r in rows]


def render_naive(rows: list[NaiveRow], input_size: int) -> str:
    """Plain text: per block, params and MACs with and without reductions, and the
    ratios (naive / reduced); then the totals."""
    head = ["block", "type", "input", "params", "naive params", "x", "MACs", "naive MACs", "x"]
    total = NaiveRow("all blocks", "", "", *(sum(getattr(r, k) for r in rows) for k in
                                             ("params", "macs", "naive_params", "naive_macs")))
    lines = [[r.name, r.label, r.input_size, human(r.params), human(r.naive_params),
              f"{r.param_ratio:.1f}", human(r.macs), human(r.naive_macs), f"{r.mac_ratio:.1f}"]
             for r in (*rows, total)]
    return (f"{text_grid(head, lines)}\nnaive: each larger convolution reads the block input "
            f"(Figure 2a); x = naive / reduced. MACs = multiply-adds at "
            f"{input_size}x{input_size}, batch 1.")
