"""Keras InceptionResNetV2 -> our inception_resnet_v2, matched by structure and order.

Keras' model (weights=None, random BN statistics, 139x139; fixture ``keras_irv2_files`` in
conftest.py) is written to weight files as Keras 2 and Keras 3 write them, read back,
mapped, and our features compared with Keras' own at every stage.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from googlenet import create_model, get_model_info
from googlenet.cli import main
from googlenet.errors import WeightsError
from googlenet.layers import ConvNormAct
from googlenet.weights.keras_h5 import read_keras_h5
from googlenet.weights.keras_map import (
    keras_conv_order,
    keras_layers_to_state_dict,
    keras_model_of,
)
from tests.weights.conftest import IRV2_SIZE

TOL = 1e-4
pytestmark = pytest.mark.filterwarnings(r"ignore:__array__ implementation:DeprecationWarning")

# Our feature -> the Keras layer with the same output. Keras' residual blocks end in a
# scale layer and its ReLU "<block>_ac"; conv_7b is its conv, conv_7b_ac the ReLU after BN.
KERAS_OUTPUT = {"mixed_5b": "mixed_5b", "block35_10": "block35_10_ac", "mixed_6a": "mixed_6a",
                "block17_20": "block17_20_ac", "mixed_7a": "mixed_7a",
                "block8_9": "block8_9_ac", "conv_7b": "conv_7b_ac"}


@pytest.fixture(scope="module")
def keras_run(keras_irv2_files):
    """Keras' outputs (NCHW) at the blocks above, block8_10 (the linear block, read as
    conv_7b's input: its scale layer has only an automatic name) and the logits."""
    from tests.weights import keras_helpers as kh

    keras = kh.import_keras()
    model = keras_irv2_files.model
    outputs = [model.get_layer(n).output for n in KERAS_OUTPUT.values()]
    outputs += [model.get_layer("conv_7b").input, model.get_layer("avg_pool").output]
    x = np.random.default_rng(7).uniform(-1, 1, (1, IRV2_SIZE, IRV2_SIZE, 3)).astype("float32")
    got = [torch.as_tensor(np.asarray(t.detach().cpu()))
           for t in keras.Model(model.input, outputs)(x)]
    kernel, bias = (torch.as_tensor(np.asarray(w)) for w in
                    model.get_layer("predictions").get_weights())
    feats = dict(zip([*KERAS_OUTPUT, "block8_10"], (t.permute(0, 3, 1, 2) for t in got[:-1]),
                     strict=True))
    return {"x": torch.as_tensor(x).permute(0, 3, 1, 2).contiguous(), "feats": feats,
            "logits": got[-1] @ kernel + bias}  # Dense before its softmax


def _model(**kwargs):
    """Our model with meta tensors: the Keras state dicts replace them whole
    (``load_state_dict(assign=True)``), so 56M parameters are never initialised."""
    with torch.device("meta"):
        return create_model("inception_resnet_v2", **kwargs).eval()


def _state(path, model):
    return keras_layers_to_state_dict(read_keras_h5(path), model, source=path.name)


@pytest.fixture(scope="module")
def ours(keras_irv2_files):
    """Our model with top, filled from the Keras-2-style file (each file is read once)."""
    model = _model()
    state = _state(keras_irv2_files.keras2_top, model)
    assert list(state) == list(model.state_dict())  # complete, in the model's order
    model.load_state_dict(state, assign=True)
    return model


def _diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item()


def test_keras2_file_with_top_matches_keras_at_every_stage(keras_run, ours):
    want = keras_run["feats"]
    with torch.no_grad():
        got = ours.forward_intermediates(keras_run["x"], list(want))
        logits = ours(keras_run["x"])
    assert want["conv_7b"].shape[-1] == 3  # the 8x8 stage is 3x3 at 139x139
    assert want["conv_7b"].abs().max() > 0.1 and want["block8_10"].min() < 0  # no ReLU
    for name, ref in want.items():
        assert _diff(got[name], ref) <= TOL, name
    assert _diff(logits, keras_run["logits"]) <= TOL
    # TF-slim's end points are the same features.
    with torch.no_grad():
        alias = ours.forward_intermediates(keras_run["x"], ["Mixed_6a", "PreAuxLogits"])
    assert torch.equal(alias["Mixed_6a"], got["mixed_6a"])
    assert torch.equal(alias["PreAuxLogits"], got["block17_20"])


def test_keras3_file_gives_the_same_state_dict(keras_irv2_files, ours):
    got = _state(keras_irv2_files.keras3_weights, ours)
    want = ours.state_dict()
    assert set(got) == set(want) and all(torch.equal(got[k], want[k]) for k in want)


def test_notop_files_fill_a_model_without_classifier(keras_irv2_files, keras_run):
    model = _model(num_classes=0)
    legacy = _state(keras_irv2_files.keras2_notop, model)
    keras3 = _state(keras_irv2_files.keras3_weights_notop, model)
    assert all(torch.equal(keras3[k], v) for k, v in legacy.items())
    model.load_state_dict(legacy, assign=True)
    with torch.no_grad():
        assert _diff(model.forward_features(keras_run["x"]), keras_run["feats"]["conv_7b"]) <= TOL
        assert model(keras_run["x"]).shape == (1, 1536)


def test_parameter_count_matches_keras(keras_irv2_files, ours):
    # Keras counts BN moving mean/variance and no gamma (scale=False); PyTorch counts gamma
    # and beta as parameters and the moving statistics as buffers.
    params = sum(p.numel() for p in ours.parameters())
    bn_channels = sum(m.bn.num_features for m in ours.modules()
                      if isinstance(m, ConvNormAct) and m.bn is not None)
    assert keras_irv2_files.model.count_params() == 55_873_736 == params + bn_channels
    assert params == get_model_info("inception_resnet_v2").num_params == 55_843_464


def test_conv_order_covers_every_keras_conv(keras_irv2_files, ours):
    keras = pytest.importorskip("keras")
    convs = [layer for layer in keras_irv2_files.model.layers
             if isinstance(layer, keras.layers.Conv2D)]
    order = keras_conv_order(ours)
    assert len(order) == len(convs) == len(set(order))
    # The residual projections are the convolutions with a bias, at the same places.
    assert [n.endswith(".conv2d") for n in order] == [c.use_bias for c in convs]


def test_the_file_says_which_keras_model_it_is(keras_irv2_files):
    layers = read_keras_h5(keras_irv2_files.keras2_notop)
    assert keras_model_of(layers) == "inception_resnet_v2"
    del layers[next(i for i, layer in enumerate(layers) if layer.kind == "conv2d")]
    with pytest.raises(WeightsError, match=r"x\.h5: \d+ conv layers fit no Keras model .*"
                       r"InceptionV3 \(94\), InceptionResNetV2 \(244\); give --model"):
        keras_model_of(layers, source="x.h5")


def test_convert_picks_inception_resnet_v2_from_the_file(keras_irv2_files, tmp_path, capsys):
    out = tmp_path / "irv2_notop.safetensors"
    assert main(["convert", str(keras_irv2_files.keras2_notop), str(out), "--from", "keras"]) == 0
    capsys.readouterr()
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    text = json.dumps(info)
    assert '"inception_resnet_v2"' in text and '"num_classes": 0' in text
    assert info["preprocessing"]["mean"] == [0.5, 0.5, 0.5]
