"""``googlenet demo`` says when it trains on synthetic data for want of Fashion-MNIST."""

from __future__ import annotations

import re
import signal
from pathlib import Path

from googlenet.errors import DataError
from googlenet.recipe import ModelRecipe
from googlenet.train import demo, engine
from googlenet.train.demo import demo_config, run_demo, synthetic_fallback_note


def _missing(name: str, root: object = None) -> Path:
    raise DataError(f"{name} not found: searched /nowhere/fashion-mnist; pass --data PATH")


def test_the_fallback_note_says_how_to_get_the_data(monkeypatch):
    monkeypatch.setattr(demo, "find_idx_dataset", _missing)
    note = synthetic_fallback_note(demo_config(dataset="synthetic"))
    assert note is not None and note.startswith("note: fashion-mnist not found: searched ")
    for hint in ("synthetic", "apt-get install dataset-fashion-mnist", "--data",
                 "$GOOGLENET_DATA"):
        assert hint in note
    # No note where there is no fallback: Fashion-MNIST is used, or chosen against.
    assert synthetic_fallback_note(demo_config(dataset="fashion-mnist")) is None
    monkeypatch.setattr(demo, "find_idx_dataset", lambda name, root=None: Path("/data"))
    assert synthetic_fallback_note(demo_config(dataset="synthetic")) is None


def test_a_data_folder_given_is_never_silently_replaced():
    cfg = demo_config(data="/my/fashion")
    assert (cfg.dataset, cfg.data) == ("fashion-mnist", "/my/fashion")


def test_run_demo_prints_the_note_before_training(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(demo, "find_idx_dataset", _missing)
    cfg = demo_config(str(tmp_path), dataset="synthetic", train_limit=64, epochs=1)
    # The demo's run, shrunk to seconds: the smallest model, two steps, no report.
    run_demo(cfg.replace(recipe=ModelRecipe("inception_a_net"), batch_size=32, eval_limit=32,
                         precision="fp32", channels_last=False, progress=False,
                         report=False))
    out = capsys.readouterr().out
    assert out.index("apt-get install dataset-fashion-mnist") < out.index("Training ")


def _tiny_demo(tmp_path: Path, **changes: object):
    """The demo's recipe shrunk to seconds: six steps an epoch, in fp32."""
    cfg = demo_config(str(tmp_path), dataset="synthetic", train_limit=96, epochs=2)
    return cfg.replace(batch_size=16, eval_limit=32, precision="fp32", channels_last=False,
                       **changes)


def test_ctrl_c_says_where_it_stopped_and_lists_only_what_exists(monkeypatch, tmp_path,
                                                                 capsys):
    """A real SIGINT in epoch 2: the demo says so and how to resume, lists only files
    it wrote (no report, no curves: the run never finished), and leaves no .lock."""
    real = engine.train_step

    def step(ctx, images, targets, epoch, batch, flip=None):
        if (epoch, batch) == (1, 2):
            signal.raise_signal(signal.SIGINT)
        return real(ctx, images, targets, epoch, batch, flip)

    monkeypatch.setattr(engine, "train_step", step)
    result = run_demo(_tiny_demo(tmp_path, progress=False))
    out = capsys.readouterr().out
    assert result.stopped == "interrupted"
    assert f"interrupted at epoch 2; resume with `googlenet train --resume {result.run_dir}`" \
        in out
    assert "test accuracy" not in out and "report.md" not in out
    listed = re.findall(r"^  .{17} (\S+)$", out, re.M)
    assert listed and all(Path(p).is_file() for p in listed)
    assert str(result.run_dir / "last.safetensors") in listed
    assert not (result.run_dir / ".lock").exists()


def test_a_finished_demo_lists_its_files_and_the_expected_time(tmp_path, capsys):
    """The first steps measured give the expected time (progress on, as the demo runs);
    a finished run lists every file, all of which exist, and leaves no .lock."""
    result = run_demo(_tiny_demo(tmp_path, progress=True, report=False))
    out = capsys.readouterr().out
    expected = re.search(r"expected: about \d+:\d\d more of training \((\d+\.\d+) s per "
                         r"step measured over the first 5 steps, (\d+) steps to go", out)
    assert expected and int(expected.group(2)) == 2 * 6 - 5
    assert out.index("expected: about") < out.index("test accuracy")
    listed = re.findall(r"^  .{17} (\S+)$", out, re.M)
    assert str(result.run_dir / "best.safetensors") in listed
    assert all(Path(p).is_file() for p in listed)
    assert not (result.run_dir / ".lock").exists()
