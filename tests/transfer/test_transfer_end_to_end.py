"""End to end without internet: Keras writes Inception v3 weights, `googlenet convert`
imports them, `googlenet finetune` trains a new head at mixed7 on an image folder, and
`googlenet predict` beats chance on held-out images. Also Caffe GoogLeNet at inception_4e
through the Python API."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from image_folders import CLASSES, make_image_folder

import googlenet
from googlenet.cli import main
from googlenet.download import Checksum
from googlenet.weights import read_meta
from googlenet.weights.catalogue import get_release
from googlenet.weights.hub import resolve_weights
from tests.http_files import point_catalogue, serve

pytest.importorskip("h5py")


def _keras_notop(path: Path) -> Path:
    """keras.applications.InceptionV3(weights=None, include_top=False) in the legacy h5
    layout of the released ..._notop.h5 file."""
    from tests.weights import keras_helpers as kh

    try:
        keras = kh.import_keras()
    except ImportError as exc:
        pytest.skip(f"Keras 3 with the torch backend is not available: {exc}")
    # Keras numbers auto-named layers per session: start and leave it clean, so tests that
    # run after this one see the names a fresh session gives.
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = keras.applications.InceptionV3(weights=None, include_top=False,
                                           input_shape=(75, 75, 3))
    # Keras' Glorot init shrinks activations by ~1000x over the 40 layers up to mixed7;
    # trained weights keep them O(1), and so does this He-like gain.
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            layer.kernel.assign(layer.kernel * 1.7)
    kh.write_keras2_style_h5(model, path)
    keras.backend.clear_session()
    return path


def _holdout_accuracy(weights: Path, folder: Path, capsys: pytest.CaptureFixture[str]) -> float:
    images = sorted(str(p) for p in folder.rglob("*.jpg"))
    assert main(["predict", *images, "--weights", str(weights), "--topk", "1", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    hits = [r["top"][0]["label"] == Path(r["image"]).parent.name for r in results]
    return sum(hits) / len(hits)


def test_keras_inception_v3_convert_finetune_predict(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    h5 = _keras_notop(tmp_path / "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")
    weights = tmp_path / "inception_v3.safetensors"
    assert main(["convert", str(h5), str(weights), "--from", "keras"]) == 0
    # A notop backbone has no classifier: predicting with it is refused, in one line.
    capsys.readouterr()
    img = next(iter(make_image_folder(tmp_path / "data", {"train": 24, "test": 12,
                                                          "holdout": 12}, size=80)
                    .joinpath("holdout", CLASSES[0]).glob("*.jpg")))
    assert main(["predict", str(img), "--weights", str(weights)]) == 2
    assert "fine-tune it first" in capsys.readouterr().err

    data = tmp_path / "data"
    assert main(["finetune", "--weights", str(weights), "--cut", "mixed7", "--head", "binary",
                 "--data", str(data), "--input-size", "75", "--epochs", "3", "--lr", "5e-4",
                 "--batch-size", "8", "--output", str(tmp_path / "runs"), "--name", "ft",
                 "--progress", "false", "--report", "false"]) == 0
    best = tmp_path / "runs" / "ft" / "best.safetensors"
    assert f"{best}" in capsys.readouterr().out
    config = json.loads((best.parent / "config.json").read_text())
    assert config["recipe"]["cut"] == "mixed7" and config["recipe"]["head"] == "binary"
    assert config["recipe"]["backbone"]["name"] == "inception_v3_keras"
    acc = _holdout_accuracy(best, data / "holdout", capsys)
    print(f"keras inception_v3 mixed7 fine-tune: held-out accuracy {acc:.3f}")
    assert acc >= 0.75  # chance is 0.5


def test_keras_recipe_by_release_name(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's Keras recipe, ``--weights inception_v3_keras.in1k_notop``: the release
    is served by a 127.0.0.1 server under its published file name, checked by md5 (Keras'
    algorithm), converted, cached and fine-tuned, all from the one name."""
    name = "inception_v3_keras.in1k_notop"
    entry = get_release(name)
    (tmp_path / "srv").mkdir()
    h5 = _keras_notop(tmp_path / "srv" / entry.file)
    point_catalogue(monkeypatch, name, Checksum("md5", hashlib.md5(h5.read_bytes()).hexdigest()))
    monkeypatch.setenv("GOOGLENET_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GOOGLENET_OFFLINE", raising=False)
    data = make_image_folder(tmp_path / "data", {"train": 8, "test": 4}, size=80)
    with serve(tmp_path / "srv") as (url, behaviour):
        monkeypatch.setenv("GOOGLENET_WEIGHTS_MIRROR", url)
        assert main(["finetune", "--weights", name, "--cut", "mixed7", "--head", "binary",
                     "--pool", "flatten", "--hidden", "16", "--data", str(data),
                     "--input-size", "75", "--epochs", "1", "--batch-size", "8",
                     "--output", str(tmp_path / "runs"), "--name", "ft",
                     "--progress", "false", "--report", "false"]) == 0
    assert behaviour.gets(entry.file) == [None]
    config = json.loads((tmp_path / "runs" / "ft" / "config.json").read_text())
    assert config["recipe"]["backbone"]["name"] == "inception_v3_keras"
    assert config["recipe"]["cut"] == "mixed7"


def test_bvlc_release_by_name(tmp_path: Path, caffemodel: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """``googlenet.bvlc``: a caffemodel under its zoo name, checked by sha1 (the Caffe
    zoo's algorithm), converted with Caffe's preprocessing, and the paper's model's
    default release."""
    assert caffemodel.name == get_release("googlenet.bvlc").file
    digest = hashlib.sha1(caffemodel.read_bytes()).hexdigest()
    point_catalogue(monkeypatch, "googlenet.bvlc", Checksum("sha1", digest))
    monkeypatch.setenv("GOOGLENET_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GOOGLENET_OFFLINE", raising=False)
    monkeypatch.setenv("GOOGLENET_WEIGHTS_MIRROR", str(caffemodel.parent))  # a local folder
    meta = read_meta(resolve_weights("googlenet.bvlc"))
    assert meta.model == "googlenet" and meta.preprocessing.channel_order == "BGR"
    model = googlenet.create_model("googlenet", pretrained=True, num_classes=3)
    assert model.state_dict()["fc.weight"].shape[0] == 3


def test_caffe_googlenet_finetune_python_api(tmp_path: Path, caffe_safetensors: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from googlenet.transfer import finetune

    data = make_image_folder(tmp_path / "data", {"train": 24, "test": 12, "holdout": 12},
                             size=80, seed=1)
    result = finetune(data, weights=caffe_safetensors, cut="inception_4e",
                      input_size=64, epochs=3, lr=5e-4, batch_size=8,
                      output=str(tmp_path / "runs"), progress=False, report=False,
                      unfreeze=["inception_4e"], unfreeze_epochs=1)
    # One run, two phases: the head for 3 epochs, then inception_4e too at lr / 10.
    assert len(result.history) == 4
    assert [r["lr"] for r in result.history] == pytest.approx([5e-4] * 3 + [5e-5])
    capsys.readouterr()
    acc = _holdout_accuracy(result.weights, data / "holdout", capsys)
    print(f"caffe googlenet inception_4e fine-tune: held-out accuracy {acc:.3f}")
    assert acc >= 0.75
