"""Atomic file replacement, shared by every writer in the package: weights, exports,
reports, checkpoints and pages (a crash leaves the old file whole)."""

from __future__ import annotations

import glob
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
    leaves ``.<name>.<pid>-<random>.tmp<suffix>``: the next write of the same file
    removes it once process ``pid`` is gone (:func:`remove_stale`), and run folders
    clean up all of theirs on their next start. ``suffix`` is for writers that insist on
    an extension (``.onnx``, ``.pt2``).
    """
    final = writable_file(path)
    remove_stale(final, suffix)
    fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.{os.getpid()}-",
                                    suffix=".tmp" + suffix)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, _default_mode())
        os.replace(tmp, final)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        if err.filename is not None:
            raise
        # A write that fails on a full disk does not say which file it was writing.
        raise OSError(err.errno, err.strerror or str(err), str(final)) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # exists, but belongs to someone else
        return True
    return True


def remove_stale(path: str | os.PathLike[str], suffix: str = "") -> list[Path]:
    """Delete the temporary files of :func:`atomic_path` for ``path`` whose writer has
    died (killed mid-write); files of a writer still running are left alone. Returns what
    was removed."""
    final = Path(path)
    removed = []
    for tmp in final.parent.glob(f".{glob.escape(final.name)}.*-*.tmp{glob.escape(suffix)}"):
        pid = tmp.name[len(final.name) + 2:].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)) and tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


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
