"""A NaN loss stops the run with a clear message and keeps the last good checkpoint."""

import json

import pytest
import torch

from googlenet.errors import TrainingError
from googlenet.train import engine, fit
from googlenet.weights import load_state_dict, read_meta


def _poison(monkeypatch, at_call: int, training: bool = True) -> None:
    """Make the loss NaN at the ``at_call``-th training (or evaluation) loss."""
    real = engine.inception_loss if training else torch.nn.functional.cross_entropy
    calls = [0]

    def poisoned(*args, **kwargs):
        out = real(*args, **kwargs)
        if torch.is_grad_enabled() == training:
            calls[0] += 1
            if calls[0] == at_call:
                if training:
                    out.main, out.total = out.main * float("nan"), out.total * float("nan")
                else:
                    out = out * float("nan")
        return out

    if training:
        monkeypatch.setattr(engine, "inception_loss", poisoned)
    else:
        monkeypatch.setattr(engine.nn.functional, "cross_entropy", poisoned)


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tiny_config, monkeypatch):
    good = fit(tiny_config(name="good", epochs=1, schedule="constant"))
    _poison(monkeypatch, 9)  # epoch 2, step 3
    with pytest.raises(TrainingError) as err:
        fit(tiny_config(name="bad", epochs=3, schedule="constant"))
    msg = str(err.value)
    run_dir = good.run_dir.parent / "bad"
    assert "loss became nan at epoch 2, step 3" in msg
    assert f"last good checkpoint: {run_dir / 'last.safetensors'} (epoch 1, step 6)" in msg
    # The kept checkpoint is epoch 1's, identical to a clean 1-epoch run's weights.
    kept = load_state_dict(run_dir / "last.safetensors")[0]
    clean = load_state_dict(good.run_dir / "last.safetensors")[0]
    assert kept.keys() == clean.keys() and all(torch.equal(kept[k], clean[k]) for k in clean)
    assert len((run_dir / "metrics.csv").read_text().splitlines()) == 2


def test_a_resume_stopped_by_nan_leaves_config_json_as_it_was(tiny_config, monkeypatch):
    run = fit(tiny_config(epochs=1, schedule="constant")).run_dir
    before = (run / "config.json").read_text()
    _poison(monkeypatch, 2)
    with pytest.raises(TrainingError, match=r"last good checkpoint: .*last\.safetensors"):
        fit(tiny_config(epochs=3, lr=0.5, schedule="constant"), resume=True)
    assert (run / "config.json").read_text() == before  # no lr 0.5, no 3 epochs
    assert json.loads(before)["lr"] == 0.01


def test_nan_validation_loss_never_makes_a_checkpoint_best(tiny_config, monkeypatch):
    _poison(monkeypatch, 2, training=False)  # the second epoch's evaluation
    result = fit(tiny_config(epochs=2, schedule="constant"))
    history = json.loads((result.run_dir / "metrics.json").read_text())
    assert history[1]["val_loss"] != history[1]["val_loss"]  # NaN
    assert result.best["epoch"] == 1
    assert read_meta(result.run_dir / "best.safetensors").training.epoch == 1
    # A later NaN names the finite checkpoint, best, not last (its val loss is NaN).
    _poison(monkeypatch, 1)
    with pytest.raises(TrainingError, match=r"last good checkpoint: .*best\.safetensors "
                                            r"\(epoch 1"):
        fit(tiny_config(epochs=3, schedule="constant"), resume=True)
