"""Atomic file replacement shared by the weight writers."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import OutputPathError


def _default_mode() -> int:
    # mkstemp creates files 0600; give the final file the mode open() would have given it.
    # os.umask can only be read by setting it, so set it back at once.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def check_output_file(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path if a file can be written there; else :class:`OutputPathError`
    naming it: a missing folder or a directory in the way would otherwise surface as a raw
    FileNotFoundError / IsADirectoryError, after all the work that produced the file."""
    final = Path(path)
    if final.is_dir():
        raise OutputPathError(f"{final}: is a directory; give a file name to write")
    if not final.parent.is_dir():
        raise OutputPathError(f"{final}: folder {final.parent} does not exist")
    return final


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it over ``path`` atomically.

    A crash or an exception while writing never leaves a half-written file under the final
    name (the temporary file is removed), so an existing good file survives.
    """
    final = check_output_file(path)
    fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, _default_mode())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
