"""``googlenet predict IMAGE... --weights W [--topk 5]``: top-k labels with probabilities."""

from __future__ import annotations

import argparse
import sys

from ..deploy import PATHS
from ..predict import Predictor, format_predictions
from ._common import positive_int, print_json


def _run(args: argparse.Namespace) -> int:
    predictor = Predictor.from_file(args.weights, inference_path=args.path)
    results = predictor.predict(args.images, topk=args.topk)
    print(f"inference path: {predictor.inference_path}", file=sys.stderr)
    if args.json:
        print_json([{"image": path, "top": [{"label": label, "probability": prob}
                                            for label, prob in top]}
                    for path, top in zip(args.images, results, strict=True)])
    else:
        print(format_predictions(args.images, results))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("predict", help="classify images with a weights file")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--weights", required=True,
                   help="a .safetensors file from `convert`, `train` or `finetune`")
    p.add_argument("--topk", type=positive_int, default=5, help="labels per image (default 5)")
    p.add_argument("--path", default="auto", choices=("auto", *PATHS),
                   help="inference path (default auto: the fastest within its tolerance "
                        "here without a compile, see `googlenet bench`)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_run)
