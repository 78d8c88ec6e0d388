"""``googlenet bench MODEL``: every inference path timed side by side against eager fp32."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch import nn

from ..deploy.bench import benchmark, render
from ..deploy.optimize import PATHS, PathUnavailableError
from ..devices import resolve_device
from ..errors import InputSizeError, WeightsError
from ..models import create_model, get_model_info
from ._common import parse_size, positive_int, print_json


def load_weights(model: nn.Module, path: str | Path) -> None:
    """Load a safetensors state dict into ``model`` (aux-head keys may be absent)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such weights file")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as err:
        raise WeightsError(f"{path}: not a safetensors file ({err})") from None
    missing, unexpected = model.load_state_dict(state, strict=False)
    aux = tuple(getattr(model, "aux_after", {}))
    missing = [k for k in missing if not k.startswith(aux)] if aux else missing
    if missing or unexpected:
        bad = (missing or unexpected)[0]
        what = "misses" if missing else "has an unexpected"
        raise WeightsError(f"{path}: {what} key {bad!r} for this model")


def build_model(args: argparse.Namespace) -> tuple[nn.Module, int]:
    """The model named on the command line, with ``--weights`` loaded, and its input size."""
    info = get_model_info(args.model)
    size = parse_size(args.input_size)[0] if args.input_size else info.input_size
    kwargs = {"num_classes": args.num_classes} if args.num_classes else {}
    model = create_model(args.model, aux_logits=False, **kwargs)
    if args.weights:
        load_weights(model, args.weights)
    return model.eval(), size


def parse_batches(text: str) -> list[int]:
    """``1,32`` -> [1, 32]."""
    try:
        batches = [int(b) for b in text.split(",") if b.strip()]
    except ValueError:
        raise InputSizeError(f"--batch {text!r}: expected sizes like 1,32") from None
    if not batches or min(batches) < 1:
        raise InputSizeError(f"--batch {text!r}: sizes must be positive")
    return batches


def _paths(text: str | None) -> list[str]:
    if not text:
        return list(PATHS)
    paths = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in paths if p not in PATHS]
    if unknown:
        raise PathUnavailableError(f"unknown path {unknown[0]!r}; valid: {', '.join(PATHS)}")
    return paths


def _run(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    model, size = build_model(args)
    report = benchmark(model, name=args.model, paths=_paths(args.paths),
                       batches=parse_batches(args.batch), input_size=size,
                       device=str(device),
                       rounds=args.rounds, calibration_images=args.calibration_images,
                       trained_weights=bool(args.weights))
    if args.json:
        print_json(report.as_dict())
    else:
        print(render(report))
    return 0


def add_model_args(p: argparse.ArgumentParser) -> None:
    """Arguments shared by ``bench`` and ``export``."""
    p.add_argument("model")
    p.add_argument("--input-size", help="image size (default: the model's)")
    p.add_argument("--weights", help="safetensors state dict to load (default: random init)")
    p.add_argument("--num-classes", type=int, help="classifier width of --weights")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("bench", help="inference speed of every path, as ratios to eager fp32")
    add_model_args(p)
    p.add_argument("--batch", default="1,32", help="batch sizes, comma-separated (1,32)")
    p.add_argument("--paths", help=f"comma-separated subset of: {', '.join(PATHS)} (default: "
                                   "all that run here; compiled ones take minutes on 2 cores)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--rounds", type=positive_int, default=5, help="interleaved timing rounds")
    p.add_argument("--threads", type=positive_int, help="torch threads (default: torch's)")
    p.add_argument("--calibration-images", type=positive_int, default=256,
                   help="int8 calibration")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_run)
