"""Writing a benchmark's result file (JSON) whole or not at all: a killed run leaves the
previous result, never half of a new one."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_result(out: str | os.PathLike[str], data: dict[str, Any]) -> Path:
    """Write ``data`` as indented JSON to ``out`` (its folder made if need be) by way of a
    temporary file beside it; returns the path."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
