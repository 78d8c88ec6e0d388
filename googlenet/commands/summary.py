"""``googlenet summary MODEL``: the model family's own table, or a per-layer table.

The table's columns are the spec's :class:`~googlenet.specs.types.TableLayout` (GoogLeNet:
the paper's Table 1; Inception v3: its stages and blocks), with params and MACs measured
per row; ``--branches`` adds each block's branches, ``--aux`` the auxiliary heads.

For learners (:mod:`googlenet.explain.anatomy`): every table has a receptive-field column
and says how many layers deep the network is, counted as the paper counts;
``--compare naive`` shows each block beside its naive form (no 1x1 reductions).
"""

from __future__ import annotations

import argparse

from ..cost import (
    as_dicts,
    model_table,
    profile_model,
    render_layers,
    render_table,
    wrap_prose,
)
from ..errors import InputSizeError, UsageError
from ..explain.anatomy import compare_naive, layer_count
from ..explain.learner import add_receptive_fields, naive_items, render_naive
from ..models.inception_net import InceptionNet
from ._common import add_model_argument, loaded_from_args, print_json


def _run(args: argparse.Namespace) -> int:
    loaded = loaded_from_args(args, aux_logits=args.aux, with_weights=False)
    model, size, name = loaded.network, loaded.input_size, loaded.name
    if not isinstance(model, InceptionNet):
        raise UsageError(f"{loaded.source} holds {loaded.describe()}: summary draws a "
                         f"registered model's table; try its backbone, {name}")
    layout = model.spec.table
    try:
        if args.compare == "naive":
            naive = compare_naive(model, size)
            key, items = "blocks", naive_items(naive)
            title, text = "each block naive vs with its 1x1 reductions", render_naive(naive, size)
        elif args.layers:
            costs = profile_model(model, size, model.in_chans, with_aux=args.aux)
            key, items = "layers", as_dicts(costs)
            title, text = "per-layer cost", render_layers(costs, size)
        else:
            rows = model_table(model, size, with_aux=args.aux, branches=args.branches)
            layout = add_receptive_fields(model, rows, layout)
            key, items = "rows", as_dicts(rows)
            title = f"{layout.title}, computed from the built modules"
            text = render_table(rows, layout, size)
    except InputSizeError as err:
        if args.input_size:  # say which option to change
            raise InputSizeError(f"--input-size {args.input_size}: {err}") from None
        raise
    depth = layer_count(model.spec)
    if args.json:
        print_json({"model": name, "input_size": size, "unit": "MACs (multiply-adds)",
                    "layers_with_params": depth.with_params,
                    "layers_with_pooling": depth.with_pooling, key: items})
    else:
        print(wrap_prose(f"{name}: {title}\n{depth.text()} (the paper's count: the "
                         f"deepest path, a block as its longest chain of convolutions)"))
        print(f"\n{wrap_prose(text)}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("summary", help="the family's table / per-layer params and multiply-adds")
    add_model_argument(p, positional="MODEL", input_size="measure at this size (default: "
                                                         "the model's)")
    p.add_argument("--layers", action="store_true",
                   help="per-layer table instead of the family's table")
    p.add_argument("--branches", action="store_true",
                   help="add the params and MACs of each branch inside each block")
    p.add_argument("--aux", action="store_true", help="include the auxiliary heads")
    p.add_argument("--compare", choices=("naive",),
                   help="naive: each block beside its naive form (no 1x1 reductions in "
                        "front of its larger convolutions): params, MACs and their ratios")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_run)
