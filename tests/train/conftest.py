"""Shared fixtures: a tiny, fast training configuration on synthetic data."""

from __future__ import annotations

import pytest

from googlenet.recipe import ModelRecipe
from googlenet.train import TrainConfig


@pytest.fixture
def tiny_config(tmp_path):
    """``tiny_config(**changes)``: inception_a_net (no BN, 97k params) on 192 synthetic
    28x28 images, 2 epochs of 6 steps; runs in about a second per epoch. ``model``,
    ``width``, ``dropout`` and ``aux_logits`` go into the recipe."""

    def make(**changes) -> TrainConfig:
        base = dict(dataset="synthetic", epochs=2, batch_size=32,
                    train_limit=192, eval_limit=64, eval_batch_size=64, lr=0.01,
                    schedule="cosine", output=str(tmp_path / "runs"), name="tiny",
                    progress=False, report=False, seed=3)
        recipe = {k: changes.pop(k) for k in ("width", "dropout", "aux_logits")
                  if k in changes}
        name = changes.pop("model", "inception_a_net")
        base.update(changes)
        base.setdefault("recipe", ModelRecipe(name, **recipe))
        return TrainConfig(**base)

    return make
