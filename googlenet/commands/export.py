"""``googlenet export --model MODEL --format onnx|pt2``: the inference graph as a file."""

from __future__ import annotations

import argparse

import torch

from ..atomic import writable_file
from ..deploy.export import (
    EXPORT_STAGES,
    check_onnx,
    check_program,
    export_onnx,
    export_program,
)
from ..errors import OutputError
from ..progress import StageProgress
from ._common import add_model_argument, bounded_int, loaded_from_args, print_json

# The example batch is traced once; the check runs a second batch of the same size.
MAX_BATCH = 256


def _run(args: argparse.Namespace) -> int:
    suffix = writable_file(args.out, f"model.{args.format}").suffix.lower()
    if suffix != f".{args.format}":
        raise OutputError(f"--out {args.out}: a {args.format} file must end in "
                          f".{args.format} (or give --format {suffix.lstrip('.') or '...'})")
    loaded = loaded_from_args(args, aux_logits=False)
    model, size, meta = loaded.network, loaded.input_size, loaded.meta
    example = torch.randn(args.batch, loaded.in_chans, size, size)
    fuse = not args.no_fuse
    # The file carries what a user of the graph needs: classes and preprocessing.
    metadata = meta.replace(training=None).to_metadata() if meta else None
    # Tracing a big network takes minutes on 2 cores: name the step that runs (on a TTY).
    with StageProgress(len(EXPORT_STAGES) + 1, f"export {args.format}") as bar:
        if args.format == "onnx":
            path = export_onnx(model, args.out, example, fuse=fuse, metadata=metadata,
                               progress=bar)
            bar.stage("checking")
            diff = check_onnx(model, path, torch.randn_like(example))
            check = f"onnxruntime vs eager: max |logit diff| {diff:.2e}"
        else:
            path = export_program(model, args.out, example, fuse=fuse, metadata=metadata,
                                  progress=bar)
            bar.stage("checking")
            diff = check_program(model, path, torch.randn_like(example))
            check = f"reloaded program vs eager: max |logit diff| {diff:.2e}"
    if args.json:
        print_json({"model": loaded.describe(),
                    "format": args.format, "path": str(path),
                    "input_size": size, "fused": fuse, "max_abs_diff": diff})
    else:
        print(f"wrote {path} ({args.format}, {size}x{size}, dynamic batch, logits only); {check}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("export", help="export the inference graph (aux heads removed)")
    add_model_argument(p, positional="MODEL", num_classes=True,
                       input_size="image size (default: the model's)")
    p.add_argument("--format", choices=("onnx", "pt2"), default="onnx")
    p.add_argument("--out", required=True, help="output file (.onnx or .pt2)")
    p.add_argument("--batch", type=bounded_int(MAX_BATCH), default=1,
                   help=f"example batch size to trace with (1..{MAX_BATCH}; the exported "
                        "graph takes any batch size)")
    p.add_argument("--no-fuse", action="store_true",
                   help="export the model as built, without BN folding and branch merging")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_run)
