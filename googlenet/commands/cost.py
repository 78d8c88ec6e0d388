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
    print(f"  the reduction {verdict(r.param_ratio, r.mac_ratio)}")
    return 0


def _change(ratio: float, what: str) -> tuple[str, str]:
    """("saves", "9.7x params") for direct/reduced = 9.7, ("costs", "2.0x more params")
    for 0.5: a reduce wider than it should be makes the branch dearer, not cheaper."""
    if ratio >= 1:
        return "saves", f"{ratio:.1f}x {what}"
    return "costs", f"{1 / ratio:.1f}x more {what}"


def verdict(param_ratio: float, mac_ratio: float) -> str:
    """``saves 9.7x params and 9.7x multiply-adds``, or what it costs instead."""
    (v1, params), (v2, macs) = _change(param_ratio, "params"), _change(mac_ratio, "multiply-adds")
    if v1 == v2:
        return f"{v1} {params} and {macs}"
    return f"{v1} {params} but {v2} {macs}"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("cost", help="1x1-reduction calculator for one branch")
    p.add_argument("--input", required=True, help="input feature map HxWxC, e.g. 28x28x192")
    p.add_argument("--filters", type=positive_int, required=True,
                   help="output filters of the branch")
    p.add_argument("--kernel", type=positive_int, default=5, help="kernel size (default 5)")
    p.add_argument("--reduce", type=positive_int, required=True, help="channels of the 1x1 reduce")
    p.add_argument("--bias", action="store_true", help="count conv biases too")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_run)
