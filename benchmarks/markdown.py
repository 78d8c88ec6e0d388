"""Writing a benchmark's table into BENCHMARKS.md between its markers, so that a rerun of
the script replaces its own section and nothing else."""

from __future__ import annotations

import re
from pathlib import Path


def markers(name: str) -> tuple[str, str]:
    """The start and end lines of the section called ``name``."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def write_between(path: Path, name: str, table: str, command: str) -> None:
    """Replace what is between ``name``'s markers in ``path`` with ``command`` (as a shell
    block) and ``table``; a file without the markers is a one-line error."""
    start, end = markers(name)
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path}: no {start} ... {end} markers to write between")
    body = f"{start}\n```sh\n{command}\n```\n\n{table}{end}"
    path.write_text(pattern.sub(lambda _: body, text), encoding="utf-8")
