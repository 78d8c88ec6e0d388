"""``googlenet diagram --model MODEL [--block NAME] [--out FILE.svg]``: the architecture as SVG,
drawn from the spec, one block expanded into its branches (no Graphviz needed)."""

from __future__ import annotations

import argparse
import sys

from ..atomic import atomic_path, writable_file
from ..explain.diagram import model_svg
from ._common import add_model_argument, loaded_from_args


def _run(args: argparse.Namespace) -> int:
    # A drawing needs the architecture, not the tensors: a file's metadata is enough.
    loaded = loaded_from_args(args, with_weights=False)
    model, size, name = loaded.network, loaded.input_size, loaded.name
    out = args.out or f"{name}.svg"
    if out != "-":
        writable_file(out, "diagram.svg")
    svg = model_svg(model, size, block=args.block)
    if out == "-":
        sys.stdout.write(svg + "\n")
        return 0
    with atomic_path(out) as tmp:
        tmp.write_text(svg + "\n", encoding="utf-8")
    print(out)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("diagram", help="the architecture as an SVG drawing (stages, blocks, "
                                       "branches, aux heads)")
    add_model_argument(p, positional="MODEL",
                       input_size="shapes at this input size (default: the model's)")
    p.add_argument("--block", help="the block drawn with its branches (default: the first); "
                                   "e.g. inception_4c, mixed7")
    p.add_argument("--out", help="SVG file to write (default: MODEL.svg; '-' for stdout)")
    p.set_defaults(func=_run)
