"""The ``googlenet`` command line: a thin layer over the library.

Each subcommand lives in ``googlenet/commands/<name>.py`` and exposes ``register``.
Errors the user can fix (:class:`GoogLeNetError`, and bad flags) print one line and exit
with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from . import __version__
from .commands import COMMANDS
from .errors import GoogLeNetError


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error: the usage block it prints by default buries the
    message, and every other input error of the CLI is one line too. Subcommand parsers
    are made of the same class (argparse uses the parent's class for them)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = _Parser(
        prog="googlenet",
        description="GoogLeNet (Inception v1) and its successors: inspect, train, run.",
    )
    parser.add_argument("--version", action="version", version=f"googlenet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMANDS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of ``python -m googlenet``; returns the exit
    status (2 for bad input, which is reported in one line on stderr)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as done:  # --help, --version, or a one-line usage error
        return done.code if isinstance(done.code, int) else 2
    try:
        return int(args.func(args) or 0)
    except GoogLeNetError as err:
        print(f"googlenet {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"googlenet {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
