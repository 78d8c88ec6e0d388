"""Shared fixtures: a tiny, fast training configuration on synthetic data."""

from __future__ import annotations

import pytest

from googlenet.train import TrainConfig


@pytest.fixture
def tiny_config(tmp_path):
    """``tiny_config(**changes)``: inception_a_net (no BN, 97k params) on 192 synthetic
    28x28 images, 2 epochs of 6 steps; runs in about a second per epoch."""

    def make(**changes) -> TrainConfig:
        base = dict(model="inception_a_net", dataset="synthetic", epochs=2, batch_size=32,
                    train_limit=192, eval_limit=64, eval_batch_size=64, lr=0.01,
                    schedule="cosine", output=str(tmp_path / "runs"), name="tiny",
                    progress=False, report=False, seed=3)
        base.update(changes)
        return TrainConfig(**base)

    return make
