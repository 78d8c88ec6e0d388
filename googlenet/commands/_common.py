"""Helpers shared by subcommands."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import torch

from ..data.samples import write_sample_png
from ..errors import InputSizeError, UsageError
from ..recipe import MAX_INPUT_SIZE
from ..weights.loaded import LoadedModel, is_registry_name, resolve_model


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


MODEL_HELP = ("a weights release (googlenet_bn.tv_in1k, googlenet.bvlc...: `googlenet "
              "weights list`), a .safetensors weights file from convert, train or finetune, "
              "or a registered model name (random weights: `googlenet list`)")


def add_model_argument(p: argparse.ArgumentParser, *, positional: str | None = None,
                       many: bool = False, input_size: str | None = None,
                       num_classes: bool = False) -> None:
    """The model a command runs, spelled the same way by every command:
    ``--model MODEL`` (:data:`MODEL_HELP`), read by :func:`loaded_from_args`.

    Older spellings stay as aliases: ``--weights FILE`` everywhere, and ``positional``
    (its metavar) where a command took its model as a positional argument (bench, export,
    diagram, summary: MODEL; eval: CHECKPOINT). ``many``: several models (an ensemble).
    ``input_size``: the help of an ``--input-size N`` option, if the command has one.
    ``num_classes``: ``--num-classes N`` for a fresh model's classifier.
    """
    ensemble = "; repeat it for an ensemble" if many else ""
    if positional:
        p.add_argument("model_positional", nargs="*" if many else "?", metavar=positional,
                       help=f"the model{'s' if many else ''}, as --model takes it "
                            "(an alias of --model)")
    p.add_argument("--model", action="append", dest="model_flag", metavar="MODEL",
                   help=MODEL_HELP + ensemble)
    p.add_argument("--weights", action="append", dest="weights_flag", metavar="FILE",
                   help="an alias of --model (its older spelling, for weights files)")
    if input_size is not None:
        p.add_argument("--input-size", help=input_size)
    if num_classes:
        p.add_argument("--num-classes", type=int,
                       help="classifier width of a fresh model (default: the model's)")


def model_sources(args: argparse.Namespace) -> list[str]:
    """Every model the command line names, by any spelling of
    :func:`add_model_argument`, in the order: positional, ``--model``, ``--weights``."""
    positional = getattr(args, "model_positional", None) or []
    given = positional if isinstance(positional, list) else [positional]
    return [*given, *(args.model_flag or []), *(args.weights_flag or [])]


def loaded_from_args(args: argparse.Namespace, *, aux_logits: bool = True,
                     with_weights: bool = True) -> LoadedModel:
    """The one model the command line names, loaded
    (:func:`~googlenet.weights.loaded.resolve_model`), at ``--input-size`` if given.

    A registry name and a weights file together (``bench googlenet --weights g.safetensors``,
    the older spelling) mean that file, which must hold that model.
    """
    sources = model_sources(args)
    if not sources:
        raise UsageError("no model given: name one with --model (a registered name, a "
                         "release name or a weights file)")
    names = [s for s in sources if is_registry_name(s)]
    expect = None
    if len(sources) == 2 and len(names) == 1:
        expect = names[0]
        sources = [s for s in sources if s != expect]
    if len(sources) > 1:
        raise UsageError(f"{sources[0]} and {sources[1]}: give one model (--model)")
    num_classes = getattr(args, "num_classes", None)
    loaded = resolve_model(sources[0], expect=expect, aux_logits=aux_logits,
                           num_classes=num_classes or None, with_weights=with_weights)
    return loaded.at_input_size(input_size_from_args(args))


def loaded_all_from_args(args: argparse.Namespace,
                         device: torch.device | None = None) -> list[LoadedModel]:
    """Every model the command line names (an ensemble), loaded on ``device``."""
    sources = model_sources(args)
    if not sources:
        raise UsageError("no model given: name one or more with --model (registered "
                         "names, release names or weights files)")
    return [resolve_model(s, device=device) for s in sources]


def input_size_from_args(args: argparse.Namespace) -> int | None:
    """``--input-size N`` (None without it)."""
    text = getattr(args, "input_size", None)
    if not text:
        return None
    size = parse_size(text)[0]
    if size > MAX_INPUT_SIZE:  # every image would be resized to gigabytes
        raise InputSizeError(f"--input-size {size}: at most {MAX_INPUT_SIZE}")
    return size


def add_sample_arguments(p: argparse.ArgumentParser) -> None:
    """``--dataset NAME --index N`` (with ``--data ROOT`` and ``--split``, as ``train``
    and ``eval`` name data sets): a data set's sample instead of an image file."""
    p.add_argument("--dataset", help="take the image from this data set (mnist, "
                                     "fashion-mnist, cifar10, folder, synthetic...); "
                                     "with --index")
    p.add_argument("--index", type=int, help="which image of --dataset (from 0); written "
                                             "as a PNG into the output folder")
    p.add_argument("--data", help="the data set's root / folder (default: search)")
    p.add_argument("--split", default="test", help="the data set's split (default: test)")


def sample_from_args(args: argparse.Namespace, folder: str | Path) -> Path | None:
    """The PNG of ``--dataset``'s ``--index``-th image, written into ``folder``, or None
    when neither flag is given; one without the other is a usage error."""
    if args.dataset is None and args.index is None:
        return None
    if args.dataset is None or args.index is None:
        given, missing = ("--index", "--dataset") if args.dataset is None \
            else ("--dataset", "--index")
        raise UsageError(f"{given} needs {missing} too: --dataset NAME --index N names "
                         "one image of a data set")
    path, label = write_sample_png(args.dataset, args.index, folder, args.split, args.data)
    print(f"{args.dataset} {args.split} image {args.index} (class {label}): {path}",
          file=sys.stderr)
    return path
