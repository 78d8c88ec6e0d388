"""BVLC Caffe GoogLeNet import: parity with an independent forward pass, and bad files."""

from __future__ import annotations

import io
from contextlib import redirect_stderr
from pathlib import Path

import numpy as np
import pytest
import torch
from bvlc_reference import bvlc_forward

from googlenet.errors import WeightsError
from googlenet.recipe import ModelRecipe
from googlenet.weights import load_model, load_state_dict
from googlenet.weights.caffe import read_caffemodel, write_caffemodel
from googlenet.weights.convert import convert, import_weights


def test_converted_model_matches_reference_forward(caffemodel: Path, tmp_path: Path) -> None:
    dst = tmp_path / "googlenet.safetensors"
    meta = convert(caffemodel, dst, "caffe")
    assert meta.recipe == ModelRecipe("googlenet", num_classes=1000, aux_logits=True)
    state, read_meta = load_state_dict(dst)
    pre = read_meta.preprocessing
    assert (pre.channel_order, pre.scale, pre.mean, pre.std, pre.input_size) == \
        ("BGR", 255.0, (104.0, 117.0, 123.0), (1.0, 1.0, 1.0), 224)
    assert read_meta.classes[0] == "tench" and len(read_meta.classes) == 1000

    model, _ = load_model(dst)
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    rng = np.random.default_rng(1)
    rgb = torch.from_numpy(rng.integers(0, 256, (2, 3, 224, 224), dtype=np.uint8))
    with torch.no_grad():
        ours = model.forward_train(pre.normalize(rgb))
    # Caffe's own input: OpenCV's BGR pixels, 0..255, minus the BGR mean.
    caffe_in = rgb.flip(1).double() - torch.tensor([104.0, 117.0, 123.0]).view(1, 3, 1, 1)
    blobs = {name: layer.blobs for name, layer in read_caffemodel(caffemodel).items()}
    ref = bvlc_forward(blobs, caffe_in)
    pairs = {"loss3": ours.logits, "loss1": ours.aux["aux_4a"], "loss2": ours.aux["aux_4d"]}
    for name, got in pairs.items():
        diff = (got.double() - ref[name]).abs().max().item()
        print(f"caffe parity {name}: max abs diff {diff:.2e}, max |logit| "
              f"{ref[name].abs().max().item():.2f}")
        assert diff <= 1e-4, name
    # The logits are not trivially small: a broken layer would show.
    assert ref["loss3"].std().item() > 0.05


def test_deploy_file_without_aux_heads(tmp_path: Path, bvlc_layers: dict) -> None:
    path = tmp_path / "deploy.caffemodel"
    write_caffemodel(path, {k: v for k, v in bvlc_layers.items()
                            if not k.startswith(("loss1", "loss2", "data"))}, legacy=True)
    imported = import_weights(path, "caffe")
    assert imported.meta.recipe == ModelRecipe("googlenet", num_classes=1000, aux_logits=False)
    assert not any(k.startswith("aux_") for k in imported.state_dict)


def _write(tmp_path: Path, layers: dict) -> Path:
    path = tmp_path / "bad.caffemodel"
    write_caffemodel(path, layers)
    return path


def _one_line_error(path: Path, match: str, model: str | None = None) -> None:
    with pytest.raises(WeightsError, match=match) as info:
        import_weights(path, "caffe", model)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_layer_is_named(tmp_path: Path, bvlc_layers: dict) -> None:
    layers = {k: v for k, v in bvlc_layers.items() if k != "inception_4c/5x5"}
    _one_line_error(_write(tmp_path, layers), "no layer 'inception_4c/5x5'")


def test_wrong_shape_is_named(tmp_path: Path, bvlc_layers: dict) -> None:
    layers = dict(bvlc_layers)
    # torchvision's variant: a 3x3 kernel in the "5x5" branch.
    w, b = layers["inception_4e/5x5"][1]
    layers["inception_4e/5x5"] = ("Convolution", [w[:, :, 1:4, 1:4].copy(), b])
    _one_line_error(_write(tmp_path, layers),
                    r"layer 'inception_4e/5x5' weight has shape \(128, 32, 3, 3\), but "
                    r"inception_4e\.branch_5x5\.conv\.conv\.weight needs \(128, 32, 5, 5\)")


def test_wrong_network_is_named(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    alexnet = {"conv1": ("Convolution", [rng.standard_normal((96, 3, 11, 11)).astype("f4"),
                                         np.zeros(96, "f4")]),
               "fc8": ("InnerProduct", [np.zeros((1000, 4096), "f4"), np.zeros(1000, "f4")])}
    _one_line_error(_write(tmp_path, alexnet), "no layer 'conv1/7x7_s2'; not the BVLC GoogLeNet")


def test_partial_aux_head_is_named(tmp_path: Path, bvlc_layers: dict) -> None:
    layers = {k: v for k, v in bvlc_layers.items() if k != "loss2/fc"}
    _one_line_error(_write(tmp_path, layers), "no layer 'loss2/fc'")


def test_truncated_file(tmp_path: Path, caffemodel: Path) -> None:
    path = tmp_path / "cut.caffemodel"
    path.write_bytes(caffemodel.read_bytes()[: 5_000_000])
    _one_line_error(path, "corrupt or truncated")


def test_wrong_target_model(caffemodel: Path) -> None:
    _one_line_error(caffemodel, "caffe weights load into googlenet, not 'googlenet_bn'",
                    model="googlenet_bn")


def test_cli_convert(caffemodel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                     ) -> None:
    from googlenet.cli import main

    dst = tmp_path / "g.safetensors"
    assert main(["convert", str(caffemodel), str(dst), "--from", "caffe"]) == 0
    out, err = capsys.readouterr()
    assert dst.is_file() and "googlenet(num_classes=1000) from caffe (1000 classes)" in out
    assert "BGR" in out and err == ""  # no progress drawn: stderr is not a terminal
    assert main(["convert", str(caffemodel), str(dst), "--from", "caffe",
                 "--model", "inception_v3"]) == 2
    err = capsys.readouterr().err
    assert "caffe weights load into googlenet" in err and "\n" not in err.strip()


def test_convert_names_its_steps_on_a_terminal(caffemodel: Path, tmp_path: Path,
                                                fake_tty: io.StringIO) -> None:
    # (test_cli_convert checks that nothing is drawn when stderr is not a terminal.)
    with redirect_stderr(fake_tty):
        convert(caffemodel, tmp_path / "g.safetensors", "caffe")
    drawn = fake_tty.getvalue()
    assert all(f"{step}..." in drawn for step in ("reading", "mapping", "writing"))
    assert "\rconvert bvlc_googlenet.caffemodel [" in drawn and "done in" in drawn
