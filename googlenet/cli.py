"""The ``googlenet`` command line: a thin layer over the library.

Each subcommand lives in ``googlenet/commands/<name>.py`` and exposes ``register``.
Errors the user can fix (:class:`GoogLeNetError`, and bad flags) and errors of the
environment (an ``OSError``: a full disk, a read-only folder) print one line and exit
with status 2. Output piped into a reader that stops early (``googlenet summary googlenet
| head -3``) ends the command quietly.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn

from . import __version__
from .commands import COMMANDS
from .errors import GoogLeNetError
from .weights.hub import OFFLINE_ENV


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error: the usage block it prints by default buries the
    message, and every other input error of the CLI is one line too. Subcommand parsers
    are made of the same class (argparse uses the parent's class for them)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# Deprecation notices from libraries the commands call, about their own internals: the
# user can do nothing about them and they drown the output. Each is matched by message and
# by the module that issues it, so our own warnings and anything new still show.
KNOWN_WARNINGS: tuple[tuple[str, type[Warning], str], ...] = (
    (r"`isinstance\(treespec, LeafSpec\)` is deprecated", FutureWarning, r"(torch|copyreg)"),
    (r"`torch\.jit\.script_method` is deprecated", DeprecationWarning, r"torch\.jit"),
    (r"The input of maxpool2d is not quantized", UserWarning, r"torchao"),
    (r"__array__ implementation doesn't accept a copy keyword", DeprecationWarning, r"keras"),
)


def quiet_known_warnings() -> None:
    """Ignore :data:`KNOWN_WARNINGS` (third-party deprecations) for the rest of the process."""
    for message, category, module in KNOWN_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)


def os_error_line(err: OSError) -> str:
    """An operating-system error as one line naming the path: ``runs/x/last.safetensors:
    No space left on device``. Nothing half-written is left behind: every file is
    written through a temporary one (``googlenet.atomic``)."""
    what = err.strerror or str(err) or type(err).__name__
    names = [str(n) for n in (err.filename, err.filename2) if n is not None]
    return f"{' -> '.join(names)}: {what}" if names else what


def build_parser() -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = _Parser(
        prog="googlenet",
        description="GoogLeNet (Inception v1) and its successors: inspect, train, run.",
    )
    parser.add_argument("--version", action="version", version=f"googlenet {__version__}")
    parser.add_argument("--offline", action="store_true", dest="global_offline",
                        help="never download weights (as $GOOGLENET_OFFLINE=1): a release "
                             "name must already be cached")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMANDS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of ``python -m googlenet``; returns the exit
    status (2 for bad input, which is reported in one line on stderr)."""
    quiet_known_warnings()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as done:  # --help, --version, or a one-line usage error
        return done.code if isinstance(done.code, int) else 2
    if args.global_offline:  # read where weights are resolved (googlenet.weights.hub)
        os.environ[OFFLINE_ENV] = "1"
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
    except OSError as err:  # the environment: a full disk, a read-only folder, a permission
        print(f"googlenet {args.command}: error: {os_error_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"googlenet {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
