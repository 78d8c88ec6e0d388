"""``googlenet convert SRC DST --from torchvision|keras|caffe|timm [--model NAME]``."""

from __future__ import annotations

import argparse

from ..weights.convert import convert
from ..weights.sources import RELEASES, SOURCES


def _run(args: argparse.Namespace) -> int:
    meta = convert(args.src, args.dst, args.source, args.model)
    pre = meta.preprocessing
    head = f"{len(meta.classes)} classes" if not meta.headless else "no classifier (notop)"
    print(f"{args.dst}: {meta.recipe.describe()} from {args.source} ({head}); input "
          f"{pre.input_size}x{pre.input_size} {pre.channel_order}, pixels 0...{pre.scale:g}, "
          f"mean {list(pre.mean)}, std {list(pre.std)}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    models = "; ".join(f"{r.source}: {r.files[0]} -> {r.model}" for r in RELEASES)
    p = sub.add_parser("convert", help="import pretrained weights into a safetensors file",
                       description=f"Import foreign weights. Known releases: {models}.")
    p.add_argument("src", help="the .pth, .safetensors (timm), .h5 or .caffemodel file")
    p.add_argument("dst", help="the .safetensors file to write")
    p.add_argument("--from", dest="source", required=True, choices=SOURCES)
    p.add_argument("--model", help="target model (default: the one the source fills)")
    p.set_defaults(func=_run)
