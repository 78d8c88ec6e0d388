"""Helpers shared by subcommands."""

from __future__ import annotations

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


def print_json(obj: object) -> None:
    json.dump(obj, sys.stdout, indent=2)
    sys.stdout.write("\n")
