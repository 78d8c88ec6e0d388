"""The ``googlenet`` command line: a thin layer over the library.

Each subcommand lives in ``googlenet/commands/<name>.py`` and exposes ``register``.
Errors the user can fix (:class:`GoogLeNetError`) print one line and exit with status 2.
Output piped into a reader that stops early (``googlenet summary googlenet | head -3``)
ends the command quietly.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import __version__
from .commands import COMMANDS
from .errors import GoogLeNetError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="googlenet",
        description="GoogLeNet (Inception v1) and its successors: inspect, train, run.",
    )
    parser.add_argument("--version", action="version", version=f"googlenet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMANDS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of ``python -m googlenet``."""
    args = build_parser().parse_args(argv)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # here, so that a closed pipe is caught below
        return code
    except BrokenPipeError:
        # The reader (e.g. `head`) has gone: nothing more to say, and the interpreter's
        # own flush at exit must not fail again, so stdout now points at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13  # what a shell reports for a process ended by SIGPIPE
    except GoogLeNetError as err:
        print(f"googlenet {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"googlenet {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
