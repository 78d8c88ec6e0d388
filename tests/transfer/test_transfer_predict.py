"""``googlenet predict``: labels, probabilities and preprocessing from the weights' metadata."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from bvlc_reference import bvlc_forward
from PIL import Image

from googlenet.cli import main
from googlenet.weights.caffe import read_caffemodel
from googlenet.weights.imagenet import imagenet_class_names


def _image(path: Path, size: tuple[int, int], seed: int) -> Path:
    rng = np.random.default_rng(seed)
    # Smooth colour blobs, so resizing matters but does not wash everything out.
    small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    Image.fromarray(small).resize(size, Image.Resampling.BICUBIC).save(path)
    return path


def test_predict_imagenet_labels_match_caffe_reference(
    tmp_path: Path, caffemodel: Path, caffe_safetensors: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    img = _image(tmp_path / "photo.png", (300, 260), seed=3)
    assert main(["predict", str(img), "--weights", str(caffe_safetensors), "--topk", "3",
                 "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    labels = [t["label"] for t in result["top"]]
    probs = [t["probability"] for t in result["top"]]
    assert len(labels) == 3 and probs == sorted(probs, reverse=True)
    # The reference: Caffe's own preprocessing of the same 256-resized, 224-cropped pixels.
    from googlenet.data.folder import load_image, pil_to_tensor
    from googlenet.data.transforms import center_crop, resize

    rgb = center_crop(resize(pil_to_tensor(load_image(img))[None], 256), 224)
    caffe_in = rgb.flip(1).double() - torch.tensor([104.0, 117.0, 123.0]).view(1, 3, 1, 1)
    blobs = {name: layer.blobs for name, layer in read_caffemodel(caffemodel).items()}
    ref = bvlc_forward(blobs, caffe_in)["loss3"].softmax(1)[0]
    top = ref.topk(3)
    names = imagenet_class_names()
    assert labels == [names[int(i)] for i in top.indices]
    np.testing.assert_allclose(probs, top.values.numpy(), atol=1e-5)


def test_predict_text_output(tmp_path: Path, caffe_safetensors: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    imgs = [str(_image(tmp_path / f"{i}.jpg", (224, 224), seed=i)) for i in range(2)]
    assert main(["predict", *imgs, "--weights", str(caffe_safetensors)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == imgs[0] and lines[6] == imgs[1] and len(lines) == 12
    assert lines[1].strip().endswith(tuple(imagenet_class_names())) and "%" in lines[1]


def test_corrupt_image_is_skipped_with_one_line_naming_it(
    tmp_path: Path, caffe_safetensors: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    # One bad file among good ones never aborts the batch: it is named, skipped, counted.
    good = _image(tmp_path / "good.png", (224, 224), seed=0)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    assert main(["predict", str(good), str(bad), "--weights", str(caffe_safetensors)]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == str(good) and str(bad) not in captured.out
    skips = [line for line in captured.err.splitlines() if str(bad) in line]
    assert len(skips) == 1 and "cannot read image" in skips[0]
    assert "skipped 1 of 2 files" in captured.err


def test_weights_without_metadata_are_refused(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from safetensors.torch import save_file

    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(plain))
    img = _image(tmp_path / "x.png", (64, 64), seed=0)
    assert main(["predict", str(img), "--weights", str(plain)]) == 2
    err = capsys.readouterr().err
    assert "plain.safetensors" in err and "googlenet convert" in err


def test_eval_pipeline_takes_imported_bgr_weights(caffemodel: Path, caffe_safetensors: Path,
                                                   ) -> None:
    # `googlenet eval` applies the weights' own preprocessing: BGR pixels in 0..255 minus
    # Caffe's mean, exactly as the reference forward pass gets them.
    from googlenet.data import TensorImageDataset
    from googlenet.evaluate import load_models, predict_dataset

    # 256x256 images: the weights' resize (256) is a no-op and 1-crop is the center 224.
    rng = np.random.default_rng(5)
    images = torch.from_numpy(rng.integers(0, 256, (2, 3, 256, 256), dtype=np.uint8))
    dataset = TensorImageDataset(images, torch.tensor([0, 1]), imagenet_class_names())
    (loaded,) = load_models([caffe_safetensors], torch.device("cpu"))
    pre = loaded.loaded.preprocessing
    assert pre.input_size == 224 and len(loaded.loaded.classes) == 1000
    assert pre.resize_size == 256 and pre.channel_order == "BGR"
    probs, _ = predict_dataset([loaded], dataset)
    crops = images[..., 16:240, 16:240]
    caffe_in = crops.flip(1).double() - torch.tensor([104.0, 117.0, 123.0]).view(1, 3, 1, 1)
    blobs = {name: layer.blobs for name, layer in read_caffemodel(caffemodel).items()}
    ref = bvlc_forward(blobs, caffe_in)["loss3"].softmax(1)
    np.testing.assert_allclose(probs.numpy(), ref.numpy(), atol=1e-5)


def test_eval_and_predict_refuse_a_headless_backbone(tmp_path: Path, capsys) -> None:
    # A Keras "notop" file converted has no trained classifier: scoring classes with it
    # would report chance-level numbers as if they meant something.
    from googlenet.models import create_model, get_model_info
    from googlenet.recipe import ModelRecipe
    from googlenet.weights import WeightsMeta, save_weights

    path = tmp_path / "notop.safetensors"
    recipe = ModelRecipe("googlenet_mnist", num_classes=0, width=0.125)
    meta = WeightsMeta(recipe, (), get_model_info("googlenet_mnist").preprocessing,
                       source="keras:notop.h5")
    assert meta.headless
    save_weights(path, create_model(**{"name": recipe.name, **recipe.kwargs()}).state_dict(),
                 meta)
    image = _image(tmp_path / "x.png", (40, 40), seed=1)
    for argv in (["eval", str(path), "--dataset", "synthetic"],
                 ["predict", str(image), "--weights", str(path)]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert str(path) in err and "fine-tune it first" in err and "\n" not in err
