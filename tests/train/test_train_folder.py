"""The run folder: locked while written, tidied after a kill, honest about what it evaluates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from googlenet.errors import ConfigError
from googlenet.train import fit, prepare_resume
from googlenet.train.checkpoint import RunLock, remove_stale_temporaries
from tests.transfer.image_folders import make_image_folder


def test_a_second_run_on_a_locked_folder_is_refused(tiny_config, tmp_path):
    cfg = tiny_config(epochs=1)
    run = Path(cfg.run_dir)
    # Another process holds the lock (as a run in progress does).
    code = ("import sys, time; from googlenet.train.checkpoint import RunLock\n"
            "with RunLock(sys.argv[1]):\n    print('locked', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(run)], stdout=subprocess.PIPE,
                              text=True, env=dict(os.environ, PYTHONPATH=str(Path.cwd())))
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(ConfigError, match=rf"{run}: another run \(pid {holder.pid}\) is "
                                              "writing to this folder"):
            fit(cfg)
    finally:
        holder.kill()
        holder.wait()
    assert fit(cfg).history  # the lock died with its holder


def test_stale_temporaries_of_a_killed_run_are_removed(tiny_config):
    result = fit(tiny_config(epochs=1))
    stale = result.run_dir / ".last.safetensors.abc123.tmp"
    stale.write_bytes(b"half a checkpoint")
    assert prepare_resume(result.run_dir) == []  # nothing else needed repair
    assert not stale.exists()
    stale.write_bytes(b"x")
    assert remove_stale_temporaries(result.run_dir) == [stale]


def test_a_held_lock_refuses_a_second_holder_even_in_one_process(tmp_path):
    with RunLock(tmp_path / "r"), pytest.raises(ConfigError, match="another run"), \
            RunLock(tmp_path / "r"):
        pass


def test_a_batch_larger_than_the_training_set_is_a_clear_error(tiny_config):
    with pytest.raises(ConfigError, match="--batch-size 256 is larger than the 192 training "
                                          "images"):
        fit(tiny_config(batch_size=256))


def test_val_split_holds_out_a_stratified_seeded_part(tmp_path, tiny_config, capsys):
    data = make_image_folder(tmp_path / "photos", {"all": 10}, size=40)
    root = data / "all"  # one folder of classes, no train/test split
    cfg = tiny_config(dataset="folder", data=str(root), val_split=0.2, batch_size=4,
                      train_limit=None, eval_limit=None, epochs=1, report=True)
    result = fit(cfg)
    assert capsys.readouterr().err.count("TRAINING images") == 0
    report = (result.run_dir / "report.md").read_text()
    assert "validation (20% of the training images, held out, seed 3)" in report
    ev = json.loads((result.run_dir / "eval.json").read_text())
    assert ev["count"] == 4 and [sum(row) for row in ev["confusion"]] == [2, 2]  # per class


def test_no_held_out_split_warns_and_never_says_validation(tmp_path, tiny_config, capsys):
    root = make_image_folder(tmp_path / "photos", {"all": 6}, size=40) / "all"
    cfg = tiny_config(dataset="folder", data=str(root), batch_size=4, train_limit=None,
                      eval_limit=None, epochs=1, report=True)
    result = fit(cfg)
    err = capsys.readouterr()
    assert "is evaluated on the TRAINING images" in err.err and "--val-split" in err.err
    assert "train-set eval" in err.out and "| val " not in err.out
    report = (result.run_dir / "report.md").read_text()
    assert "training images (no held-out split)" in report
    assert "validation" not in report.split("## Config")[0].lower()


def test_keep_last_false_keeps_only_best(tiny_config):
    result = fit(tiny_config(epochs=1, keep_last=False))
    assert (result.run_dir / "best.safetensors").is_file()
    assert not (result.run_dir / "last.safetensors").exists()
