"""A run folder's files, written so that a kill at any instant loses nothing.

A checkpoint is ONE safetensors file (:func:`googlenet.weights.save_weights`): the weights
of record (the EMA average when EMA is on), the metadata every command reads (recipe,
classes, preprocessing, :class:`~googlenet.weights.TrainingInfo`) and, for ``last``, the
training state under ``training.`` keys (optimizer, EMA, raw weights, RNG, counters,
history, config). One file written atomically (temporary file, fsync, rename) is one
atomic checkpoint. An epoch commits in this order:

1. ``last.safetensors``: the commit point; it also records which step is the best;
2. ``best.safetensors`` when the epoch improved (weights and metadata only);
3. ``metrics.csv``/``metrics.json`` and ``config.json``, derived from ``last``.

A kill before 1 leaves the previous epoch whole; a kill between 1 and 3 leaves files that
:func:`reconcile` rebuilds from ``last`` when the run starts again, so ``best`` always
holds the checkpoint that ``last``, the CLI and the report call best. While a run writes
to a folder it holds a lock on it (:class:`RunLock`), and stale temporary files of a
killed run are removed when the next one starts.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from pathlib import Path
from types import TracebackType
from typing import Any

import torch

from ..atomic import atomic_path
from ..errors import ConfigError, WeightsError
from ..weights import (
    WeightsMeta,
    load_state_dict,
    load_training_state,
    read_meta,
    save_weights,
)

LAST, BEST = "last", "best"
STATE_FORMAT = "googlenet-train-state/2"
_DERIVED = ("metrics.csv", "metrics.json", "config.json")


def checkpoint_path(run_dir: str | os.PathLike[str], stem: str) -> Path:
    """``run_dir/stem.safetensors``."""
    return Path(run_dir) / f"{stem}.safetensors"


class RunLock:
    """An exclusive lock on a run folder, held while a run writes to it.

    ``flock`` on ``.lock``: the kernel drops it when the process dies, even by
    ``kill -9``, so a crashed run never leaves the folder locked. A second run on the
    same folder gets a one-line error naming the folder and the holder's pid.
    """

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.dir = Path(run_dir)
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / ".lock"
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                import fcntl  # a POSIX platform module
            except ImportError:  # no flock (Windows): run unlocked rather than not at all
                self._fd = fd
                return self
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                os.close(fd)
                raise ConfigError(f"{self.dir}: another run (pid {holder}) is writing to "
                                  "this folder; wait for it to finish or choose another "
                                  "--name") from None
            # The holder before us deletes the file as it leaves: a lock on a deleted
            # file locks nothing, so take the one now at the path.
            if _same_file(fd, path):
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            # Deleted while still held, so the folder keeps no .lock once the run ends
            # (even by Ctrl-C); a kill -9 leaves it, and the next run takes it over.
            with contextlib.suppress(OSError):  # a folder gone read-only: the lock stays
                (self.dir / ".lock").unlink(missing_ok=True)
            os.close(self._fd)  # closing releases the flock
            self._fd = None


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def is_temporary(path: Path) -> bool:
    """Whether ``path`` is a temporary file of :func:`atomic_path` (``.<name>.<random>.tmp``)."""
    return path.name.startswith(".") and path.name.endswith(".tmp")


def remove_stale_temporaries(run_dir: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files a killed writer left (``.<name>.<random>.tmp``)."""
    removed = [p for p in Path(run_dir).glob(".*.tmp") if p.is_file()]
    for p in removed:
        p.unlink(missing_ok=True)
    return removed


def clear_run(run_dir: str | os.PathLike[str]) -> None:
    """Remove a previous run's checkpoints and records (``--overwrite``), so nothing of it
    can be mistaken for this run's (a "last good checkpoint" message, a stale best)."""
    d = Path(run_dir)
    for name in (f"{LAST}.safetensors", f"{BEST}.safetensors", *_DERIVED):
        (d / name).unlink(missing_ok=True)


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_records(run_dir: Path, history: list[dict[str, float]],
                  config: dict[str, Any]) -> None:
    """``config.json``, ``metrics.csv`` and ``metrics.json``, each atomically, in that
    order: an up-to-date ``metrics.json`` means the other two are up to date as well
    (:func:`reconcile` relies on it)."""
    _write_text(run_dir / "config.json", json.dumps(config, indent=2) + "\n")
    if history:
        buf = io.StringIO()
        # Epochs without evaluation (eval_every) lack the val_* columns: left empty.
        columns = list(dict.fromkeys(key for row in history for key in row))
        writer = csv.DictWriter(buf, fieldnames=columns)
        writer.writeheader()
        writer.writerows(history)
        _write_text(run_dir / "metrics.csv", buf.getvalue())
        _write_text(run_dir / "metrics.json", json.dumps(history, indent=1))


def commit(run_dir: Path, weights: dict[str, torch.Tensor], meta: WeightsMeta,
           state: dict[str, Any], *, is_best: bool) -> None:
    """Write one epoch's (or one interrupted step's) checkpoint in the order of the
    module docstring."""
    save_weights(checkpoint_path(run_dir, LAST), weights, meta, {"format": STATE_FORMAT,
                                                                 **state})
    if is_best:
        save_weights(checkpoint_path(run_dir, BEST), weights, meta)
    write_records(run_dir, state["history"], state["config"])


def load_last(run_dir: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor],
                                                        WeightsMeta, dict[str, Any]]:
    """Weights, metadata and training state of ``last`` (a damaged file: one line)."""
    path = checkpoint_path(run_dir, LAST)
    if not path.is_file():
        raise WeightsError(f"{path}: no checkpoint to resume from")
    state = load_training_state(path)
    if state.get("format") != STATE_FORMAT:
        raise WeightsError(f"{path}: not a resumable googlenet checkpoint (written by "
                           "another version?)")
    weights, meta = load_state_dict(path)
    if meta.training is None:
        raise WeightsError(f"{path}: checkpoint metadata has no training section")
    return weights, meta, state


def reconcile(run_dir: str | os.PathLike[str]) -> list[str]:
    """Bring ``best`` and the records back in line with ``last`` after a kill between the
    steps of :func:`commit`; returns what was repaired (for the log)."""
    d = Path(run_dir)
    last = checkpoint_path(d, LAST)
    if not last.is_file():
        return []
    weights, meta, state = load_last(d)
    assert meta.training is not None
    repaired = []
    best_step = state.get("best_step")
    best = checkpoint_path(d, BEST)
    if best_step == meta.training.step:
        held = read_meta(best).training if best.is_file() else None
        if held is None or held.step != best_step:
            save_weights(best, weights, meta)
            repaired.append(best.name)
    # metrics.json is written last (write_records): if it holds last's history, the
    # records are complete, and a config.json that differs is the user's own edit.
    metrics = d / "metrics.json"
    current = metrics.read_text(encoding="utf-8") if metrics.is_file() else None
    if state["history"] and current != json.dumps(state["history"], indent=1):
        write_records(d, state["history"], state["config"])
        repaired.append("metrics and config.json")
    return repaired
