"""The family at a glance: one row per registered model with its paper, parameters,
multiply-adds at its input size, input and the weights that convert into it.

``googlenet list --markdown`` prints it, and the README's family table is that output
verbatim (a test keeps the two equal), so the figures there are computed, not typed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .cost import measure
from .models import create_model, get_model_info, list_models
from .weights.sources import releases_for


@dataclass(frozen=True)
class FamilyRow:
    """What the family table says about one model."""

    name: str
    paper: str  # the registry's citation: authors, year, title
    params: int  # without aux heads, as the registry counts them
    macs: int  # one image at ``input_size``, without aux heads
    input_size: int
    in_chans: int
    weights: tuple[str, ...]  # the `googlenet convert --from` sources that fill it


def family_row(name: str) -> FamilyRow:
    """Measure ``name`` on the meta device: no weights are allocated or initialised."""
    info = get_model_info(name)
    with torch.device("meta"):
        model = create_model(name, aux_logits=False)
    macs = sum(measure(model, info.input_size, info.in_chans).leaf_macs.values())
    sources = tuple(dict.fromkeys(r.source for r in releases_for(model=name)))
    return FamilyRow(name, info.paper, info.num_params, macs, info.input_size, info.in_chans,
                     sources)


def family_rows(pattern: str = "*") -> list[FamilyRow]:
    """:func:`family_row` for every registered model matching ``pattern``."""
    return [family_row(n) for n in list_models(pattern)]


def _short(paper: str) -> str:
    # "Szegedy et al. 2014, Going Deeper with Convolutions" -> "Szegedy et al. 2014"
    return paper.split(",", 1)[0]


def _millions(n: int) -> str:
    return f"{n / 1e6:,.2f}M"


def _macs(n: int) -> str:
    return f"{n / 1e9:.2f}G" if n >= 1e9 else f"{n / 1e6:.0f}M"


def render_markdown(rows: list[FamilyRow]) -> str:
    """The rows as a Markdown table."""
    lines = ["| model | paper | params | MACs | input | weights that convert |",
             "|---|---|---:|---:|---|---|"]
    for r in rows:
        colour = "RGB" if r.in_chans == 3 else "gray" if r.in_chans == 1 else f"{r.in_chans}-ch"
        weights = ", ".join(f"`--from {s}`" for s in r.weights) or "train or fine-tune"
        cells = (f"`{r.name}`", _short(r.paper), _millions(r.params), _macs(r.macs),
                 f"{r.input_size}x{r.input_size} {colour}", weights)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
