"""Atomic file replacement, shared by every writer in the package: weights, exports,
reports, checkpoints, pages and kernels (a crash leaves the old file whole)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from googlenet.errors import OutputError


def _default_mode() -> int:
    # mkstemp creates files 0600; give the final file the mode open() would have given it.
    # os.umask can only be read by setting it, so set it back at once.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it over ``path`` atomically,
    with the permissions a plain ``open`` would have given it.

    A crash or an exception while writing never leaves a half-written file under the final
    name (the temporary file is removed), so an existing good file survives. A kill -9
    leaves ``.<name>.<random>.tmp<suffix>``, which run folders clean up on their next
    start. ``suffix`` is for writers that insist on an extension (``.onnx``, ``.pt2``).
    """
    final = writable_file(path)
    fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.",
                                    suffix=".tmp" + suffix)
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


def writable_file(path: str | os.PathLike[str], example: str = "") -> Path:
    """``path`` if a file can be written there, checked before the work that produces
    it (minutes of tracing or predicting): a directory in the way, a missing folder or
    one without write permission is a one-line :class:`OutputError` naming it.
    ``example`` is a file name to suggest in place of a directory."""
    path = Path(path)
    if path.is_dir():
        hint = f" (e.g. {example})" if example else ""
        raise OutputError(f"{path}: is a directory; give a file name{hint}")
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(f"{path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: folder {folder} is not writable")
    return path
