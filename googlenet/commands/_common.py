"""Helpers shared by subcommands."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from torch import nn

from ..errors import InputSizeError, WeightsError
from ..models import create_model, get_model_info
from ..recipe import MAX_INPUT_SIZE
from ..weights import WeightsMeta, load_model
from ..weights.hub import resolve_weights


def parse_size(text: str) -> tuple[int, ...]:
    """``224`` -> (224,), ``28x28x192`` -> (28, 28, 192)."""
    try:
        parts = tuple(int(p) for p in text.lower().split("x"))
    except ValueError:
        raise InputSizeError(f"cannot read size {text!r}: expected numbers joined by 'x'") from None
    if not parts or any(p <= 0 for p in parts):
        raise InputSizeError(f"size {text!r} must be positive")
    return parts


def positive_int(text: str) -> int:
    """argparse ``type`` for counts and sizes that must be >= 1 (``--limit``, ``--topk``):
    argparse reports the flag with the message, in one line."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def bounded_int(most: int) -> Callable[[str], int]:
    """argparse ``type`` for a count of 1..``most`` (a batch, a worker count): a value
    that would exhaust the machine is refused in one line that says the bound."""
    def parse(text: str) -> int:
        value = positive_int(text)
        if value > most:
            raise argparse.ArgumentTypeError(f"must be <= {most}, got {value}")
        return value

    return parse


def print_json(obj: object) -> None:
    """Write ``obj`` to stdout as indented JSON."""
    json.dump(obj, sys.stdout, indent=2)
    sys.stdout.write("\n")


def add_model_args(p: argparse.ArgumentParser) -> None:
    """A model to run: a registry name (fresh weights), or any weights file."""
    p.add_argument("model", nargs="?",
                   help="registered model name (optional with --weights: the file says)")
    p.add_argument("--weights", help="a weights release (googlenet_bn.tv_in1k...: `googlenet "
                                     "weights list`) or any googlenet .safetensors file: "
                                     "from convert, train or finetune (default: random "
                                     "init)")
    p.add_argument("--input-size", help="image size (default: the weights' or the model's)")
    p.add_argument("--num-classes", type=int,
                   help="classifier width of a fresh model (default: the model's)")


def model_from_args(args: argparse.Namespace) -> tuple[nn.Module, int, WeightsMeta | None]:
    """The model ``add_model_args`` names (eval mode, no aux heads), its input size and,
    for a weights file, its metadata."""
    meta = None
    if args.weights:
        model, meta = load_model(resolve_weights(args.weights))
        if args.model and args.model != meta.model:
            raise WeightsError(f"{args.weights}: holds {meta.recipe.describe()}, not "
                               f"{args.model} weights")
        size = meta.preprocessing.input_size
    elif args.model:
        kwargs = {"num_classes": args.num_classes} if args.num_classes else {}
        model = create_model(args.model, aux_logits=False, **kwargs)
        size = get_model_info(args.model).input_size
    else:
        raise InputSizeError("give a model name or --weights RELEASE_OR_FILE")
    if args.input_size:
        size = parse_size(args.input_size)[0]
        if size > MAX_INPUT_SIZE:  # every image would be resized to gigabytes
            raise InputSizeError(f"--input-size {size}: at most {MAX_INPUT_SIZE}")
    return model.eval(), size, meta
