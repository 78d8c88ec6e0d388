"""Every command reads every weights file, whoever wrote it.

The matrix: files from ``convert`` (Caffe, torchvision, Keras, timm's Inception-v4 and
Cadene's BN-Inception), from ``train`` and from ``finetune``, each through ``predict``,
``eval``, ``export --format onnx``, ``export --format pt2``, ``bench``, ``explain`` and
``dream``; and each as the starting point of ``finetune --weights``. Exports, explain
pages and dreams of the three full-size Inception networks (v3 twice, v4) and
torchvision's GoogLeNet take up to a minute each on 2 cores and are marked slow;
everything else runs in the default suite.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from image_folders import make_image_folder
from PIL import Image

from googlenet.cli import main
from googlenet.deploy.export import read_onnx_metadata, read_program_metadata
from googlenet.weights import read_meta

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning",
                                        "ignore::FutureWarning", "ignore::UserWarning")
SOURCES = ("caffe", "torchvision", "keras", "timm", "cadene", "trained", "finetuned")
BIG = ("torchvision", "keras", "timm")  # exports, explain pages and dreams of these are slow
CONVERTED = ("caffe", "cadene", *BIG)
# Where finetune cuts each file's backbone, and at which input size (v3 and v4 need 75).
CUTS = {"keras": ("mixed0", "80"), "timm": ("Mixed_5b", "80"), "trained": ("inception_3b", None)}


def _timm_file(root: Path, name: str, ref: Any, size: int) -> Path:
    with torch.no_grad():
        ref(torch.zeros(1, 3, size, size))  # creates the weights
    torch.save(ref.sd, root / name)
    out = root / f"{name}.safetensors"
    assert main(["convert", str(root / name), str(out), "--from", "timm"]) == 0
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, caffe_safetensors: Path) -> dict[str, Path]:
    """One weights file per source."""
    root = tmp_path_factory.mktemp("matrix")
    out = {"caffe": caffe_safetensors}
    from tests.weights.timm_reference import BNInceptionRef, InceptionV4Ref
    from tests.weights.tv_reference import GoogLeNetRef

    ref = GoogLeNetRef(seed=2)
    with torch.no_grad():
        ref(torch.zeros(1, 3, 224, 224))
    torch.save(ref.sd, root / "googlenet-1378be20.pth")
    assert main(["convert", str(root / "googlenet-1378be20.pth"), str(root / "tv.safetensors"),
                 "--from", "torchvision"]) == 0
    out["torchvision"] = root / "tv.safetensors"
    out["timm"] = _timm_file(root, "inceptionv4-8e4777a0.pth", InceptionV4Ref(seed=3), 75)
    out["cadene"] = _timm_file(root, "bn_inception-52deb4733.pth", BNInceptionRef(seed=4), 32)

    pytest.importorskip("h5py")
    from tests.weights import keras_helpers as kh

    try:
        keras = kh.import_keras()
    except ImportError as exc:
        pytest.skip(f"Keras 3 with the torch backend is not available: {exc}")
    keras.backend.clear_session()
    kh.write_keras2_style_h5(kh.build_inception_v3(), root / "v3.h5")
    keras.backend.clear_session()
    assert main(["convert", str(root / "v3.h5"), str(root / "keras.safetensors"),
                 "--from", "keras"]) == 0
    out["keras"] = root / "keras.safetensors"

    assert main(["train", "--model", "googlenet_mnist", "--width", "0.125", "--dataset",
                 "synthetic", "--epochs", "1", "--batch-size", "32", "--train-limit", "64",
                 "--eval-limit", "32", "--output", str(root), "--name", "trained",
                 "--progress", "false", "--report", "false"]) == 0
    out["trained"] = root / "trained" / "best.safetensors"

    data = make_image_folder(root / "photos", {"train": 6, "test": 4}, size=48)
    assert main(["finetune", "--weights", str(caffe_safetensors), "--cut", "inception_3b",
                 "--input-size", "48", "--data", str(data), "--epochs", "1", "--batch-size",
                 "4", "--output", str(root), "--name", "finetuned", "--progress", "false",
                 "--report", "false"]) == 0
    out["finetuned"] = root / "finetuned" / "best.safetensors"
    return out


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A photo, a 1000-class ImageNet-style folder (one tiny image per class), and the
    fine-tuning folder's classes."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    photo = root / "photo.png"
    Image.fromarray(rng.integers(0, 256, (70, 90, 3), dtype=np.uint8)).save(photo)
    imagenet = root / "imagenet" / "val"
    for i in range(1000):
        (imagenet / f"n{i:08d}").mkdir(parents=True)
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(
            imagenet / f"n{i:08d}" / "a.png")
    return {"photo": photo, "imagenet": imagenet.parent,
            "two": make_image_folder(root / "two", {"test": 2}, size=48),
            "flat": make_image_folder(root / "flat", {"all": 4}, size=48) / "all"}


def _eval_args(source: str, images: dict[str, Path]) -> list[str]:
    if source == "trained":
        return ["--dataset", "synthetic"]
    if source == "finetuned":
        return ["--dataset", "folder", "--data", str(images["two"])]
    return ["--dataset", "folder", "--data", str(images["imagenet"]), "--split", "val"]


def _small(source: str) -> list[str]:
    # The converted networks run at a smaller size where only the graph matters.
    return ["--input-size", "96"] if source in CONVERTED else []


@pytest.mark.parametrize("source", SOURCES)
def test_predict_and_eval(source, files, images, tmp_path, capsys):
    path = files[source]
    # --path eager: choosing the fastest path (the default) is tested on its own.
    assert main(["predict", str(images["photo"]), "--weights", str(path), "--topk", "2",
                 "--json", "--path", "eager"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert len(result["top"]) == 2 and result["top"][0]["label"] in read_meta(path).classes
    assert main(["eval", str(path), *_eval_args(source, images), "--limit", "2",
                 "--out", str(tmp_path), "--json", "--path", "eager"]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 2


def test_eval_of_a_folder_without_the_split_says_what_it_scores(files, images, tmp_path,
                                                              capsys):
    # A fine-tuning folder without test/: eval scores every image and says so, since
    # those may be the images the model trained on.
    assert main(["eval", str(files["finetuned"]), "--dataset", "folder", "--data",
                 str(images["flat"]), "--out", str(tmp_path), "--path", "eager"]) == 0
    out, err = capsys.readouterr()
    assert f"WARNING: {images['flat']} has no 'test' sub-folder" in err
    assert "folder/all: 8 images" in out and "eval-folder-all-1crop.json" in out


@pytest.mark.parametrize("source", [
    *(pytest.param(s, marks=pytest.mark.slow) if s in BIG else s for s in SOURCES)])
def test_explain_and_dream(source, files, images, tmp_path, capsys):
    path = files[source]
    meta = read_meta(path)
    assert main(["explain", str(images["photo"]), "--weights", str(path), *_small(source),
                 "--maps", "1", "--ig-steps", "1", "--topk", "1", "--out", str(tmp_path)]) == 0
    html = (tmp_path / "explain.html").read_text()
    assert 'id="random-weights"' not in html and str(path) in html
    if meta.headless:  # a Keras "notop" backbone: its blocks, no class to explain
        assert "no classifier" in html and "Grad-CAM" not in html.split("<section")[-1]
    else:
        assert "Grad-CAM at" in html
    size = ["--size", "96"] if _small(source) else []
    assert main(["dream", str(images["photo"]), "--weights", str(path), *size, "--octaves",
                 "1", "--steps", "1", "--out", str(tmp_path / "dream.png")]) == 0
    assert (tmp_path / "dream.png").stat().st_size > 0


@pytest.mark.parametrize("source", SOURCES)
def test_bench(source, files, capsys):
    assert main(["bench", "--weights", str(files[source]), *_small(source), "--batch", "1",
                 "--rounds", "1", "--paths", "eager,fused", "--baseline", "none", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["results"]
    assert {r["path"] for r in rows} == {"eager", "fused"} and all(r["passed"] for r in rows)


def _normal_mode(folder: Path) -> int:
    probe = folder / "probe"
    probe.write_text("")
    return stat.S_IMODE(os.stat(probe).st_mode)


@pytest.mark.parametrize("fmt", ["onnx", "pt2"])
@pytest.mark.parametrize("source", [
    *(pytest.param(s, marks=pytest.mark.slow) if s in BIG else s for s in SOURCES)])
def test_export(source, fmt, files, tmp_path, capsys):
    path = files[source]
    out = tmp_path / f"model.{fmt}"
    assert main(["export", "--weights", str(path), *_small(source), "--format", fmt,
                 "--out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["max_abs_diff"] < 1e-3
    # The graph file carries what its user needs, and is readable like any file.
    meta = read_onnx_metadata(out) if fmt == "onnx" else read_program_metadata(out)
    want = read_meta(path)
    assert json.loads(meta["class_names"]) == list(want.classes)
    assert json.loads(meta["mean"]) == list(want.preprocessing.mean)
    assert meta["channel_order"] == want.preprocessing.channel_order
    assert json.loads(meta["recipe"]) == want.recipe.to_dict() and "training" not in meta
    assert stat.S_IMODE(os.stat(out).st_mode) == _normal_mode(tmp_path)


@pytest.mark.parametrize("source", SOURCES)
def test_finetune_from_every_file(source, files, images, tmp_path, capsys):
    path = files[source]
    cut, size = CUTS.get(source, ("inception_3b", "48"))
    args = ["finetune", "--weights", str(path), "--data", str(images["flat"]), "--val-split",
            "0.5", "--epochs", "1", "--batch-size", "2", "--output", str(tmp_path),
            "--name", "ft", "--progress", "false", "--report", "false"]
    if source != "finetuned":  # a fine-tuned file goes on with its own cut
        args += ["--cut", cut]
    if size:  # the 28x28 model keeps its size
        args += ["--input-size", size]
    assert main(args) == 0, capsys.readouterr().err
    meta = read_meta(tmp_path / "ft" / "best.safetensors")
    assert meta.model == read_meta(path).model and len(meta.classes) == 2
