"""``googlenet diagram MODEL [--block NAME] [--out FILE.svg]``: the architecture as SVG,
drawn from the spec, one block expanded into its branches (no Graphviz needed)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..atomic import atomic_path, writable_file
from ..explain.diagram import model_svg
from ..models import build_model, create_model, get_model_info
from ..weights import read_meta
from ._common import parse_size


def _run(args: argparse.Namespace) -> int:
    if Path(args.model).is_file():  # a weights file: the model it describes
        meta = read_meta(args.model)
        model, size, name = build_model(meta.recipe), meta.preprocessing.input_size, meta.model
    else:
        info = get_model_info(args.model)
        model, size, name = create_model(args.model), info.input_size, args.model
    if args.input_size:
        size = parse_size(args.input_size)[0]
    out = args.out or f"{name}.svg"
    if out != "-":
        writable_file(out, "diagram.svg")
    svg = model_svg(model.eval(), size, block=args.block)
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
    p.add_argument("model", help="a registered model name, or a weights file")
    p.add_argument("--block", help="the block drawn with its branches (default: the first); "
                                   "e.g. inception_4c, mixed7")
    p.add_argument("--out", help="SVG file to write (default: MODEL.svg; '-' for stdout)")
    p.add_argument("--input-size", help="shapes at this input size (default: the model's)")
    p.set_defaults(func=_run)
