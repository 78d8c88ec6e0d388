"""A run stopped by Ctrl-C and resumed ends with exactly the weights of an unbroken run."""

import json
import signal

import pytest
import torch

from googlenet.errors import ConfigError, WeightsError
from googlenet.train import engine, fit
from googlenet.weights import load_state_dict, load_training_state


def _interrupt_at(monkeypatch, epoch_at: int, batch_at: int) -> None:
    """Deliver a real SIGINT while step (epoch_at, batch_at) runs."""
    real = engine.train_step

    def step(ctx, images, targets, epoch, batch, flip=None):
        if (epoch, batch) == (epoch_at, batch_at):
            signal.raise_signal(signal.SIGINT)
        return real(ctx, images, targets, epoch, batch, flip)

    monkeypatch.setattr(engine, "train_step", step)


def _weights(run_dir):
    return load_state_dict(run_dir / "last.safetensors")[0]


@pytest.mark.parametrize("batch_at", [5, 2], ids=["after-epoch-1", "mid-epoch-1"])
def test_resumed_run_equals_uninterrupted_run(tiny_config, monkeypatch, batch_at):
    # EMA, dropout-free model, augmentation and mixup: every source of state and randomness.
    kw = dict(ema_decay=0.9, hflip=True, shift=0.1, mixup=0.2, label_smoothing=0.1)
    whole = fit(tiny_config(name="whole", **kw))
    with monkeypatch.context() as m:
        _interrupt_at(m, 0, batch_at)
        part = fit(tiny_config(name="split", **kw))
    assert part.stopped == "interrupted"
    assert len(part.history) == (1 if batch_at == 5 else 0)
    resumed = fit(tiny_config(name="split", **kw), resume=True)
    assert resumed.stopped is None
    a, b = _weights(whole.run_dir), _weights(resumed.run_dir)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    hist_a = json.loads((whole.run_dir / "metrics.json").read_text())
    hist_b = json.loads((resumed.run_dir / "metrics.json").read_text())
    for ra, rb in zip(hist_a, hist_b, strict=True):
        for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
            assert ra[key] == pytest.approx(rb[key], abs=1e-6), key


def test_run_folder_contents(tiny_config):
    result = fit(tiny_config(ema_decay=0.9))
    names = {p.name for p in result.run_dir.iterdir()}
    assert {"config.json", "metrics.csv", "metrics.json", "best.safetensors",
            "last.safetensors"} <= names
    assert not any(n.endswith(".tmp") or n.endswith(".pt") for n in names)
    csv_lines = (result.run_dir / "metrics.csv").read_text().splitlines()
    assert csv_lines[0].startswith("epoch,train_loss,train_acc,val_loss,val_acc")
    assert len(csv_lines) == 3
    state = load_training_state(result.run_dir / "last.safetensors")
    assert state["epoch"] == 2 and state["ema"]["num_updates"] == 12
    with pytest.raises(WeightsError, match="holds no training state"):
        load_training_state(result.run_dir / "best.safetensors")


def test_existing_run_needs_resume_or_overwrite(tiny_config):
    fit(tiny_config(epochs=1))
    with pytest.raises(Exception, match="already holds files .*; use --resume"):
        fit(tiny_config(epochs=1))


def test_corrupt_checkpoint_on_resume_is_a_one_line_error(tiny_config):
    result = fit(tiny_config(epochs=1))
    weights = result.run_dir / "last.safetensors"
    weights.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(WeightsError) as err:
        fit(tiny_config(epochs=2), resume=True)
    msg = str(err.value)
    assert str(weights) in msg and "\n" not in msg


def test_incompatible_checkpoint_on_resume_names_the_file(tiny_config):
    result = fit(tiny_config(epochs=1))
    with pytest.raises(WeightsError) as err:
        fit(tiny_config(epochs=2, model="googlenet_mnist", width=0.125), resume=True)
    msg = str(err.value)
    assert str(result.run_dir / "last.safetensors") in msg and "inception_a_net" in msg
    assert "\n" not in msg


def test_resuming_a_finished_run_trains_nothing_and_says_so(tiny_config, capsys):
    done = fit(tiny_config(epochs=1, report=True))
    before = _weights(done.run_dir)
    again = fit(tiny_config(epochs=1, report=True), resume=True)
    assert "has finished its 1 epoch, nothing to train; ask for more epochs" in \
        capsys.readouterr().err
    assert again.stopped is None and len(again.history) == 1
    after = _weights(done.run_dir)
    assert all(torch.equal(before[k], after[k]) for k in after)
    assert (done.run_dir / "report.md").is_file()


def test_resuming_with_fewer_epochs_than_done_is_refused(tiny_config):
    fit(tiny_config(epochs=2))
    with pytest.raises(ConfigError, match="--epochs 1: .* has trained 2 epochs already"):
        fit(tiny_config(epochs=1), resume=True)
