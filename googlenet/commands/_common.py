"""Helpers shared by subcommands."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import InputSizeError


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


def print_json(obj: object) -> None:
    """Write ``obj`` to stdout as indented JSON."""
    json.dump(obj, sys.stdout, indent=2)
    sys.stdout.write("\n")
