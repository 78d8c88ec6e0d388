"""Where the package keeps files between runs: one cache root, one folder per use.

``~/.cache/googlenet`` (``$XDG_CACHE_HOME`` honoured) holds the downloaded data sets,
one folder each, and the compiled C kernels. Each use asks for its own folder here, so
moving one (say, kernels beside the interpreter) never moves the other.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``~/.cache/googlenet``, or ``$XDG_CACHE_HOME/googlenet`` when that is set."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "googlenet"


def data_cache_dir(name: str) -> Path:
    """Where the data set ``name`` is downloaded to (and looked for last)."""
    return cache_root() / name


def kernels_cache_dir() -> Path:
    """Where the native kernels (:mod:`googlenet.deploy.native`) are compiled to."""
    return cache_root() / "kernels"
