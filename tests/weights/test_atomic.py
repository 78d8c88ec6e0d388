"""The atomic file replacement used by the weight writers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from googlenet.atomic import atomic_path


def test_replaces_with_normal_mode(tmp_path: Path) -> None:
    target = tmp_path / "w.bin"
    target.write_bytes(b"old")
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        tmp.write_bytes(b"new")
        assert target.read_bytes() == b"old"  # untouched until the block succeeds
    assert target.read_bytes() == b"new"
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.bin"]


def test_failure_keeps_old_file_and_removes_temp(tmp_path: Path) -> None:
    target = tmp_path / "w.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.bin"]


def test_a_killed_writers_temporary_file_is_removed_by_the_next_write(tmp_path: Path) -> None:
    """A writer killed inside atomic_path (kill -9 during convert or export) leaves its
    temporary file; the next write of the same file removes it, and leaves the temporary
    file of a writer that is still running alone."""
    import signal
    import subprocess
    import sys

    target = tmp_path / "model.onnx"
    code = ("import sys, time\nfrom googlenet.atomic import atomic_path\n"
            "with atomic_path(sys.argv[1], suffix='.onnx') as tmp:\n"
            "    tmp.write_bytes(b'half'); print(tmp, flush=True); time.sleep(60)\n")
    writer = subprocess.Popen([sys.executable, "-c", code, str(target)],
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    left = Path(writer.stdout.readline().strip())
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert left.is_file() and left.name.startswith(".model.onnx.")
    running = tmp_path / f".model.onnx.{os.getpid()}-abc.tmp.onnx"  # this process: alive
    running.write_bytes(b"")
    with atomic_path(target, suffix=".onnx") as tmp:
        tmp.write_bytes(b"whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["model.onnx", running.name])
    assert target.read_bytes() == b"whole"
