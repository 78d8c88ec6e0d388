"""``explain`` and ``dream`` take a data set's image by ``--dataset NAME --index N``: the
sample is written as a PNG into the output folder and used as the image (issue 31.5)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from googlenet.cli import main
from googlenet.data import build_dataset
from googlenet.data.samples import write_sample_png


def test_the_png_holds_the_samples_pixels_and_its_class(tmp_path):
    dataset = build_dataset("synthetic", "test")
    image, label = dataset[7]
    path, name = write_sample_png("synthetic", 7, tmp_path / "new", "test")
    assert path == tmp_path / "new" / "synthetic-test-7.png"
    assert name == dataset.classes[label]
    pixels = torch.from_numpy(np.array(Image.open(path)))
    assert torch.equal(pixels.reshape(image.shape[1], image.shape[2], -1).permute(2, 0, 1),
                       image)


def test_explain_a_dataset_sample(tmp_path, capsys):
    out = tmp_path / "ex"
    assert main(["explain", "--dataset", "synthetic", "--index", "3", "--model",
                 "inception_a_net", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out / "explain.html")
    assert (out / "synthetic-test-3.png").is_file()
    assert "synthetic test image 3 (class " in captured.err
    assert "synthetic-test-3.png" in (out / "explain.html").read_text()


def test_dream_on_a_dataset_sample(tmp_path, capsys):
    out = tmp_path / "dream.png"
    assert main(["dream", "--dataset", "synthetic", "--split", "val", "--index", "4",
                 "--model", "inception_a_net", "--octaves", "1", "--steps", "1", "--out",
                 str(out)]) == 0
    sample = tmp_path / "synthetic-val-4.png"
    assert sample.is_file() and out.is_file()
    image, _ = build_dataset("synthetic", "val")[4]
    assert Image.open(sample).size == (image.shape[2], image.shape[1])
    assert Image.open(out).size == (28, 28)  # the model's input size
    assert str(out) in capsys.readouterr().out
