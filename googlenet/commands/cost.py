"""``googlenet cost``: what a 1x1 reduce convolution saves on one branch."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from ..cost import human, reduction_cost
from ..errors import InputSizeError
from ._common import parse_size, positive_int, print_json


def _run(args: argparse.Namespace) -> int:
    size = parse_size(args.input)
    if len(size) != 3:
        raise InputSizeError(f"--input {args.input!r}: expected HxWxC, e.g. 28x28x192")
    h, w, c = size
    r = reduction_cost(h, w, c, args.filters, args.kernel, args.reduce, bias=args.bias)
    if args.json:
        print_json({"input": [h, w, c], "filters": args.filters, "kernel": args.kernel,
                    "reduce": args.reduce, "bias": args.bias, "unit": "MACs (multiply-adds)",
                    **asdict(r), "mac_ratio": r.mac_ratio, "param_ratio": r.param_ratio})
        return 0
    k = args.kernel
    print(f"{h}x{w}x{c} input -> {args.filters} filters of {k}x{k} ('same' padding, "
          f"{'with' if args.bias else 'no'} biases)")
    print(f"  direct {k}x{k}:            {r.direct_params:>12,} params  "
          f"{r.direct_macs:>14,} multiply-adds ({human(r.direct_macs)})")
    print(f"  1x1 reduce to {args.reduce}, then {k}x{k}: {r.reduced_params:>8,} params  "
          f"{r.reduced_macs:>14,} multiply-adds ({human(r.reduced_macs)})")
    print(f"  the reduction saves {r.param_ratio:.1f}x params and {r.mac_ratio:.1f}x "
          "multiply-adds")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("cost", help="1x1-reduction calculator for one branch")
    p.add_argument("--input", required=True, help="input feature map HxWxC, e.g. 28x28x192")
    p.add_argument("--filters", type=positive_int, required=True,
                   help="output filters of the branch")
    p.add_argument("--kernel", type=positive_int, default=5, help="kernel size (default 5)")
    p.add_argument("--reduce", type=positive_int, required=True, help="channels of the 1x1 reduce")
    p.add_argument("--bias", action="store_true", help="count conv biases too")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_run)
