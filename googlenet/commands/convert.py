"""``googlenet convert SRC DST --from torchvision|keras|caffe [--model NAME]``."""

from __future__ import annotations

import argparse

from ..weights.convert import MODELS_BY_SOURCE, SOURCES, convert


def _run(args: argparse.Namespace) -> int:
    meta = convert(args.src, args.dst, args.source, args.model)
    pre = meta.preprocessing
    print(f"{args.dst}: {meta.model} from {args.source} ({len(meta.classes)} classes); "
          f"input {pre.input_size}x{pre.input_size} {pre.channel_order}, pixels 0..."
          f"{pre.scale:g}, mean {list(pre.mean)}, std {list(pre.std)}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    models = "; ".join(f"{s}: {', '.join(m)}" for s, m in MODELS_BY_SOURCE.items())
    p = sub.add_parser("convert", help="import pretrained weights into a safetensors file",
                       description=f"Import foreign weights. Models by source: {models}.")
    p.add_argument("src", help="the .pth, .h5 or .caffemodel file")
    p.add_argument("dst", help="the .safetensors file to write")
    p.add_argument("--from", dest="source", required=True, choices=SOURCES)
    p.add_argument("--model", help="target model (default: the only one the source fills)")
    p.set_defaults(func=_run)
