"""The Inception-ResNets in every command: summary, info, train, finetune, eval, predict,
export (ONNX, checked by onnxruntime) and bench.

The small one trains for real (a few AdamW steps on synthetic 28x28 images, well above
chance) and its file goes through every other command in the default suite. The
full-size ones go through the same commands at their minimum input size from a freshly
initialised weights file; an ONNX export alone takes about a minute on 2 cores, so they
are marked slow.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from image_folders import make_image_folder
from PIL import Image

from googlenet import create_model, get_model_info
from googlenet.cli import main
from googlenet.recipe import ModelRecipe
from googlenet.weights import read_meta
from googlenet.weights.loader import save_weights
from googlenet.weights.meta import WeightsMeta

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning",
                                        "ignore::FutureWarning", "ignore::UserWarning")
FULL = ("inception_resnet_v2", "inception_resnet_v1", "inception_resnet_v1_facenet")
SMALL = ("inception_resnet_mnist", "inception_resnet_cifar")


def _json(capsys, *argv: str) -> object:
    assert main(list(argv)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("name", FULL + SMALL)
def test_summary_and_info(name, capsys):
    rows = _json(capsys, "summary", name, "--branches", "--json")["rows"]
    blocks = [r for r in rows if "branch_costs" in r]
    residual = [r for r in blocks if r["branch_costs"][-1]["name"] == "conv2d"]
    assert residual and len(residual) == sum(r["name"].startswith("block") for r in rows)
    for r in blocks:  # the residual projection is a row of its block, and the sum holds
        assert sum(b["params"] for b in r["branch_costs"]) == r["params"]
        assert sum(b["macs"] for b in r["branch_costs"]) == r["macs"]
    info = _json(capsys, "info", name, "--json")
    assert sum(r["params"] for r in rows) == info["num_params"]
    assert info["min_input_size"] == get_model_info(name).min_input_size


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("images")
    photo = root / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
                    ).save(photo)
    return {"photo": photo,
            "two": make_image_folder(root / "two", {"test": 2}, size=40),
            "flat": make_image_folder(root / "flat", {"all": 4}, size=40) / "all"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``googlenet train`` of the small Inception-ResNet: 2 epochs of 20 AdamW steps.

    Its batch norms' running statistics (momentum 0.1) lag the quickly changing weights:
    evaluated after 16-24 steps the model is still at chance while its training accuracy
    climbs (googlenet_mnist_wide behaves the same); by 40 steps it is well above.
    """
    out = tmp_path_factory.mktemp("runs")
    assert main(["train", "--model", "inception_resnet_mnist", "--dataset", "synthetic",
                 "--epochs", "2", "--batch-size", "32", "--train-limit", "640",
                 "--eval-limit", "128", "--optimizer", "adamw", "--lr", "2e-3",
                 "--schedule", "constant", "--output", str(out), "--name", "irn",
                 "--progress", "false", "--report", "false"]) == 0
    return out / "irn"


def test_small_inception_resnet_learns(trained):
    history = json.loads((trained / "metrics.json").read_text())
    # 10 synthetic classes: chance is 0.1.
    assert history[-1]["val_acc"] > 0.25
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert read_meta(trained / "best.safetensors").recipe.name == "inception_resnet_mnist"


def _commands(weights: Path, images: dict[str, Path], size: int, cut: str, eval_args: list[str],
              out: Path, capsys) -> None:
    """predict, eval, bench, export --format onnx and finetune --cut on one file."""
    (result,) = _json(capsys, "predict", str(images["photo"]), "--weights", str(weights),
                      "--topk", "2", "--json", "--path", "eager")
    assert result["top"][0]["label"] in read_meta(weights).classes
    assert _json(capsys, "eval", str(weights), *eval_args, "--limit", "2", "--out", str(out),
                 "--json", "--path", "eager")["count"] == 2
    rows = _json(capsys, "bench", "--weights", str(weights), "--input-size", str(size),
                 "--batch", "1", "--rounds", "1", "--paths", "eager,fused", "--json")
    assert all(r["passed"] for r in rows["results"])
    onnx = _json(capsys, "export", "--weights", str(weights), "--input-size", str(size),
                 "--format", "onnx", "--out", str(out / "model.onnx"), "--json")
    assert onnx["max_abs_diff"] < 1e-3
    assert main(["finetune", "--weights", str(weights), "--cut", cut, "--input-size",
                 str(size), "--data", str(images["flat"]), "--val-split", "0.5", "--epochs",
                 "1", "--batch-size", "2", "--output", str(out), "--name", "ft",
                 "--progress", "false", "--report", "false"]) == 0, capsys.readouterr().err
    meta = read_meta(out / "ft" / "best.safetensors")
    assert meta.model == read_meta(weights).model and len(meta.classes) == 2


def test_the_trained_file_goes_through_every_command(trained, images, tmp_path, capsys):
    _commands(trained / "best.safetensors", images, 28, "block17_4",
              ["--dataset", "synthetic"], tmp_path, capsys)


@pytest.mark.slow
@pytest.mark.parametrize("name", FULL)
def test_full_size_models_go_through_every_command(name, images, tmp_path, capsys):
    info = get_model_info(name)
    size = info.min_input_size
    model = create_model(name, num_classes=2)
    pre = replace(info.preprocessing, input_size=size, resize_size=size)
    weights = tmp_path / f"{name}.safetensors"
    save_weights(weights, model.state_dict(), WeightsMeta(
        ModelRecipe(name, num_classes=2), ("cats", "dogs"), pre, "test: fresh"))
    _commands(weights, images, size, "mixed_6a",
              ["--dataset", "folder", "--data", str(images["two"])], tmp_path, capsys)
