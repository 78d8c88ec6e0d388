import json
from contextlib import redirect_stderr

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import TensorDataset

from googlenet.cli import main
from googlenet.data import build_dataset, center_crop, resize
from googlenet.data.folder import pil_to_tensor, resize_center_crop
from googlenet.evaluate import (
    CROP_SCHEMES,
    build_eval_dataset,
    confusion_matrix,
    crop_probs,
    crop_views,
    load_models,
    paper_crops,
    predict_dataset,
    scales_for,
    summarize,
    topk_accuracy,
)
from googlenet.evaluate.crops import load_size
from googlenet.models import build_model, get_model_info
from googlenet.recipe import ModelRecipe
from googlenet.train import fit
from googlenet.weights import Preprocessing, WeightsMeta
from tests.train.members import member


def test_topk_and_confusion_against_hand_computation():
    probs = torch.tensor([[0.1, 0.6, 0.3],   # true 1: top-1 hit
                          [0.5, 0.2, 0.3],   # true 2: top-1 miss, top-2 hit
                          [0.2, 0.3, 0.5],   # true 0: miss at both
                          [0.7, 0.2, 0.1]])  # true 0: hit
    y = torch.tensor([1, 2, 0, 0])
    assert topk_accuracy(probs, y, 1) == pytest.approx(2 / 4)
    assert topk_accuracy(probs, y, 2) == pytest.approx(3 / 4)
    assert topk_accuracy(probs, y, 5) == 1.0  # k beyond K counts every row
    cm = confusion_matrix(probs.argmax(1), y, 3)
    assert cm.tolist() == [[1, 0, 1], [0, 1, 0], [1, 0, 0]]
    rep = summarize(probs, y, ["a", "b", "c"])
    assert rep.per_class == {"a": 0.5, "b": 1.0, "c": 0.0}


def test_crop_counts_and_sizes_are_relative_to_the_input_size():
    x = torch.randint(0, 255, (2, 1, 32, 40), dtype=torch.uint8)
    assert crop_views(x, 28, 1).shape == (1, 2, 1, 28, 28)
    assert crop_views(x, 28, 10).shape == (10, 2, 1, 28, 28)
    assert crop_views(x, 28, 144).shape == (144, 2, 1, 28, 28)
    assert scales_for(224) == [256, 288, 320, 352] and scales_for(28) == [32, 36, 40, 44]


def test_paper_crops_are_squares_corners_center_resize_and_mirrors():
    x = torch.randint(0, 255, (1, 1, 32, 40), dtype=torch.uint8)  # landscape, shorter 32
    v = paper_crops(x, 28)  # first scale is 32: the image is used as it is
    left, center = x[..., :, 0:32], x[..., :, 4:36]
    assert torch.equal(v[0], left[..., :28, :28])        # top-left corner of left square
    assert torch.equal(v[3], left[..., 4:, 4:])          # bottom-right corner
    assert torch.equal(v[4], left[..., 2:30, 2:30])      # center crop
    assert torch.equal(v[6], v[0].flip(-1))              # mirrors follow each six
    assert torch.equal(v[12 + 4], center[..., 2:30, 2:30])  # next square: center one
    tall = x.transpose(-1, -2)  # portrait: top/middle/bottom squares
    assert torch.equal(paper_crops(tall, 28)[0], tall[..., 0:28, 0:28])


def _tiny_run(tiny_config, name, seed):
    return fit(tiny_config(name=name, seed=seed, epochs=1)).run_dir


def test_multi_crop_probs_average_the_softmax(tiny_config):
    run = _tiny_run(tiny_config, "a", 1)
    (m,) = load_models([run / "best.safetensors"], torch.device("cpu"))
    x = build_dataset("synthetic", "test", image_size=28, channels=1, num_samples=3).images
    got = crop_probs(m.run, x, m.loaded.preprocessing, 10)
    views = crop_views(x, 28, 10)
    with torch.no_grad():
        manual = torch.stack([F.softmax(m.run(m.loaded.normalize(v)), 1)
                              for v in views]).mean(0)
    assert torch.allclose(got, manual, atol=1e-6)
    assert torch.allclose(got.sum(1), torch.ones(3), atol=1e-5)


def test_ensemble_averages_members_and_cli_writes_confusion_png(tiny_config, tmp_path, capsys):
    a, b = _tiny_run(tiny_config, "a", 1), _tiny_run(tiny_config, "b", 2)
    ds = build_dataset("synthetic", "test", image_size=28, channels=1, num_samples=40)
    models = load_models([a / "best.safetensors", b / "best.safetensors"], torch.device("cpu"))
    pa, y = predict_dataset(models[:1], ds)
    pb, _ = predict_dataset(models[1:], ds)
    pab, _ = predict_dataset(models, ds)
    assert torch.allclose(pab, (pa + pb) / 2, atol=1e-6)
    assert not torch.allclose(pa, pb)  # two different members, so the average means something
    out = tmp_path / "ev"
    rc = main(["eval", str(a / "best.safetensors"), str(b / "best.safetensors"), "--crops", "10",
               "--limit", "40", "--out", str(out)])
    assert rc == 0
    [ensemble] = out.glob("eval-synthetic-test-10crop-ensemble2-*[0-9a-f].json")
    result = json.loads(ensemble.read_text())
    png = ensemble.with_name(ensemble.stem + "-confusion.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["count"] == 40 and len(result["checkpoints"]) == 2
    assert sum(map(sum, result["confusion"])) == 40
    assert "top-1" in capsys.readouterr().out
    # A single member's own result goes to another file: the ensemble's is kept.
    assert main(["eval", str(a / "best.safetensors"), "--crops", "10", "--limit", "8",
                 "--out", str(out)]) == 0
    single = json.loads((out / "eval-synthetic-test-10crop.json").read_text())
    assert len(single["checkpoints"]) == 1
    assert json.loads(ensemble.read_text()) == result
    # The mirror scheme through the CLI: one checkpoint, its report says 2 crops.
    assert main(["eval", str(a / "best.safetensors"), "--crops", "2", "--limit", "40",
                 "--out", str(out)]) == 0
    two = json.loads((out / "eval-synthetic-test-2crop.json").read_text())
    assert two["crops"] == 2 and two["count"] == 40 and 0.0 <= two["top1"] <= 1.0


def test_eval_draws_progress_with_an_eta_only_on_a_terminal(fake_tty, capsys):
    recipe = ModelRecipe("inception_a_net")
    meta = WeightsMeta(recipe, tuple("0123456789"),
                       get_model_info("inception_a_net").preprocessing)
    models = [member(build_model(recipe).eval(), meta, "random")]
    ds = build_dataset("synthetic", "test", image_size=28, channels=1, num_samples=40)
    with redirect_stderr(fake_tty):
        predict_dataset(models, ds, crops=2, batch_size=16)
    drawn = fake_tty.getvalue()
    assert "\reval 2 crop(s) [" in drawn and "3/3" in drawn and "img/s" in drawn
    assert "ETA" in drawn
    predict_dataset(models, ds, crops=2, batch_size=16)
    assert capsys.readouterr().err == ""


def test_one_and_ten_crops_resize_to_the_weights_resize_size():
    # ImageNet weights at 224 are evaluated resize-256 / center-224, not resize-224.
    x = torch.randint(0, 255, (2, 3, 300, 400), dtype=torch.uint8)
    want = center_crop(resize(x, 256), 224)
    assert torch.equal(crop_views(x, 224, 1, resize_size=256)[0], want)
    assert not torch.equal(crop_views(x, 224, 1)[0], want)  # models trained here: R = S
    assert torch.equal(crop_views(x, 224, 10, resize_size=256)[4], want)  # the center crop
    assert load_size(224, 1, 256) == 256 and load_size(224, 10, 256) == 256
    assert load_size(299, 1, 342) == 342 and load_size(224, 144, 256) == 352
    assert load_size(28, 1) == 28 and load_size(28, 10) == 32  # as training fed them


def test_two_crops_are_the_one_crop_view_and_its_mirror_and_average_their_softmax():
    x = torch.randint(0, 255, (3, 1, 28, 28), dtype=torch.uint8)
    views = crop_views(x, 28, 2)
    assert views.shape == (2, 3, 1, 28, 28) and load_size(28, 2) == 28
    assert torch.equal(views[0], x) and torch.equal(views[1], x.flip(-1))
    wide = torch.randint(0, 255, (1, 3, 300, 400), dtype=torch.uint8)
    assert torch.equal(crop_views(wide, 224, 2, 256)[1], crop_views(wide, 224, 1, 256)[0].flip(-1))

    weight = torch.randn(28, 10)
    def model(v):  # a read-out of the column profile: it sees left from right
        return v.mean((1, 2)) @ weight

    meta = _meta(28, 28, [str(i) for i in range(10)], channels=1)
    ds = TensorDataset(x, torch.arange(3))
    two, _ = predict_dataset([member(model, meta)], ds, crops=2)
    f = meta.preprocessing.normalize(x)
    want = (F.softmax(model(f), 1) + F.softmax(model(f.flip(-1)), 1)) / 2
    assert torch.allclose(two, want, atol=1e-6)


def test_crop_views_of_images_of_different_sizes_stack_per_image():
    a = torch.randint(0, 255, (3, 40, 60), dtype=torch.uint8)
    b = torch.randint(0, 255, (3, 50, 36), dtype=torch.uint8)
    for crops in CROP_SCHEMES:
        got = crop_views([a, b], 28, crops, resize_size=32)
        assert torch.equal(got[:, 0], crop_views(a[None], 28, crops, 32)[:, 0])
        assert torch.equal(got[:, 1], crop_views(b[None], 28, crops, 32)[:, 0])


def _meta(input_size, resize_size, classes, channels=3):
    pre = Preprocessing((0.5,) * channels, (0.25,) * channels, input_size=input_size,
                        resize_size=resize_size)
    return WeightsMeta(ModelRecipe("custom", in_chans=channels), tuple(classes), pre)


def test_folder_evaluation_reads_native_aspect_and_crops_like_imagenet(tmp_path):
    # Folders are read with their aspect ratio kept, shorter side at what the crops need;
    # 1-crop then equals the standard PIL pipeline: resize 256, center crop 224.
    rng = np.random.default_rng(0)
    sizes = {"cat": [(320, 240), (200, 300)], "dog": [(256, 256), (500, 260)]}
    for cls, whs in sizes.items():
        (tmp_path / cls).mkdir()
        for i, wh in enumerate(whs):
            small = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
            Image.fromarray(small).resize(wh, Image.Resampling.BICUBIC).save(
                tmp_path / cls / f"{i}.png")
    meta = _meta(224, 256, ["cat", "dog"])
    ds = build_eval_dataset("folder", "val", tmp_path, [meta.preprocessing], crops=1)
    assert tuple(ds[0][0].shape) == (3, 256, 341)  # 320x240 -> shorter side 256
    assert min(ds[1][0].shape[1:]) == 256
    big = build_eval_dataset("folder", "val", tmp_path, [meta.preprocessing], 144)
    assert min(big[0][0].shape[1:]) == 352

    def model(x):  # a fixed linear read-out of the crop's mean colour
        return x.mean((2, 3)) @ torch.tensor([[1.0, -1.0], [-2.0, 0.5], [0.5, 1.5]])

    loaded = member(model, meta)
    probs, targets = predict_dataset([loaded], ds, batch_size=4)
    assert targets.tolist() == [0, 0, 1, 1]
    manual = []
    for path, _ in ds.samples:
        im = resize_center_crop(Image.open(path).convert("RGB"), 256)
        x = pil_to_tensor(im)[None][..., 16:240, 16:240]
        manual.append(F.softmax(model(meta.preprocessing.normalize(x)), 1))
    assert torch.allclose(probs, torch.cat(manual), atol=1e-6)
    ten, _ = predict_dataset([loaded], ds, crops=10, batch_size=4)
    assert ten.shape == (4, 2) and not torch.allclose(ten, probs)
