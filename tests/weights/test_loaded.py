"""One loaded model: resolve_model builds the same kind of value from a registry name and
from any weights file, and every network the package builds is a typed Network."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from googlenet.errors import GoogLeNetError, InputSizeError, UnknownModelError, WeightsError
from googlenet.models import build_model, get_model_info
from googlenet.models.network import Network, as_network
from googlenet.recipe import ModelRecipe, TransferRecipe
from googlenet.weights import WeightsMeta, save_weights
from googlenet.weights.loaded import RANDOM_WEIGHTS, LoadedModel, resolve_model


def _save(path: Path, recipe: ModelRecipe | TransferRecipe, classes: tuple[str, ...],
          size: int | None = None) -> nn.Module:
    model = build_model(recipe)
    pre = get_model_info(recipe.model_name).preprocessing.at_size(size)
    save_weights(path, model.state_dict(), WeightsMeta(recipe, classes, pre, "test"))
    return model.eval()


def test_a_registry_name_is_fresh_weights_said_out_loud():
    loaded = resolve_model("googlenet_mnist")
    info = get_model_info("googlenet_mnist")
    assert loaded.random and loaded.meta is None and loaded.source == RANDOM_WEIGHTS
    assert loaded.preprocessing == info.preprocessing and loaded.in_chans == 1
    assert len(loaded.classes) == info.num_classes and loaded.describe() == "googlenet_mnist"
    assert not loaded.network.training
    assert hasattr(resolve_model("googlenet").network, "aux_4a")
    assert not hasattr(resolve_model("googlenet", aux_logits=False).network, "aux_4a")
    assert resolve_model("googlenet_mnist", num_classes=3).classes == \
        ("class_0", "class_1", "class_2")


def test_a_weights_file_brings_its_tensors_classes_and_preprocessing(tmp_path):
    recipe = ModelRecipe("inception_a_net")
    classes = tuple("abcdefghij")
    saved = _save(tmp_path / "w.safetensors", recipe, classes)
    loaded = resolve_model(tmp_path / "w.safetensors")
    assert not loaded.random and loaded.meta is not None and loaded.classes == classes
    assert loaded.source == str(tmp_path / "w.safetensors") and loaded.name == "inception_a_net"
    assert loaded.preprocessing == loaded.meta.preprocessing and loaded.in_chans == 1
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(loaded.network(x), saved(x))
    # The architecture alone (a diagram's need): same modules, fresh tensors.
    shape = resolve_model(tmp_path / "w.safetensors", with_weights=False)
    assert shape.meta == loaded.meta and \
        [k for k, _ in shape.network.named_parameters()] == \
        [k for k, _ in loaded.network.named_parameters()]
    assert resolve_model(str(tmp_path / "w.safetensors"), expect="inception_a_net").classes
    with pytest.raises(WeightsError, match="not googlenet weights"):
        resolve_model(tmp_path / "w.safetensors", expect="googlenet")


def test_a_headless_file_has_no_classes_and_is_refused_where_scores_are_needed(tmp_path):
    _save(tmp_path / "notop.safetensors", ModelRecipe("googlenet_mnist", num_classes=0), ())
    loaded = resolve_model(tmp_path / "notop.safetensors")
    assert not loaded.has_classifier
    with pytest.raises(WeightsError, match="backbone without a classifier"):
        loaded.require_classifier()


def test_unknown_sources_are_one_line_errors(tmp_path):
    with pytest.raises(WeightsError, match="no such weights file"):
        resolve_model(tmp_path / "missing.safetensors")
    with pytest.raises(UnknownModelError, match="did you mean googlenet_bn"):
        resolve_model("googlenet_bm")


def test_input_size_changes_the_preprocessing_unless_the_network_takes_one_size():
    loaded = resolve_model("googlenet_mnist")
    assert loaded.at_input_size(None) is loaded
    assert loaded.at_input_size(40).preprocessing == loaded.preprocessing.at_size(40)
    with pytest.raises(InputSizeError, match="takes exactly 28x28 inputs, not 64"):
        resolve_model("inception_a_net").at_input_size(64)


def test_every_network_built_is_a_typed_network():
    net = resolve_model("googlenet_bn").net
    assert isinstance(net, Network) and net.spec.name == "googlenet_bn"
    assert net.min_input_size == get_model_info("googlenet_bn").min_input_size
    assert not net.fixed_input_size and resolve_model("inception_a_net").net.fixed_input_size
    with pytest.raises(GoogLeNetError, match="Linear is not a googlenet network"):
        as_network(nn.Linear(2, 2))


@pytest.mark.parametrize("pool,fixed", [("avg", False), ("flatten", True)])
def test_a_transfer_model_offers_its_backbones_spec(tmp_path, pool, fixed):
    recipe = TransferRecipe(ModelRecipe("googlenet_mnist", aux_logits=False),
                            cut="inception_3b", num_classes=2, pool=pool, input_size=28)
    _save(tmp_path / "t.safetensors", recipe, ("cat", "dog"), size=28)
    loaded = resolve_model(tmp_path / "t.safetensors")
    assert isinstance(loaded, LoadedModel) and loaded.classes == ("cat", "dog")
    net = loaded.net
    assert net.spec.name == "googlenet_mnist" and net.in_chans == 1 and net.num_classes == 2
    assert net.fixed_input_size is fixed
