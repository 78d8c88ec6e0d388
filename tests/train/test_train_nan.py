"""A NaN loss stops the run with a clear message and keeps the last good checkpoint."""

import pytest
import torch
from safetensors.torch import load_file

from googlenet.errors import TrainingError
from googlenet.train import engine, fit


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tiny_config, monkeypatch):
    real = engine.inception_loss

    def poisoned(outputs, targets, *args, **kwargs):
        parts = real(outputs, targets, *args, **kwargs)
        if torch.is_grad_enabled() and poisoned.calls == 8:  # epoch 2, step 3
            parts.main = parts.main * float("nan")
            parts.total = parts.total * float("nan")
        poisoned.calls += 1
        return parts

    poisoned.calls = 0
    good = fit(tiny_config(name="good", epochs=1, schedule="constant"))
    monkeypatch.setattr(engine, "inception_loss", poisoned)
    with pytest.raises(TrainingError) as err:
        fit(tiny_config(name="bad", epochs=3, schedule="constant"))
    msg = str(err.value)
    run_dir = good.run_dir.parent / "bad"
    assert "loss became nan at epoch 2, step 3" in msg
    assert f"last good checkpoint: {run_dir / 'last.safetensors'} (epoch 1)" in msg
    # The kept checkpoint is epoch 1's, identical to a clean 1-epoch run's weights.
    kept, clean = load_file(run_dir / "last.safetensors"), load_file(good.run_dir /
                                                                      "last.safetensors")
    assert all(torch.equal(kept[k], clean[k]) for k in clean)
    assert len((run_dir / "metrics.csv").read_text().splitlines()) == 2
