"""``googlenet explain IMAGE... --model M [--out DIR]``: one self-contained HTML page of
what the network does with each image (see :mod:`googlenet.explain.page`)."""

from __future__ import annotations

import argparse

from ..errors import UsageError
from ..explain.html import write_explain_page
from ..explain.page import ExplainOptions
from ._common import add_model_argument, add_sample_arguments, loaded_from_args, sample_from_args


def _run(args: argparse.Namespace) -> int:
    options = ExplainOptions(topk=args.topk, layers=tuple(args.layer or ()), maps=args.maps,
                             ig_steps=args.ig_steps)
    subject = loaded_from_args(args)  # before the sample is written: a bad model, no file
    sample = sample_from_args(args, args.out)
    if (sample is None) == (not args.images):
        raise UsageError("give image files or folders, or --dataset NAME --index N")
    images = [sample] if sample is not None else args.images
    page = write_explain_page(subject, images, args.out, options)
    print(page)  # once, on stdout: what a script or a terminal reads
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "explain", help="an HTML page of what the network sees: Grad-CAM, integrated "
                        "gradients, every block's branches and their feature maps",
        description="Explain images with a weights file (any: converted, trained, "
                    "fine-tuned), a release name, or a registry model's random weights "
                    "(the page says so).")
    p.add_argument("images", nargs="*", metavar="IMAGE_OR_FOLDER",
                   help="image files, and folders to search recursively for images (or "
                        "--dataset NAME --index N)")
    add_sample_arguments(p)
    add_model_argument(p, input_size="run at this size (default: the model's)")
    p.add_argument("--out", default="explain", help="folder for explain.html (default: "
                                                    "./explain)")
    p.add_argument("--layer", action="append", metavar="FEATURE",
                   help="also Grad-CAM at this feature: a block (inception_4c), a branch "
                        "(inception_4c.branch_5x5) or a stem layer; repeatable")
    p.add_argument("--topk", type=int, default=5, help="classes listed per image (default 5)")
    p.add_argument("--maps", type=int, default=8,
                   help="strongest channels shown per branch (default 8)")
    p.add_argument("--ig-steps", type=int, default=16,
                   help="integrated-gradient samples along the path (default 16)")
    p.set_defaults(func=_run)
