"""safetensors save/load with metadata, state-dict checks, and safe .pth loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from googlenet.errors import WeightsError
from googlenet.weights.safetensors_io import (
    check_state_dict,
    load_safetensors,
    load_torch_state_dict,
    read_safetensors_metadata,
    save_safetensors,
    validate_metadata,
)

META = {
    "source": "test: tiny net",
    "mean": [0.485, 0.456, 0.406],
    "std": (0.229, 0.224, 0.225),
    "scale": 1.0,
    "channel_order": "RGB",
    "input_size": 224,
    "class_names": ["tench", "goldfish", "naïve ☃"],
    "note": "42",  # a string that looks like JSON must come back as a string
}


def _model() -> nn.Module:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Linear(4, 2))
    model.eval()
    return model


def test_roundtrip_tensors_and_metadata(tmp_path: Path) -> None:
    model = _model()
    path = tmp_path / "w.safetensors"
    save_safetensors(path, model.state_dict(), META)
    state, meta = load_safetensors(path, expected=model)
    assert list(state) == list(model.state_dict())
    for key, value in model.state_dict().items():
        assert torch.equal(state[key], value)
    assert meta["mean"] == [0.485, 0.456, 0.406]
    assert meta["std"] == [0.229, 0.224, 0.225]  # tuples come back as lists (JSON)
    assert meta["input_size"] == 224 and meta["scale"] == 1.0
    assert meta["class_names"][2] == "naïve ☃"
    assert meta["note"] == "42" and meta["format"] == "pt"
    assert read_safetensors_metadata(path) == meta
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was moved, not left


def test_tied_and_noncontiguous_tensors_are_saved(tmp_path: Path) -> None:
    weight = torch.randn(4, 6)
    state = {"a": weight, "b": weight, "c": weight.t()}
    save_safetensors(tmp_path / "t.safetensors", state)
    loaded, _ = load_safetensors(tmp_path / "t.safetensors")
    assert torch.equal(loaded["c"], weight.t())


def test_failed_save_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    save_safetensors(path, {"x": torch.ones(2)})
    with pytest.raises(WeightsError, match="not a tensor"):
        save_safetensors(path, {"x": torch.ones(2), "y": 3})  # type: ignore[dict-item]
    assert torch.equal(load_safetensors(path)[0]["x"], torch.ones(2))


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"mean": [1, 2]}, "'mean' must be 1 or 3 numbers"),
        ({"std": [1, 0, 1]}, "'std' must be positive"),
        ({"scale": 0}, "'scale' must be a positive number"),
        ({"channel_order": "rgb"}, "'channel_order'"),
        ({"input_size": [224, 0]}, "'input_size'"),
        ({"class_names": "cat"}, "'class_names'"),
        ({"source": 3}, "'source' must be a string"),
        ({"extra": object()}, "not JSON-serialisable"),
    ],
)
def test_bad_metadata(tmp_path: Path, metadata: dict, message: str) -> None:
    with pytest.raises(WeightsError, match=message):
        save_safetensors(tmp_path / "w.safetensors", {"x": torch.ones(1)}, metadata)
    assert not list(tmp_path.iterdir())


def test_validate_accepts_caffe_style() -> None:
    validate_metadata(
        {"mean": (104, 117, 123), "std": (1, 1, 1), "scale": 255, "channel_order": "BGR"}
    )


def test_mismatches_name_key_and_shapes(tmp_path: Path) -> None:
    model = _model()
    state = dict(model.state_dict())
    path = tmp_path / "w.safetensors"

    missing = {k: v for k, v in state.items() if not k.startswith("1.")}
    save_safetensors(path, missing)
    with pytest.raises(
        WeightsError, match=r"w\.safetensors: missing key '1\.weight' \(and 3 more\)"
    ):
        load_safetensors(path, expected=model)

    save_safetensors(path, {**state, "extra.bias": torch.zeros(1)})
    with pytest.raises(WeightsError, match="unexpected key 'extra.bias'$"):
        load_safetensors(path, expected=model.state_dict())

    save_safetensors(path, {**state, "2.weight": torch.zeros(3, 4)})
    with pytest.raises(
        WeightsError, match=r"'2\.weight': file has \(3, 4\), model expects \(2, 4\)"
    ):
        load_safetensors(path, expected=model)


def test_check_state_dict_passes_on_match() -> None:
    model = _model()
    check_state_dict(model.state_dict(), model, source="mem")


@pytest.mark.parametrize("cut", [0, 5, 40, -3])
def test_truncated_safetensors(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "w.safetensors"
    save_safetensors(path, _model().state_dict(), META)
    raw = path.read_bytes()
    path.write_bytes(raw[:cut])
    with pytest.raises(WeightsError, match=r"w\.safetensors: not a readable safetensors") as info:
        load_safetensors(path)
    assert "\n" not in str(info.value)
    with pytest.raises(WeightsError):
        read_safetensors_metadata(path)


def test_missing_files(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="safetensors file not found"):
        load_safetensors(tmp_path / "nope.safetensors")
    with pytest.raises(WeightsError, match="PyTorch weights file not found"):
        load_torch_state_dict(tmp_path / "nope.pth")


def test_torch_state_dict_plain_and_wrapped(tmp_path: Path) -> None:
    model = _model()
    torch.save(model.state_dict(), tmp_path / "a.pth")
    torch.save({"epoch": 3, "state_dict": model.state_dict()}, tmp_path / "b.pth")
    for name in ("a.pth", "b.pth"):
        state = load_torch_state_dict(tmp_path / name, expected=model)
        assert torch.equal(state["0.weight"], model.state_dict()["0.weight"])


def test_torch_state_dict_refuses_pickled_objects(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    torch.save({"model": _model()}, path)  # a pickled module, not a state dict
    with pytest.raises(WeightsError, match=r"evil\.pth: not a weights-only PyTorch file") as info:
        load_torch_state_dict(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("content", [b"", b"garbage" * 10, None], ids=["empty", "junk", "cut"])
def test_torch_state_dict_corrupt(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "bad.pth"
    if content is None:
        torch.save(_model().state_dict(), path)
        content = path.read_bytes()[:-100]
    path.write_bytes(content)
    with pytest.raises(WeightsError, match=r"bad\.pth: ") as info:
        load_torch_state_dict(path)
    assert "\n" not in str(info.value)


def test_torch_file_without_tensors(tmp_path: Path) -> None:
    torch.save({"lr": 0.1}, tmp_path / "cfg.pth")
    with pytest.raises(WeightsError, match="does not contain a state dict"):
        load_torch_state_dict(tmp_path / "cfg.pth")
