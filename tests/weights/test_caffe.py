"""The hand-written caffemodel reader and writer."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from googlenet.errors import WeightsError
from googlenet.weights.caffe import (
    bvlc_googlenet_layer_names,
    bvlc_googlenet_layers,
    read_caffemodel,
    write_caffemodel,
)
from googlenet.weights.sources import release


def _small_googlenet_layers(rng: np.random.Generator) -> dict[str, tuple[str, list[np.ndarray]]]:
    """BVLC GoogLeNet's real layer names and types, with tiny random blobs."""
    layers: dict[str, tuple[str, list[np.ndarray]]] = {"data": ("Input", [])}
    for name, type_ in bvlc_googlenet_layers():
        out_ch = int(rng.integers(2, 5))
        if type_ == "Convolution":
            weight = rng.standard_normal((out_ch, 3, 3, 3), dtype=np.float32)
        else:
            weight = rng.standard_normal((out_ch, 7), dtype=np.float32)
        bias = rng.standard_normal(out_ch, dtype=np.float32)
        layers[name] = (type_, [weight, bias])
        layers[name.replace("/", "/relu_")] = ("ReLU", [])
    return layers


def test_googlenet_layer_names_follow_table_1() -> None:
    names = bvlc_googlenet_layer_names()
    assert names[:4] == ["conv1/7x7_s2", "conv2/3x3_reduce", "conv2/3x3", "inception_3a/1x1"]
    assert names[-1] == "loss3/classifier"
    # 3 stem convs + 9 modules x 6 convs + 2 aux heads x 3 layers + final classifier.
    assert len(names) == 3 + 9 * 6 + 2 * 3 + 1 == len(set(names))
    # The aux heads sit right after the module they branch from.
    i4a = names.index("inception_4a/pool_proj")
    assert names[i4a + 1 : i4a + 4] == ["loss1/conv", "loss1/fc", "loss1/classifier"]
    assert names.index("loss2/conv") == names.index("inception_4d/pool_proj") + 1
    deploy = bvlc_googlenet_layer_names(aux_after={})
    assert not any(n.startswith(("loss1", "loss2")) for n in deploy)
    types = dict(bvlc_googlenet_layers())
    assert types["loss1/fc"] == "InnerProduct" and types["loss1/conv"] == "Convolution"


def test_unknown_aux_block_is_rejected() -> None:
    with pytest.raises(ValueError, match="6z"):
        bvlc_googlenet_layers(aux_after={"6z": "loss9"})


def test_preprocessing_facts() -> None:
    pre = release("caffe", "googlenet").preprocessing
    assert pre.channel_order == "BGR"
    assert pre.mean == (104.0, 117.0, 123.0)
    assert pre.scale == 255.0 and pre.input_size == 224 and pre.resize_size == 256


@pytest.mark.parametrize("legacy", [False, True], ids=["layer", "v1-layers"])
def test_roundtrip_keeps_names_types_order_and_values(tmp_path: Path, legacy: bool) -> None:
    rng = np.random.default_rng(0)
    layers = _small_googlenet_layers(rng)
    path = tmp_path / "net.caffemodel"
    if legacy:
        layers["data"] = ("Data", [])  # "Input" has no V1 enum value
    write_caffemodel(path, layers, legacy=legacy)
    read = read_caffemodel(path)
    assert list(read) == list(layers)
    for name, (type_, blobs) in layers.items():
        assert read[name].type == type_
        assert len(read[name].blobs) == len(blobs)
        for got, want in zip(read[name].blobs, blobs, strict=True):
            assert got.dtype == np.float32
            if legacy:
                # V1 files store 4-D shapes padded with leading 1s.
                assert got.ndim == 4 and got.size == want.size
                got = got.reshape(want.shape)
            else:
                assert got.shape == want.shape
            np.testing.assert_array_equal(got, want)


def _key(field: int, wire: int) -> bytes:
    # Protobuf field keys are varints; fields 16..2047 need two bytes.
    if field < 16:
        return bytes([field << 3 | wire])
    return bytes([(field << 3 | wire) & 0x7F | 0x80, field >> 4])


def _len(field: int, payload: bytes) -> bytes:
    assert len(payload) < 128
    return _key(field, 2) + bytes([len(payload)]) + payload


def test_reads_unpacked_floats_double_data_and_scalar_shape(tmp_path: Path) -> None:
    # Hand-made bytes: data as separate fixed32 fields, double_data, and a 0-d shape.
    unpacked = _key(5, 5) + struct.pack("<f", 1.5) + _key(5, 5) + struct.pack("<f", -2.0)
    blob_a = unpacked + _len(7, _len(1, bytes([2])))  # shape {dim: 2}
    blob_b = _len(8, struct.pack("<d", 0.25)) + _len(7, b"")  # scalar: shape {}
    layer = _len(1, b"s") + _len(2, b"Scale") + _len(7, blob_a) + _len(7, blob_b)
    path = tmp_path / "x.caffemodel"
    path.write_bytes(_len(1, b"n") + _key(100, 2) + bytes([len(layer)]) + layer)
    got = read_caffemodel(path)["s"]
    assert got.type == "Scale"
    np.testing.assert_array_equal(got.blobs[0], np.array([1.5, -2.0], dtype=np.float32))
    assert got.blobs[1].shape == () and float(got.blobs[1]) == 0.25


def test_truncated_file_names_file_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "net.caffemodel"
    write_caffemodel(path, {"conv1/7x7_s2": ("Convolution", [np.ones((2, 3, 7, 7), np.float32)])})
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - 17])
    with pytest.raises(WeightsError, match=r"net\.caffemodel: corrupt or truncated .* at byte \d+"):
        read_caffemodel(path)


def test_shape_and_data_disagree(tmp_path: Path) -> None:
    blob = _len(5, struct.pack("<3f", 1, 2, 3)) + _len(7, _len(1, bytes([2, 2])))
    layer = _len(1, b"fc") + _len(2, b"InnerProduct") + _len(7, blob)
    path = tmp_path / "bad.caffemodel"
    path.write_bytes(_key(100, 2) + bytes([len(layer)]) + layer)
    with pytest.raises(WeightsError, match=r"layer 'fc' blob 0: shape \(2, 2\) needs 4 values"):
        read_caffemodel(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no layers found"),
        (b"hello, this is plainly not a protobuf", "corrupt or truncated"),
        (bytes(range(256)) * 4, "corrupt or truncated"),
        (b"\x89HDF\r\n\x1a\n" + b"\0" * 64, "HDF5"),
    ],
    ids=["empty", "text", "bytes", "hdf5"],
)
def test_garbage_is_a_weights_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "junk.caffemodel"
    path.write_bytes(content)
    with pytest.raises(WeightsError, match=message) as info:
        read_caffemodel(path)
    assert "junk.caffemodel" in str(info.value) and "\n" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="not found"):
        read_caffemodel(tmp_path / "nope.caffemodel")


def test_duplicate_weighted_layer_is_rejected(tmp_path: Path) -> None:
    one = _len(1, b"c") + _len(2, b"Convolution") + _len(7, _len(5, struct.pack("<f", 1.0)))
    path = tmp_path / "dup.caffemodel"
    path.write_bytes((_key(100, 2) + bytes([len(one)]) + one) * 2)
    with pytest.raises(WeightsError, match="'c' appears twice"):
        read_caffemodel(path)


def test_preprocessing_is_valid_safetensors_metadata() -> None:
    from googlenet.weights.safetensors_io import validate_metadata

    validate_metadata(release("caffe", "googlenet").preprocessing.to_dict())
