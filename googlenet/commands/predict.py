"""``googlenet predict IMAGE_OR_FOLDER... --model M [--topk 5] [--csv FILE]``: top-k labels
with probabilities; folders are searched recursively, unreadable files skipped and counted."""

from __future__ import annotations

import argparse
import sys

from ..atomic import writable_file
from ..deploy import PATHS, needs_calibration
from ..deploy.heap import keep_freed_memory
from ..predict import (
    Predictor,
    collect_images,
    format_predictions,
    nothing_read_error,
    write_csv,
)
from ._common import add_model_argument, loaded_from_args, positive_int, print_json


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    keep_freed_memory()  # this command runs inference or training: see deploy/heap.py
    # Every argument is checked before the model is built: a typo costs no minutes.
    images = collect_images(args.images)
    if args.csv:
        writable_file(args.csv, "predictions.csv")
    if needs_calibration(args.path) and not args.calibration:
        _say(f"{args.path}: no --calibration given; calibrating on the input images")
    elif args.calibration and not needs_calibration(args.path):
        _say(f"--calibration ignored: path {args.path} does not calibrate")
    predictor = Predictor(loaded_from_args(args), inference_path=args.path,
                          calibration=args.calibration)
    if predictor.loaded.random:
        _say(f"{predictor.loaded.name}: random weights (a model name, not a weights file): "
             "the classes below mean nothing")
    result = predictor.predict(images, topk=args.topk)
    if args.calibration:  # calibrating on the inputs, their skips are reported below
        for path, reason in predictor.calibration_skipped:
            _say(f"skipped calibration image {path}: {reason}")
    if not result.images:
        raise nothing_read_error(result)
    for path, reason in result.skipped:
        _say(f"skipped {path}: {reason}")
    if result.skipped:
        _say(f"skipped {len(result.skipped)} of {len(images)} files (unreadable); "
             f"predicted {len(result.images)}")
    _say(f"inference path: {predictor.inference_path}")
    if args.csv:
        _say(f"wrote {write_csv(args.csv, result)} ({len(result.images)} rows)")
    if args.json:
        print_json([{"image": str(path), "top": [{"label": label, "probability": prob}
                                                 for label, prob in top]}
                    for path, top in zip(result.images, result.top, strict=True)])
    elif not args.csv:
        print(format_predictions(result.images, result.top))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("predict", help="classify images (files or folders) with a model")
    p.add_argument("images", nargs="+", metavar="IMAGE_OR_FOLDER",
                   help="image files, and folders to search recursively for images")
    add_model_argument(p)
    p.add_argument("--topk", type=positive_int, default=5, help="labels per image (default 5)")
    p.add_argument("--path", default="auto", choices=("auto", *PATHS),
                   help="inference path (default auto: the shortest time per batch at the "
                        "first batch's size, within tolerance, among the paths that build "
                        "without a compile; onnxruntime (an ONNX export: seconds) only when "
                        "more than one batch is to run. BENCHMARKS.md has the measurements; "
                        "`googlenet bench` measures your model)")
    p.add_argument("--calibration", action="append", metavar="DIR_OR_FILE",
                   help="images for int8 calibration (repeatable; default: the input "
                        "images themselves)")
    p.add_argument("--csv", metavar="FILE",
                   help="write one row per image (image,label_1,prob_1,...) to FILE "
                        "instead of the text report")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_run)
