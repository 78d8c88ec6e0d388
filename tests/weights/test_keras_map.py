"""Keras InceptionV3 -> our inception_v3_keras, matched by structure and order.

The Keras model (weights=None, random BN statistics; fixture ``keras_files`` in conftest.py)
is written to weight files the way Keras 2 and Keras 3 write them, read back with
``read_keras_h5``, mapped, and the outputs compared with Keras' own forward pass.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from googlenet import create_model, get_model_info
from googlenet.errors import WeightsError
from googlenet.layers import ConvNormAct, InceptionBlock
from googlenet.weights.keras_h5 import read_keras_h5
from googlenet.weights.keras_map import (
    keras_block_order,
    keras_conv_order,
    keras_layers_to_state_dict,
    load_keras_weights,
)

TOL = 1e-4
# Keras' torch backend trips numpy 2's copy-keyword deprecation on every variable read.
pytestmark = pytest.mark.filterwarnings(r"ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def keras_run(keras_files):
    """Keras' mixed7, mixed10 and logits (NCHW) for one random 299x299 image."""
    from tests.weights import keras_helpers as kh

    keras = kh.import_keras()
    model = keras_files.model
    probe = keras.Model(model.input, [model.get_layer(n).output
                                      for n in ("mixed7", "mixed10", "avg_pool")])
    x = np.random.default_rng(7).uniform(-1, 1, (1, 299, 299, 3)).astype("float32")
    mixed7, mixed10, pooled = (torch.as_tensor(np.asarray(t.detach().cpu()))
                               for t in probe(x))
    kernel, bias = (torch.as_tensor(np.asarray(w)) for w in
                    model.get_layer("predictions").get_weights())
    return {
        "x": torch.as_tensor(x).permute(0, 3, 1, 2).contiguous(),
        "mixed7": mixed7.permute(0, 3, 1, 2), "mixed10": mixed10.permute(0, 3, 1, 2),
        "logits": pooled @ kernel + bias,  # Dense before its softmax
    }


def _diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item()


def test_keras2_file_with_top_matches_keras(keras_files, keras_run):
    model = create_model("inception_v3_keras").eval()
    state = keras_layers_to_state_dict(read_keras_h5(keras_files.keras2_top), model)
    assert list(state) == list(model.state_dict())  # complete, in the model's order
    model.load_state_dict(state)
    with torch.no_grad():
        feats = model.forward_intermediates(keras_run["x"], ["mixed7", "Mixed_7c"])
        logits = model(keras_run["x"])
    assert keras_run["mixed10"].abs().max() > 0.1
    assert _diff(feats["mixed7"], keras_run["mixed7"]) <= TOL
    assert _diff(feats["Mixed_7c"], keras_run["mixed10"]) <= TOL
    assert _diff(logits, keras_run["logits"]) <= TOL


def test_notop_file_fills_a_model_without_classifier(keras_files, keras_run):
    model = create_model("inception_v3_keras", num_classes=0).eval()
    load_keras_weights(model, read_keras_h5(keras_files.keras2_notop), source="notop.h5")
    with torch.no_grad():
        assert _diff(model.forward_features(keras_run["x"]), keras_run["mixed10"]) <= TOL
        assert model(keras_run["x"]).shape == (1, 2048)  # pooled features, no logits
    with pytest.raises(WeightsError, match=r"notop\.h5: missing key 'fc\.weight'"):
        load_keras_weights(create_model("inception_v3_keras"),
                           read_keras_h5(keras_files.keras2_notop), source="notop.h5")


def test_keras3_files_give_the_same_state_dict(keras_files):
    model = create_model("inception_v3_keras")
    want = keras_layers_to_state_dict(read_keras_h5(keras_files.keras2_top), model)
    for path in (keras_files.keras3_legacy_top, keras_files.keras3_weights):
        got = keras_layers_to_state_dict(read_keras_h5(path), model)
        assert set(got) == set(want) and all(torch.equal(got[k], want[k]) for k in want)


def test_torchvision_pooling_does_not_match_keras(keras_files, keras_run):
    # Same weights, but branch average pools count the padding: the spec field matters.
    model = create_model("inception_v3", aux_logits=False).eval()
    load_keras_weights(model, read_keras_h5(keras_files.keras2_top))
    with torch.no_grad():
        assert _diff(model.forward_features(keras_run["x"]), keras_run["mixed10"]) > 1e-3


def test_parameter_count_matches_keras(keras_files):
    # Keras counts BN moving mean/variance and no gamma (scale=False); PyTorch counts gamma
    # and beta as parameters and the moving statistics as buffers.
    model = create_model("inception_v3_keras")
    params = sum(p.numel() for p in model.parameters())
    bn_channels = sum(m.bn.num_features for m in model.modules() if isinstance(m, ConvNormAct))
    assert keras_files.model.count_params() == 23_851_784 == params + bn_channels
    assert params == get_model_info("inception_v3_keras").num_params


def test_block_orders_cover_every_conv():
    model = create_model("inception_v3_keras")
    for name, block in model.named_children():
        if isinstance(block, InceptionBlock):
            order = keras_block_order(block.spec)
            children = {n for n, m in block.named_modules() if isinstance(m, ConvNormAct)}
            assert sorted(order) == sorted(children), name
    assert len(keras_conv_order(model)) == 94  # Keras InceptionV3 has 94 Conv2D layers


def test_missing_layer_is_named(keras_files):
    layers = read_keras_h5(keras_files.keras2_notop)
    convs = [i for i, layer in enumerate(layers) if layer.kind == "conv2d"]
    del layers[convs[-1]]
    with pytest.raises(WeightsError, match=r"x\.h5: missing key "
                       r"'mixed10\.branch_pool\.conv\.weight'"):
        keras_layers_to_state_dict(layers, create_model("inception_v3_keras"), source="x.h5")


def test_wrong_shape_names_layer_and_shapes(keras_files):
    layers = read_keras_h5(keras_files.keras2_notop)
    i = next(i for i, layer in enumerate(layers) if layer.kind == "conv2d")
    kernel = np.zeros((5, 5, 3, 32), dtype="float32")
    layers[i] = dataclasses.replace(layers[i], weights={"kernel": kernel})
    # Keras numbers unnamed layers per session (conv2d_1 unless the session built another
    # model first, e.g. InceptionResNetV2's fixture): the message names the file's layer.
    with pytest.raises(WeightsError, match=rf"shape mismatch for '{layers[i].name}' \(ours: "
                       r"Conv2d_1a_3x3\.conv\.weight\): file has \(32, 3, 5, 5\), "
                       r"model expects \(32, 3, 3, 3\)"):
        keras_layers_to_state_dict(layers, create_model("inception_v3_keras", num_classes=0))


def test_non_v3_model_is_refused(keras_files):
    with pytest.raises(WeightsError, match="cannot fill module 'inception_3a'"):
        keras_layers_to_state_dict(read_keras_h5(keras_files.keras2_notop),
                                   create_model("googlenet_bn"))
