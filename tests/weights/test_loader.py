"""The one loader: any weights file -> model, classes, preprocessing; starting points."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import googlenet
from googlenet.errors import WeightsError
from googlenet.models import build_model
from googlenet.recipe import ModelRecipe, TransferRecipe
from googlenet.weights import (
    Preprocessing,
    TrainingInfo,
    WeightsMeta,
    init_from_weights,
    load_model,
    read_meta,
    resolve_preprocessing,
    save_weights,
)
from googlenet.weights.safetensors_io import save_safetensors

RECIPE = ModelRecipe("googlenet_mnist", num_classes=10, in_chans=1, width=0.125)


@pytest.fixture
def trained(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = build_model(RECIPE)
    pre = Preprocessing((0.3,), (0.35,), input_size=28, resize_size=28)
    meta = WeightsMeta(RECIPE, tuple(f"c{i}" for i in range(10)), pre, "test",
                       TrainingInfo("r", 1, 10, {"val_acc": 0.5}))
    save_weights(tmp_path / "w.safetensors", model.state_dict(), meta)
    return tmp_path / "w.safetensors"


def test_round_trip_of_model_and_metadata(trained: Path) -> None:
    model, meta = load_model(trained)
    assert meta == read_meta(trained) and meta.recipe == RECIPE and not model.training
    assert meta.training == TrainingInfo("r", 1, 10, {"val_acc": 0.5})
    assert resolve_preprocessing(trained) == meta.preprocessing
    assert resolve_preprocessing("googlenet_bn").mean == (0.5, 0.5, 0.5)


def test_create_model_from_weights_keeps_or_replaces_the_classifier(trained: Path) -> None:
    ref, _ = load_model(trained)
    same = googlenet.create_model("googlenet_mnist", weights=trained).eval()
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(same(x), ref(x))
    five = googlenet.create_model("googlenet_mnist", weights=trained, num_classes=5)
    assert five.fc.out_features == 5
    assert torch.equal(five.state_dict()["conv1.conv.weight"], ref.state_dict()[
        "conv1.conv.weight"])
    with pytest.raises(WeightsError, match=r"w\.safetensors: holds googlenet_mnist\(.*\), not "
                                           r"googlenet_cifar weights"):
        googlenet.create_model("googlenet_cifar", weights=trained)
    with pytest.raises(WeightsError, match="the weights fix in_chans=1, not 3"):
        googlenet.create_model("googlenet_mnist", weights=trained, in_chans=3)


def test_transfer_from_a_registry_file_takes_the_backbone(trained: Path) -> None:
    ref, _ = load_model(trained)
    recipe = TransferRecipe(ModelRecipe("googlenet_mnist"), "inception_3b", num_classes=3)
    model, built, pre = init_from_weights(recipe, trained)
    assert isinstance(built, TransferRecipe) and built.backbone == ModelRecipe(
        "googlenet_mnist", 10, 1, False, 0.125)
    assert pre.input_size == 28 and pre.mean == (0.3,)
    assert torch.equal(model.features.inception_3b.branch_1x1.conv.weight,
                       ref.inception_3b.branch_1x1.conv.weight)
    assert not any(p.requires_grad for p in model.features.parameters())


def test_bgr_weights_become_an_rgb_model(tmp_path: Path) -> None:
    # Caffe's model takes BGR 0..255 input; a model trained from it takes RGB 0..1, and
    # flipping the first convolution's input channels makes the two exactly equal.
    recipe = ModelRecipe("googlenet", num_classes=4, aux_logits=False)
    torch.manual_seed(1)
    bgr_model = build_model(recipe).eval()
    bgr = Preprocessing((104.0, 117.0, 123.0), (1.0, 1.0, 1.0), 255.0, "BGR", 64, 64)
    save_weights(tmp_path / "bgr.safetensors", bgr_model.state_dict(),
                 WeightsMeta(recipe, ("a", "b", "c", "d"), bgr))
    model, _, pre = init_from_weights(recipe, tmp_path / "bgr.safetensors")
    assert pre.channel_order == "RGB" and pre.scale == 1.0
    pixels = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    with torch.no_grad():
        assert torch.allclose(model.eval()(pre.normalize(pixels)),
                              bgr_model(bgr.normalize(pixels)), atol=1e-4)


def test_files_without_the_schema_are_refused_in_one_line(tmp_path: Path) -> None:
    # The schema before googlenet-weights/2 is not read: the README promises no older files.
    old = {"googlenet.checkpoint": "googlenet-checkpoint/1", "model": "googlenet_mnist",
           "model_kwargs": {"num_classes": 10, "in_chans": 1, "width": 0.125},
           "class_names": [str(i) for i in range(10)], "mean": [0.3], "std": [0.35],
           "input_size": 28, "epoch": 3, "step": 30, "metrics": {"val_acc": 0.8}}
    save_safetensors(tmp_path / "old.safetensors", build_model(RECIPE).state_dict(), old)
    with pytest.raises(WeightsError, match="old.safetensors: no googlenet metadata"):
        load_model(tmp_path / "old.safetensors")


def test_foreign_and_damaged_metadata_are_one_line_errors(tmp_path: Path) -> None:
    save_safetensors(tmp_path / "bare.safetensors", {"w": torch.zeros(1)})
    with pytest.raises(WeightsError, match="no googlenet metadata"):
        read_meta(tmp_path / "bare.safetensors")
    save_safetensors(tmp_path / "new.safetensors", {"w": torch.zeros(1)},
                     {"googlenet.format": "googlenet-weights/99"})
    with pytest.raises(WeightsError, match="written by a newer googlenet"):
        read_meta(tmp_path / "new.safetensors")
    bad = WeightsMeta(RECIPE, (), Preprocessing()).to_metadata()
    bad["recipe"] = {"kind": "model", "name": "x", "widht": 2}
    save_safetensors(tmp_path / "bad.safetensors", {"w": torch.zeros(1)}, bad)
    with pytest.raises(googlenet.GoogLeNetError, match="not a valid model recipe"):
        read_meta(tmp_path / "bad.safetensors")
