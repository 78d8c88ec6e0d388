"""The Keras HDF5 weights reader, on real Keras-written files and on broken ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from googlenet.errors import WeightsError
from googlenet.weights.keras_h5 import (
    KerasLayer,
    keras_weights_layout,
    layers_of_kind,
    read_keras_h5,
)

h5py = pytest.importorskip("h5py")

# Keras 3.15 on numpy 2 warns about __array__(copy=...) inside its own code.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

# Keras InceptionV3: 94 conv2d_bn blocks (conv without bias + BN with scale=False).
N_CONV = 94


def _keras_weighted_layers(model: object) -> list[object]:
    return [layer for layer in model.layers if layer.weights]  # type: ignore[attr-defined]


@pytest.mark.slow  # builds Keras InceptionV3 once per session (~10 s)
def test_keras2_style_notop_file(keras_files) -> None:
    layers = read_keras_h5(keras_files.keras2_notop)
    assert keras_weights_layout(keras_files.keras2_notop) == "legacy"
    kinds = [layer.kind for layer in layers]
    assert kinds.count("conv2d") == kinds.count("batch_norm") == N_CONV == len(layers) // 2
    first_conv, first_bn = layers[0], layers[1]
    assert first_conv.name == "conv2d_1" and first_bn.name == "batch_normalization_1"
    assert list(first_conv.weights) == ["kernel"]  # use_bias=False
    assert first_conv.weights["kernel"].shape == (3, 3, 3, 32)  # HWIO
    assert list(first_bn.weights) == ["beta", "moving_mean", "moving_variance"]  # scale=False
    keras_layers = _keras_weighted_layers(keras_files.model)
    for ours, theirs in zip(layers, keras_layers, strict=False):
        for array, variable in zip(ours.weights.values(), theirs.weights, strict=True):
            np.testing.assert_array_equal(array, variable.numpy())


@pytest.mark.slow  # builds Keras InceptionV3 once per session (~10 s)
def test_keras3_legacy_writer_with_top(keras_files) -> None:
    layers = read_keras_h5(keras_files.keras3_legacy_top)
    model_layers = _keras_weighted_layers(keras_files.model)
    assert [layer.name for layer in layers] == [layer.name for layer in model_layers]
    assert layers[0].name == "conv2d" and layers[-1].name == "predictions"
    dense = layers[-1]
    assert dense.kind == "dense" and dense.weights["kernel"].shape == (2048, 1000)
    torch_dense = dense.torch_arrays()
    assert torch_dense["weight"].shape == (1000, 2048) and torch_dense["bias"].shape == (1000,)


@pytest.mark.slow  # builds Keras InceptionV3 once per session (~10 s)
def test_both_layouts_agree_per_kind(keras_files) -> None:
    legacy = read_keras_h5(keras_files.keras2_top)
    keras3 = read_keras_h5(keras_files.keras3_weights)
    assert keras_weights_layout(keras_files.keras3_weights) == "keras3"
    for kind in ("conv2d", "batch_norm", "dense"):
        a, b = layers_of_kind(legacy, kind), layers_of_kind(keras3, kind)
        assert len(a) == len(b) > 0
        for x, y in zip(a, b, strict=True):
            assert list(x.weights) == list(y.weights)
            for key in x.weights:
                np.testing.assert_array_equal(x.weights[key], y.weights[key])
    # .weights.h5 stores each layer's real name as an attribute of its vars group.
    real = {layer.name for layer in _keras_weighted_layers(keras_files.model)}
    assert {layer.name for layer in keras3} == real


@pytest.mark.slow  # builds Keras InceptionV3 once per session (~10 s)
def test_torch_layout_reproduces_keras_conv_bn(keras_files) -> None:
    """conv2d -> BN from Keras equals F.conv2d -> F.batch_norm(eps=1e-3) on our arrays."""
    import torch
    import torch.nn.functional as F

    model = keras_files.model
    conv, bn = model.get_layer("conv2d"), model.get_layer("batch_normalization")
    layers = read_keras_h5(keras_files.keras3_legacy_top)
    ours = {layer.name: layer.torch_arrays() for layer in layers[:2]}
    x = np.random.default_rng(0).standard_normal((1, 31, 31, 3)).astype(np.float32)
    want = np.asarray(bn(conv(x), training=False).detach().cpu())  # NHWC
    t = torch.from_numpy(x).permute(0, 3, 1, 2)
    w = {k: torch.from_numpy(v) for k, v in ours["conv2d"].items()}
    b = {k: torch.from_numpy(v) for k, v in ours["batch_normalization"].items()}
    y = F.conv2d(t, w["weight"], stride=2)  # InceptionV3's first conv: 3x3, stride 2, valid
    y = F.batch_norm(y, b["running_mean"], b["running_var"], b["weight"], b["bias"], eps=1e-3)
    np.testing.assert_allclose(y.permute(0, 2, 3, 1).numpy(), want, atol=1e-5, rtol=1e-5)


def test_torch_arrays_layouts() -> None:
    kernel = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)  # H, W, I, O
    conv = KerasLayer("c", "conv2d", {"kernel": kernel}).torch_arrays()
    assert conv["weight"].shape == (5, 4, 2, 3)
    assert conv["weight"][4, 3, 1, 2] == kernel[1, 2, 3, 4]
    mean, var = np.zeros(3, np.float32), np.ones(3, np.float32)
    bn = KerasLayer("b", "batch_norm", {"moving_mean": mean, "moving_variance": var})
    arrays = bn.torch_arrays()
    np.testing.assert_array_equal(arrays["weight"], np.ones(3))  # scale=False means gamma 1
    np.testing.assert_array_equal(arrays["bias"], np.zeros(3))
    with pytest.raises(WeightsError, match="'o'"):
        KerasLayer("o", "other", {}).torch_arrays()


# --- small hand-made files: layouts and errors --------------------------------------------


def _write_legacy(path: Path, *, drop_weight: bool = False, chunked: bool = False) -> None:
    rng = np.random.default_rng(1)
    with h5py.File(path, "w") as f:
        names = [b"input_1", b"conv2d_1", b"batch_normalization_1", b"dense_1"]
        if chunked:  # what Keras does when the attribute would exceed 64 KiB
            f.attrs["layer_names0"], f.attrs["layer_names1"] = names[:2], names[2:]
        else:
            f.attrs["layer_names"] = names
        f.create_group("input_1").attrs["weight_names"] = np.array([], dtype="S1")
        weights = {
            "conv2d_1": {"kernel:0": (3, 3, 2, 4), "bias:0": (4,)},
            "batch_normalization_1": {
                "gamma:0": (4,),
                "beta:0": (4,),
                "moving_mean:0": (4,),
                "moving_variance:0": (4,),
            },
            "dense_1": {"kernel:0": (4, 5), "bias:0": (5,)},
        }
        for layer, params in weights.items():
            group = f.create_group(layer)
            group.attrs["weight_names"] = [f"{layer}/{p}".encode() for p in params]
            for i, (param, shape) in enumerate(params.items()):
                if drop_weight and layer == "dense_1" and i == 1:
                    continue
                group.create_dataset(f"{layer}/{param}", data=rng.standard_normal(shape))


def test_small_legacy_file_and_chunked_layer_names(tmp_path: Path) -> None:
    for chunked in (False, True):
        path = tmp_path / f"small{chunked}.h5"
        _write_legacy(path, chunked=chunked)
        layers = read_keras_h5(path)
        assert [(x.name, x.kind) for x in layers] == [
            ("conv2d_1", "conv2d"),
            ("batch_normalization_1", "batch_norm"),
            ("dense_1", "dense"),
        ]
        assert list(layers[1].weights) == ["gamma", "beta", "moving_mean", "moving_variance"]


def test_whole_model_h5_reads_model_weights_group(tmp_path: Path) -> None:
    inner = tmp_path / "inner.h5"
    _write_legacy(inner)
    path = tmp_path / "model.h5"
    with h5py.File(inner, "r") as src, h5py.File(path, "w") as dst:
        src.copy(src["/"], dst, name="model_weights")
        for key, value in src.attrs.items():
            dst["model_weights"].attrs[key] = value
    assert [x.name for x in read_keras_h5(path)] == ["conv2d_1", "batch_normalization_1", "dense_1"]


def test_missing_weight_names_layer_and_weight(tmp_path: Path) -> None:
    path = tmp_path / "drop.h5"
    _write_legacy(path, drop_weight=True)
    with pytest.raises(
        WeightsError, match=r"drop\.h5: layer 'dense_1' is missing weight 'dense_1/bias:0'"
    ):
        read_keras_h5(path)


def test_layer_without_group(tmp_path: Path) -> None:
    path = tmp_path / "nogroup.h5"
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [b"conv2d_1"]
    with pytest.raises(WeightsError, match="'conv2d_1' is in layer_names but has no group"):
        read_keras_h5(path)


def test_missing_layer_names(tmp_path: Path) -> None:
    path = tmp_path / "plain.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    with pytest.raises(WeightsError, match=r"plain\.h5: .*no layer_names attribute"):
        read_keras_h5(path)


def test_not_hdf5_and_missing(tmp_path: Path) -> None:
    path = tmp_path / "text.h5"
    path.write_text("not an hdf5 file\n")
    with pytest.raises(WeightsError, match=r"text\.h5: not an HDF5 file"):
        read_keras_h5(path)
    with pytest.raises(WeightsError, match="not found"):
        read_keras_h5(tmp_path / "missing.h5")


def test_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.h5"
    _write_legacy(path)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(WeightsError, match=r"cut\.h5: .*truncated or corrupt") as info:
        read_keras_h5(path)
    assert "\n" not in str(info.value)


@pytest.mark.slow  # builds Keras InceptionV3 once per session (~10 s)
def test_keras_itself_loads_the_keras2_style_file(keras_files) -> None:
    """The fixture mimicking the released file is one Keras accepts (it loads by order)."""
    from tests.weights import keras_helpers as kh

    keras = kh.import_keras()
    fresh = keras.applications.InceptionV3(weights=None, include_top=False)
    fresh.load_weights(keras_files.keras2_notop)
    want = kh.notop(keras_files.model).weights
    assert len(fresh.weights) == len(want)
    for got, expected in zip(fresh.weights, want, strict=True):
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.slow  # imports Keras
def test_nested_model_is_split_into_layers(keras_files, tmp_path: Path) -> None:
    from tests.weights import keras_helpers as kh

    keras = kh.import_keras()
    backbone = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3, name="c"),
            keras.layers.BatchNormalization(scale=False, name="bn"),
        ],
        name="backbone",
    )
    model = keras.Sequential([keras.Input((8, 8, 3)), backbone, keras.layers.Flatten()])
    model.add(keras.layers.Dense(2, name="head"))
    kh.write_keras3_legacy_h5(model, tmp_path / "nested.h5")
    model.save_weights(tmp_path / "nested.weights.h5")
    legacy = read_keras_h5(tmp_path / "nested.h5")
    assert [(x.name, x.kind) for x in legacy] == [
        ("backbone/c", "conv2d"),
        ("backbone/bn", "batch_norm"),
        ("head", "dense"),
    ]
    keras3 = read_keras_h5(tmp_path / "nested.weights.h5")
    assert sorted((x.name, x.kind) for x in keras3) == sorted((x.name, x.kind) for x in legacy)
    conv = backbone.layers[0]
    got = {x.name: x for x in keras3}["backbone/c"].weights["kernel"]
    np.testing.assert_array_equal(got, conv.kernel.numpy())


def test_duplicate_weight_in_one_layer(tmp_path: Path) -> None:
    path = tmp_path / "dup.h5"
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [b"conv2d_1"]
        group = f.create_group("conv2d_1")
        group.attrs["weight_names"] = [b"conv2d_1/kernel:0", b"conv2d_1/kernel:1"]
        group.create_dataset("conv2d_1/kernel:0", data=np.zeros((1, 1, 1, 1)))
        group.create_dataset("conv2d_1/kernel:1", data=np.zeros((1, 1, 1, 1)))
    with pytest.raises(WeightsError, match="'conv2d_1' has weight 'kernel' twice"):
        read_keras_h5(path)
