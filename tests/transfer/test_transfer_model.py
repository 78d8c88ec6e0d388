"""TransferModel: the cut, the Keras-style head, frozen BN in inference mode, unfreezing."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from googlenet.errors import InputSizeError, WeightsError
from googlenet.transfer import (
    HeadOptions,
    TransferConfig,
    build_transfer_model,
    transfer_from_config,
)


@pytest.fixture(scope="module")
def binary() -> nn.Module:
    model, _ = build_transfer_model(None, model="googlenet_bn", cut="inception_4e",
                                    num_classes=2, head="binary", input_size=64)
    return model


def test_cut_and_head_shapes(binary) -> None:
    assert list(binary.features._modules)[-1] == "inception_4e"
    assert binary.feature_shape == (832, 4, 4)
    assert binary.head.fc1.in_features == 832 * 16 and binary.head.fc1.out_features == 1024
    logits = binary(torch.randn(3, 3, 64, 64))
    # Binary: logits [0, z], so softmax[:, 1] is sigmoid(z).
    assert logits.shape == (3, 2) and torch.all(logits[:, 0] == 0)


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


def test_unfreeze_last_blocks() -> None:
    model, _ = build_transfer_model(None, model="inception_v3", cut="mixed7", num_classes=3,
                                    head=HeadOptions(pool="avg"), input_size=75)
    assert model.unfreeze(["mixed7"]) == ["mixed7"]
    model.train()
    assert model.features.mixed7.training and not model.features.mixed6.training
    assert all(p.requires_grad for p in model.features.mixed7.parameters())
    with pytest.raises(InputSizeError, match="cannot unfreeze 'mixed9'.*mixed7"):
        model.unfreeze(["mixed9"])  # after the cut


def test_bad_cut_and_input_size(binary) -> None:
    with pytest.raises(InputSizeError, match="no feature 'mixed7'"):
        build_transfer_model(None, model="googlenet", cut="mixed7", num_classes=2)
    with pytest.raises(InputSizeError, match="exactly 64x64"):
        binary(torch.randn(1, 3, 96, 96))
    with pytest.raises(WeightsError, match="binary head needs exactly 2 classes"):
        TransferConfig(backbone="googlenet", cut="inception_4e", num_classes=3, head="binary")


def test_config_round_trip_rebuilds_same_architecture(binary) -> None:
    cfg = TransferConfig(**binary.config.to_dict())
    again = transfer_from_config(cfg)
    assert {k: v.shape for k, v in again.state_dict().items()} == \
        {k: v.shape for k, v in binary.state_dict().items()}
