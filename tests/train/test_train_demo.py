"""``googlenet demo`` says when it trains on synthetic data for want of Fashion-MNIST."""

from __future__ import annotations

from pathlib import Path

from googlenet.errors import DataError
from googlenet.recipe import ModelRecipe
from googlenet.train import demo
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
