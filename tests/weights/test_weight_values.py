"""No confident answer from a broken model (issue 31): weights must be finite floats,
class names must fit the classifier, and the model is float32 whatever torch's default
dtype."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from googlenet.errors import WeightsError
from googlenet.models import build_model, get_model_info
from googlenet.predict import Predictor
from googlenet.recipe import ModelRecipe
from googlenet.weights import WeightsMeta, init_from_weights, load_model, read_meta, save_weights
from googlenet.weights.loaded import resolve_model

NAME = "inception_a_net"


def _save(path: Path, state: dict[str, torch.Tensor], classes: int = 10,
          recipe: ModelRecipe | None = None) -> Path:
    meta = WeightsMeta(recipe or ModelRecipe(NAME), tuple(f"c{i}" for i in range(classes)),
                       get_model_info(NAME).preprocessing)
    save_weights(path, state, meta)
    return path


def _state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return build_model(ModelRecipe(NAME)).state_dict()


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_non_finite_weight_is_refused_naming_the_tensor(tmp_path, bad):
    state = _state()
    key = list(state)[-1]  # the classifier's bias: the last layer, not only the first
    state[key][0] = bad
    path = _save(tmp_path / "w.safetensors", state)
    for load in (load_model, lambda p: init_from_weights(ModelRecipe(NAME), p)):
        with pytest.raises(WeightsError, match=f"tensor '{key}' holds NaN or infinite"):
            load(path)


def test_an_integer_weight_is_refused(tmp_path):
    state = _state()
    key = next(k for k in state if k.endswith("weight"))
    state[key] = state[key].round().to(torch.int32)
    with pytest.raises(WeightsError, match=f"tensor '{key}' is int32, not floating point"):
        load_model(_save(tmp_path / "w.safetensors", state))


def test_class_names_must_fit_the_classifier(tmp_path):
    path = _save(tmp_path / "a.safetensors", _state(), classes=3)  # recipe: the default 10
    with pytest.raises(WeightsError, match="3 class names for a 10-class model"):
        load_model(path)
    path = _save(tmp_path / "b.safetensors", _state(), classes=3,
                 recipe=ModelRecipe(NAME, num_classes=10))
    with pytest.raises(WeightsError, match="3 class names for a 10-class model"):
        read_meta(path)


@pytest.fixture
def float64_default() -> Iterator[None]:
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def test_predictor_works_under_a_float64_default(tmp_path, float64_default):
    path = _save(tmp_path / "w.safetensors", _state())
    Image.fromarray(np.full((28, 28), 90, np.uint8)).save(tmp_path / "x.png")
    for inference_path in ("eager", "fused"):
        predictor = Predictor.from_file(path, inference_path)
        assert next(predictor.model.parameters()).dtype == torch.float32
        top = predictor.predict([tmp_path / "x.png"], topk=1).top
        assert len(top) == 1 and 0 < top[0][0][1] <= 1


def test_predictor_refuses_a_model_in_another_dtype_up_front(float64_default):
    loaded = resolve_model(NAME)
    loaded = dataclasses.replace(loaded, network=loaded.network.to(torch.float64))
    with pytest.raises(WeightsError, match="held in torch.float64; inference takes a float32"):
        Predictor(loaded)
