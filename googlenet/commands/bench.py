"""``googlenet bench --model MODEL`` (or ``bench MODEL``): every inference path timed side
by side against eager fp32."""

from __future__ import annotations

import argparse
import sys

import torch
from torch import nn

from ..deploy.bench import baseline_for, benchmark, render
from ..deploy.heap import keep_freed_memory
from ..deploy.optimize import PATHS, PathUnavailableError
from ..devices import resolve_device
from ..errors import UsageError
from ..weights.loaded import LoadedModel
from ._common import add_model_argument, loaded_from_args, positive_int, print_json

# The largest batch timed: a fixed bound, said in the error, so that a mistyped size
# (100000000) is refused instead of dying in the allocator.
MAX_BATCH = 1024


def parse_batches(text: str) -> list[int]:
    """``1,32`` -> [1, 32]."""
    try:
        batches = [int(b) for b in text.split(",") if b.strip()]
    except ValueError:
        raise UsageError(f"--batch {text!r}: expected sizes like 1,32") from None
    if not batches or min(batches) < 1:
        raise UsageError(f"--batch {text!r}: sizes must be positive")
    if max(batches) > MAX_BATCH:  # beyond it the allocator, not the path, is measured
        raise UsageError(f"--batch {text!r}: sizes must be <= {MAX_BATCH}")
    return batches


def default_paths() -> list[str]:
    """The paths timed without ``--paths`` or ``--all``: every path but those built by an
    Inductor compile (``PathInfo.compiled``), each a compile of minutes on 2 cores."""
    return [name for name, info in PATHS.items() if not info.compiled]


def _paths(text: str | None, everything: bool = False) -> list[str]:
    if everything:
        return list(PATHS)
    if not text:
        return default_paths()
    paths = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in paths if p not in PATHS]
    if unknown:
        raise PathUnavailableError(f"unknown path {unknown[0]!r}; valid: {', '.join(PATHS)}")
    return paths


def _run(args: argparse.Namespace) -> int:
    keep_freed_memory()  # this command runs inference or training: see deploy/heap.py
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    loaded = loaded_from_args(args, aux_logits=False)
    if args.all and args.paths:
        raise UsageError("--all and --paths: give one (--all times every path)")
    report = benchmark(loaded.network, name=loaded.describe(),
                       paths=_paths(args.paths, args.all),
                       batches=parse_batches(args.batch), input_size=loaded.input_size,
                       device=str(device),
                       rounds=args.rounds, calibration_images=args.calibration_images,
                       trained_weights=not loaded.random,
                       baseline=baseline_reference(args.baseline, loaded))
    if args.json:
        print_json(report.as_dict())
    else:
        print(render(report))
    failed = report.failed()
    for r in failed:
        print(f"googlenet bench: {r.path} at batch {r.batch} is outside its tolerance "
              f"({r.tolerance})", file=sys.stderr)
    if report.reference_problem:
        # Constant outputs are a broken model: a failure. One class for every random
        # image is common in random-init nets: a warning, the logit checks still hold.
        voided = ("no check is meaningful" if report.reference_constant
                  else "top-1 agreement is not checked")
        print(f"googlenet bench: {'error' if report.reference_constant else 'warning'}: "
              f"eager's outputs are degenerate ({report.reference_problem}): {voided}",
              file=sys.stderr)
    return 1 if failed or report.reference_constant else 0


def baseline_reference(name: str, loaded: LoadedModel) -> tuple[str, nn.Module] | None:
    """The second reference (``--baseline``, see :func:`~googlenet.deploy.bench.baseline_for`)
    at ``loaded``'s size, or None; why there is none is said on stderr."""
    reference, note = baseline_for(name, loaded.name, loaded.in_chans, loaded.input_size)
    if note:
        print(f"googlenet bench: {note} (--baseline none hides this)", file=sys.stderr)
    return reference


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("bench", help="inference speed of every path, as ratios to eager fp32")
    add_model_argument(p, positional="MODEL", num_classes=True,
                       input_size="image size (default: the model's)")
    p.add_argument("--batch", default="1,32", help="batch sizes, comma-separated (1,32)")
    p.add_argument("--paths", help=f"comma-separated subset of: {', '.join(PATHS)} (default: "
                                   "all that run here but the Inductor-compiled ones, "
                                   f"{', '.join(p for p in PATHS if PATHS[p].compiled)}, "
                                   "which take minutes to build on 2 cores)")
    p.add_argument("--all", action="store_true",
                   help="time every path, the compiled ones too")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--rounds", type=positive_int, default=5, help="interleaved timing rounds")
    p.add_argument("--threads", type=positive_int, help="torch threads (default: torch's)")
    p.add_argument("--calibration-images", type=positive_int, default=256,
                   help="int8 calibration")
    p.add_argument("--baseline", default="auto",
                   help="a second reference timed eager fp32 in the same rounds on the same "
                        "images: another implementation of the same network, what users "
                        "would otherwise run (default auto: googlenet_bn, torchvision's "
                        "layout, for googlenet and googlenet_bn; none for other models, whose "
                        "x eager column is that comparison); 'none' to leave it out; "
                        "another network is refused")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_run)
