"""kill -9 at any instant loses nothing: the resumed run ends bit-exact, best is right.

Each case runs a tiny training run (fault_harness.py) in a subprocess, SIGKILLs it at one
file write (just before or just after an atomic rename: between the files of one
checkpoint, right after ``last`` is written, in the middle of the records), then resumes
it to the end, as a user would. The final weights must equal an uninterrupted run's
(``torch.equal``), ``best.safetensors`` must hold the best the run reports, and no
temporary file may survive.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from googlenet.weights import load_state_dict, read_meta

HARNESS = Path(__file__).with_name("fault_harness.py")
ROOT = Path(__file__).resolve().parents[2]
TIMING = ("time", "wall", "images_per_s")  # wall-clock figures differ between runs


def _harness(parent: Path, kill: str, kind: str = "train") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, str(HARNESS), str(parent), kill, kind], env=env,
                          capture_output=True, text=True, timeout=300)


def _metrics(row: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in row.items() if k not in TIMING}


def _finish(parent: Path, kind: str = "train") -> dict[str, float]:
    """Resume until the run completes; returns the best row it reports."""
    for _ in range(3):
        proc = _harness(parent, "none", kind)
        if proc.returncode == 0:
            return json.loads(proc.stdout.strip().splitlines()[-1])
        assert proc.returncode != 2, proc.stderr[-2000:]
    raise AssertionError(f"run did not complete: {proc.stderr[-2000:]}")


def _reference(parent: Path, kind: str) -> dict[str, object]:
    best = _finish(parent, kind)
    run = parent / "run"
    return {"best": best, "last": load_state_dict(run / "last.safetensors")[0],
            "best_weights": load_state_dict(run / "best.safetensors")[0],
            "history": json.loads((run / "metrics.json").read_text())}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return _reference(tmp_path_factory.mktemp("reference"), "train")


@pytest.fixture(scope="module")
def finetune_reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return _reference(tmp_path_factory.mktemp("finetune"), "finetune")


def _check(parent: Path, best: dict[str, float], reference: dict[str, object]) -> None:
    run = parent / "run"
    last = load_state_dict(run / "last.safetensors")[0]
    want = reference["last"]
    assert isinstance(want, dict) and last.keys() == want.keys()
    assert all(torch.equal(last[k], want[k]) for k in want)
    # best: the file holds the checkpoint the run reports as best, and it is the
    # uninterrupted run's best.
    ref_best = reference["best"]
    assert isinstance(ref_best, dict) and _metrics(best) == _metrics(ref_best)
    info = read_meta(run / "best.safetensors").training
    assert info is not None and _metrics(info.metrics) == _metrics(best)
    best_weights, ref_weights = load_state_dict(run / "best.safetensors")[0], \
        reference["best_weights"]
    assert isinstance(ref_weights, dict)
    assert all(torch.equal(best_weights[k], ref_weights[k]) for k in ref_weights)
    history = json.loads((run / "metrics.json").read_text())
    ref_history = reference["history"]
    assert isinstance(ref_history, list)
    assert [_metrics(r) for r in history] == [_metrics(r) for r in ref_history]
    assert not [p.name for p in run.iterdir() if p.name.endswith(".tmp")]


# Renames of a 3-epoch run: 1 config.json at the start; per epoch last, best (when it
# improved), config.json, metrics.csv, metrics.json. The first epoch always improves, so
# 2 = last of epoch 1, 3 = its best, 4-6 its records, 7 = last of epoch 2.
# The default suite kills at two points (7-9 s each on 2 cores); the slow suite at every
# other one, such as "before:3" (best written to its temporary file, not renamed) and
# "after:4" (best done, records stale).
FAST = ["after:2",    # right after last, before best: best must be rebuilt from last
        "before:7"]   # epoch 2's last not committed: epoch 2 runs again
SLOW = [f"{when}:{n}" for n in range(1, 17) for when in ("before", "after")
        if f"{when}:{n}" not in FAST]


def _kill_then_resume(tmp_path: Path, kill: str, reference: dict[str, object]) -> None:
    proc = _harness(tmp_path, kill)
    killed = proc.returncode == -signal.SIGKILL
    assert killed or proc.returncode == 0, proc.stderr[-2000:]  # late points: no kill
    _check(tmp_path, _finish(tmp_path), reference)


@pytest.mark.parametrize("kill", FAST)
def test_kill_at_a_file_write_then_resume_is_exact(tmp_path, kill, reference):
    _kill_then_resume(tmp_path, kill, reference)


@pytest.mark.slow
@pytest.mark.parametrize("kill", SLOW)
def test_kill_at_every_file_write_then_resume_is_exact(tmp_path, kill, reference):
    _kill_then_resume(tmp_path, kill, reference)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [2.5, 3.5, 4.5])
def test_kill_at_a_random_instant_then_resume_is_exact(tmp_path, delay, reference):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, str(HARNESS), str(tmp_path), "none"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _check(tmp_path, _finish(tmp_path), reference)


# A fine-tuning run of 2 + 1 epochs commits at renames 2 (epoch 1), 7 (epoch 2) and 12
# (epoch 3, the first of the unfreeze phase); renames counted as above.
@pytest.mark.parametrize("kill", ["after:7", "before:12"])
def test_a_killed_finetune_resumes_exactly_in_either_phase(tmp_path, kill,
                                                           finetune_reference):
    proc = _harness(tmp_path, kill, "finetune")
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    _check(tmp_path, _finish(tmp_path, "finetune"), finetune_reference)
