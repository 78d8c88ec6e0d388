"""Every command takes its model the same way (``--model``), and the older spellings
(``--weights``, a positional MODEL or CHECKPOINT, ``dream --size``) still work as aliases."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from googlenet.cli import build_parser, main
from googlenet.commands._common import model_sources
from googlenet.models import build_model, get_model_info
from googlenet.recipe import ModelRecipe
from googlenet.weights import WeightsMeta, save_weights

# Each command that runs a model, with the other arguments it needs to parse.
COMMANDS = {
    "predict": ["img.png"], "eval": [], "explain": ["img.png"], "dream": ["img.png"],
    "bench": [], "export": ["--out", "m.onnx"], "diagram": [], "summary": [],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_model_command_takes_model_and_its_weights_alias(command):
    parser = build_parser()
    extra = COMMANDS[command]
    assert model_sources(parser.parse_args([command, *extra, "--model", "a"])) == ["a"]
    assert model_sources(parser.parse_args([command, *extra, "--weights", "f"])) == ["f"]


def test_older_positional_spellings_are_aliases():
    parser = build_parser()
    for command in ("bench", "export", "diagram", "summary"):
        extra = COMMANDS[command]
        assert model_sources(parser.parse_args([command, "googlenet", *extra])) == ["googlenet"]
    ensemble = parser.parse_args(["eval", "a.safetensors", "b.safetensors"])
    assert model_sources(ensemble) == ["a.safetensors", "b.safetensors"]
    flags = parser.parse_args(["eval", "--model", "a.safetensors", "--model", "b.safetensors"])
    assert model_sources(flags) == model_sources(ensemble)
    dream = ["dream", "--noise", "--model", "g"]
    assert parser.parse_args([*dream, "--size", "64"]).input_size == \
        parser.parse_args([*dream, "--input-size", "64"]).input_size == "64"


def test_summary_and_diagram_are_the_same_by_either_spelling(tmp_path, capsys):
    assert main(["summary", "googlenet", "--json"]) == 0
    positional = json.loads(capsys.readouterr().out)
    assert main(["summary", "--model", "googlenet", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == positional
    assert main(["diagram", "googlenet_mnist", "--out", str(tmp_path / "a.svg")]) == 0
    assert main(["diagram", "--model", "googlenet_mnist", "--out", str(tmp_path / "b.svg")]) == 0
    assert (tmp_path / "a.svg").read_text() == (tmp_path / "b.svg").read_text()


@pytest.fixture
def weights(tmp_path):
    recipe = ModelRecipe("inception_a_net")
    meta = WeightsMeta(recipe, tuple("0123456789"),
                       get_model_info("inception_a_net").preprocessing, "test")
    path = tmp_path / "w.safetensors"
    save_weights(path, build_model(recipe).state_dict(), meta)
    return path


def test_predict_by_model_equals_predict_by_weights(weights, tmp_path, capsys):
    image = tmp_path / "digit.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8)).save(image)
    runs = []
    for flag in ("--weights", "--model"):
        assert main(["predict", str(image), flag, str(weights), "--path", "eager",
                     "--json"]) == 0
        runs.append(json.loads(capsys.readouterr().out))
    assert runs[0] == runs[1] and runs[0][0]["top"][0]["label"] in "0123456789"
    # A registry name runs too, and says its weights are random.
    assert main(["predict", str(image), "--model", "inception_a_net", "--path", "eager"]) == 0
    assert "random weights" in capsys.readouterr().err


def test_model_argument_errors_are_one_line(weights, tmp_path, capsys):
    assert main(["summary"]) == 2
    assert "no model given" in capsys.readouterr().err
    assert main(["diagram", "--model", "googlenet", "--model", "googlenet_bn",
                 "--out", str(tmp_path / "x.svg")]) == 2
    assert "give one model" in capsys.readouterr().err
    # bench MODEL --weights FILE (the older spelling): the file must hold MODEL.
    assert main(["bench", "googlenet_mnist", "--weights", str(weights), "--paths", "eager",
                 "--batch", "1", "--rounds", "1"]) == 2
    assert "not googlenet_mnist weights" in capsys.readouterr().err
