"""TransferModel: the cut, the heads, frozen BN in inference mode, unfreezing, recipes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from googlenet.errors import InputSizeError, SpecError, UnknownFeatureError
from googlenet.models import build_model
from googlenet.recipe import ModelRecipe, TransferRecipe, recipe_from_dict


def _recipe(**kw: object) -> TransferRecipe:
    base: dict[str, object] = dict(backbone=ModelRecipe("googlenet_bn", aux_logits=False),
                                   cut="inception_4e", num_classes=2, head="binary",
                                   pool="flatten", hidden=1024, input_size=64)
    base.update(kw)
    return TransferRecipe(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def binary() -> nn.Module:
    return build_model(_recipe())


def test_cut_and_keras_head_shapes(binary) -> None:
    assert list(binary.features._modules)[-1] == "inception_4e"
    assert binary.feature_shape == (832, 4, 4)
    assert binary.head.fc1.in_features == 832 * 16 and binary.head.fc1.out_features == 1024
    logits = binary(torch.randn(3, 3, 64, 64))
    # Binary: logits [0, z], so softmax[:, 1] is sigmoid(z).
    assert logits.shape == (3, 2) and torch.all(logits[:, 0] == 0)


def test_default_head_is_small_whatever_the_cut() -> None:
    # Global average pooling and one linear layer: 832 * 5 + 5 parameters at inception_4e,
    # where the Keras recipe's flatten + Dense(1024) at 224 would take 167M.
    model = build_model(TransferRecipe(ModelRecipe("googlenet_bn", aux_logits=False),
                                       "inception_4e", num_classes=5))
    assert sum(p.numel() for p in model.head.parameters()) == 832 * 5 + 5
    assert model(torch.randn(1, 3, 96, 96)).shape == (1, 5)  # any size works


def test_frozen_backbone_keeps_bn_in_inference_mode(binary) -> None:
    bns = [m for m in binary.features.modules() if isinstance(m, nn.BatchNorm2d)]
    before = bns[0].running_mean.clone()
    binary.train()
    assert binary.head.training and not any(bn.training for bn in bns)
    assert all(not p.requires_grad for p in binary.features.parameters())
    binary(torch.randn(4, 3, 64, 64) * 3 + 1).sum().backward()
    assert torch.equal(bns[0].running_mean, before)  # statistics untouched
    trainable = {id(p) for p in binary.trainable_parameters()}
    assert trainable == {id(p) for p in binary.head.parameters()}


def test_unfreeze_the_recipes_blocks_and_check_names_at_build_time() -> None:
    model = build_model(TransferRecipe(ModelRecipe("inception_v3", aux_logits=False), "mixed7",
                                       num_classes=3, input_size=75, unfreeze=("mixed7",)))
    assert not any(p.requires_grad for p in model.features.mixed7.parameters())
    assert model.unfreeze() == ["mixed7"]
    model.train()
    assert model.features.mixed7.training and not model.features.mixed6.training
    assert all(p.requires_grad for p in model.features.mixed7.parameters())
    with pytest.raises(UnknownFeatureError, match="cannot unfreeze 'mixed9'.*mixed7"):
        model.unfreeze(["mixed9"])  # after the cut
    # The README's old example (cut at mixed7, unfreeze mixed9) fails before any training.
    with pytest.raises(UnknownFeatureError, match="cannot unfreeze 'mixed9'"):
        build_model(TransferRecipe(ModelRecipe("inception_v3", aux_logits=False), "mixed7",
                                   num_classes=3, input_size=75, unfreeze=("mixed9",)))


def test_bad_cut_head_and_input_size(binary) -> None:
    with pytest.raises(UnknownFeatureError, match="no feature 'mixed7'"):
        build_model(_recipe(backbone=ModelRecipe("googlenet"), cut="mixed7"))
    with pytest.raises(InputSizeError, match="exactly 64x64"):
        binary(torch.randn(1, 3, 96, 96))
    with pytest.raises(SpecError, match="binary head needs exactly 2 classes"):
        _recipe(num_classes=3)
    with pytest.raises(SpecError, match="needs num_classes"):
        build_model(_recipe(num_classes=None))


def test_recipe_round_trip_rebuilds_same_architecture(binary) -> None:
    recipe = recipe_from_dict(binary.recipe.to_dict())
    assert recipe == binary.recipe
    again = build_model(recipe)
    assert {k: v.shape for k, v in again.state_dict().items()} == \
        {k: v.shape for k, v in binary.state_dict().items()}
    with pytest.raises(SpecError, match="bad: not a valid model recipe"):
        recipe_from_dict({"kind": "transfer", "cut": "x"}, "bad")
