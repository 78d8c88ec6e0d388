"""Where the package keeps files between runs: one cache root, one folder per use.

``~/.cache/googlenet`` (``$GOOGLENET_HOME`` or ``$XDG_CACHE_HOME`` move it) holds the
downloaded data sets, one folder each, and the weights releases (``weights/``). Each use
asks for its own folder here, so moving one never moves the other.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """Where googlenet keeps what it downloads: ``$GOOGLENET_HOME``, else
    ``$XDG_CACHE_HOME/googlenet``, else ``~/.cache/googlenet``."""
    if os.environ.get("GOOGLENET_HOME"):
        return Path(os.environ["GOOGLENET_HOME"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "googlenet"


def data_cache_dir(name: str) -> Path:
    """Where the data set ``name`` is downloaded to (and looked for last)."""
    return cache_root() / name


def weights_cache_dir() -> Path:
    """Where the weights releases (:mod:`googlenet.weights.hub`) are cached, converted."""
    return cache_root() / "weights"
