"""The speed and regularisation options train end to end and are recorded in the run."""

import json

import pytest
import torch

from googlenet.train import fit
from googlenet.weights import load_training_state, read_meta


@pytest.mark.slow  # googlenet_bn trains at 224x224: tens of seconds on 2 cores
def test_aux_heads_bf16_channels_last_clip_mix_adamw(tiny_config):
    # googlenet_bn carries the paper's two aux heads: fit trains them via forward_train.
    cfg = tiny_config(model="googlenet_bn", width=0.125, epochs=1, batch_size=16,
                      train_limit=48, eval_limit=16, eval_batch_size=16, optimizer="adamw",
                      lr=1e-3, precision="bf16", channels_last=True, grad_clip=1.0,
                      mixup=0.2, cutmix=1.0, label_smoothing=0.1, random_resized_crop=True,
                      hflip=True, ema_decay=0.9)
    result = fit(cfg)
    meta = read_meta(result.run_dir / "last.safetensors")
    assert meta.model == "googlenet_bn" and meta.recipe.aux_logits is True
    assert meta.preprocessing.input_size == 224 and len(meta.classes) == 10
    state = load_training_state(result.run_dir / "last.safetensors")
    assert any(k.startswith("aux_4a.") for k in state["model"])  # raw weights (EMA on)
    assert torch.isfinite(torch.tensor(result.final["train_loss"]))


@pytest.mark.parametrize("optimizer,schedule", [("rmsprop", "paper"), ("sgd", "onecycle")])
def test_other_optimizers_and_schedules_record_their_lr(tiny_config, optimizer, schedule):
    result = fit(tiny_config(optimizer=optimizer, schedule=schedule, lr=1e-3))
    history = json.loads((result.run_dir / "metrics.json").read_text())
    assert len(history) == 2 and all(r["lr"] > 0 for r in history)
    if schedule == "paper":  # 2 epochs < 8: no decay yet
        assert history[0]["lr"] == history[1]["lr"] == pytest.approx(1e-3)
    else:
        assert history[1]["lr"] < history[0]["lr"]


@pytest.mark.slow
def test_torch_compile_trains(tiny_config):
    result = fit(tiny_config(compile=True, epochs=1))
    assert result.final["train_loss"] > 0
