"""``googlenet summary MODEL``: Table 1 for the paper's models, a per-layer table for all."""

from __future__ import annotations

import argparse

from ..cost import as_dicts, profile_model, render_layers, render_table1, table1
from ..models import create_model, get_model_info
from ..models.inception_net import InceptionNet
from ._common import parse_size, print_json


def has_table1(model: InceptionNet) -> bool:
    """Models whose rows carry the paper's printed output sizes render as Table 1."""
    return any(r.out_size for r in model.spec.rows)


def _run(args: argparse.Namespace) -> int:
    info = get_model_info(args.model)
    size = parse_size(args.input_size)[0] if args.input_size else info.input_size
    model = create_model(args.model, aux_logits=args.aux)
    assert isinstance(model, InceptionNet)
    if has_table1(model) and not args.layers:
        rows = table1(model, size)
        key, items = "rows", as_dicts(rows)
        title = "the paper's Table 1, computed from the built modules"
        text = render_table1(rows, size)
    else:
        costs = profile_model(model, size, model.in_chans, with_aux=args.aux)
        key, items = "layers", as_dicts(costs)
        title, text = "per-layer cost", render_layers(costs, size)
    if args.json:
        print_json({"model": args.model, "input_size": size, "unit": "MACs (multiply-adds)",
                    key: items})
    else:
        print(f"{args.model}: {title}\n\n{text}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("summary", help="Table 1 / per-layer params and multiply-adds")
    p.add_argument("model")
    p.add_argument("--input-size", help="measure at this size (default: the model's)")
    p.add_argument("--layers", action="store_true",
                   help="per-layer table even for models that have a Table 1 view")
    p.add_argument("--aux", action="store_true", help="include the auxiliary heads")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_run)
