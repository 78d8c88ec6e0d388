"""Flip + translate test-time augmentation: exact views, the training warp's fill, the
softmax average, ``googlenet eval --tta`` and the trainer's final evaluation with it."""

import json
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from googlenet.cli import main
from googlenet.data import BatchAugment
from googlenet.errors import ConfigError
from googlenet.evaluate import (
    TTA,
    TTA_FILLS,
    build_eval_dataset,
    crop_probs,
    crop_views,
    evaluate_checkpoints,
    load_models,
    predict_dataset,
    shifted_center_crop,
)
from googlenet.recipe import ModelRecipe
from googlenet.train import TrainConfig, fit
from googlenet.weights import Preprocessing, WeightsMeta
from tests.train.members import member


def test_a_known_image_moved_by_one_pixel_is_the_expected_tensor():
    x = torch.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]], dtype=torch.uint8).view(1, 1, 3, 3)
    down_right = torch.tensor([[0, 0, 0], [0, 1, 2], [0, 4, 5]], dtype=torch.uint8)
    up_left = torch.tensor([[5, 6, 0], [8, 9, 0], [0, 0, 0]], dtype=torch.uint8)
    assert torch.equal(shifted_center_crop(x, 3, 1, 1)[0, 0], down_right)
    assert torch.equal(shifted_center_crop(x, 3, -1, -1)[0, 0], up_left)
    # The other fills, as the training warp fills: the edge pixel, or mirrored about it.
    assert shifted_center_crop(x, 3, 1, 1, "nearest")[0, 0].tolist() == \
        [[1, 1, 2], [1, 1, 2], [4, 4, 5]]
    assert shifted_center_crop(x, 3, -1, -1, "reflect")[0, 0].tolist() == \
        [[5, 6, 6], [8, 9, 9], [8, 9, 9]]


def test_tta_views_are_the_shifts_of_the_one_crop_view_then_their_mirrors():
    x = torch.randint(1, 255, (2, 1, 8, 8), dtype=torch.uint8)
    tta = TTA(shift=2)
    views = crop_views(x, 8, 1, tta=tta)
    assert tta.offsets == [(0, 0), (-1, -1), (1, 1), (-2, -2), (2, 2)]
    assert views.shape == (tta.views, 2, 1, 8, 8) == (10, 2, 1, 8, 8)
    assert torch.equal(views[0], x) and torch.equal(views[5], x.flip(-1))
    assert torch.equal(views[2], F.pad(x[..., :-1, :-1], (1, 0, 1, 0)))   # down-right by 1
    assert torch.equal(views[3], F.pad(x[..., 2:, 2:], (0, 2, 0, 2)))     # up-left by 2
    assert torch.equal(views[5 + 2], views[2].flip(-1))
    # Images larger than the input: the crop window moves, real pixels come in.
    big = torch.randint(0, 255, (1, 3, 10, 12), dtype=torch.uint8)
    moved = crop_views(big, 6, 1, resize_size=10, tta=tta)
    assert torch.equal(moved[0], big[..., 2:8, 3:9])  # the 1-crop view: center 6x6
    assert torch.equal(moved[2], big[..., 1:7, 2:8])  # down-right by 1: window up-left
    assert torch.equal(crop_views([big[0], big[0, :, :, :10]], 6, 1, 10, tta)[:, 0], moved[:, 0])


@dataclass(frozen=True)
class FixedShift(BatchAugment):
    """The training warp with one fixed translation of (dy, dx) pixels."""

    dy: int = 0
    dx: int = 0

    def affine(self, n: int, height: int, width: int, g: torch.Generator,
               flip: torch.Tensor | None = None) -> torch.Tensor:
        theta = torch.tensor([[1.0, 0.0, -2 * self.dx / width], [0.0, 1.0, -2 * self.dy / height]])
        return theta.expand(n, 2, 3)


@pytest.mark.parametrize("fill", TTA_FILLS)
def test_a_tta_shift_equals_the_training_warp_at_that_shift(fill):
    x = torch.randint(0, 255, (3, 1, 9, 9), dtype=torch.uint8)
    for dy, dx in [(1, 1), (-2, -2), (2, -1)]:
        warp = FixedShift(fill_mode=fill, dy=dy, dx=dx).warp(x, torch.Generator())
        view = shifted_center_crop(x, 9, dy, dx, fill).float()
        assert torch.allclose(warp, view, atol=1e-3), (fill, dy, dx)  # grid rounding only


def _meta(size, classes, channels=1):
    pre = Preprocessing((0.5,) * channels, (0.25,) * channels, input_size=size,
                        resize_size=size)
    return WeightsMeta(ModelRecipe("custom", in_chans=channels), tuple(classes), pre)


def test_tta_of_a_flip_and_shift_invariant_model_is_its_plain_prediction():
    # Content inside a zero border wider than the shifts: moving or mirroring it only
    # rearranges the pixels, so a read-out of pixel statistics sees the same image.
    x = torch.zeros(4, 1, 12, 12, dtype=torch.uint8)
    x[..., 3:9, 3:9] = torch.randint(0, 255, (4, 1, 6, 6), dtype=torch.uint8)
    weight = torch.randn(3, 5)

    def invariant(v):
        flat = v.flatten(1)
        return torch.stack([flat.mean(1), flat.amax(1), flat.std(1)], 1) @ weight

    col = torch.randn(12, 5)

    def sees_columns(v):  # tells left from right
        return v.mean((1, 2)) @ col

    ds = TensorDataset(x, torch.arange(4))
    meta = _meta(12, "abcde")
    for model, same in ((invariant, True), (sees_columns, False)):
        loaded = [member(model, meta)]
        plain, _ = predict_dataset(loaded, ds)
        tta, _ = predict_dataset(loaded, ds, tta=TTA(shift=2))
        assert torch.allclose(plain, tta, atol=1e-6) is same


def test_tta_averages_the_softmax_over_its_views():
    x = torch.randint(0, 255, (3, 1, 10, 10), dtype=torch.uint8)
    weight = torch.randn(10, 4)

    def model(v):
        return v.mean((1, 2)) @ weight

    meta = _meta(10, "abcd")
    tta = TTA(shift=1, fill="nearest")
    views = crop_views(x, 10, 1, tta=tta)
    want = torch.stack([F.softmax(model(meta.preprocessing.normalize(v)), 1)
                        for v in views]).mean(0)
    assert torch.allclose(crop_probs(model, x, meta.preprocessing, 1, tta=tta), want, atol=1e-6)


def test_bad_tta_values_and_combinations_are_config_errors(tmp_path):
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ConfigError, match="tta shift"):
            TTA(shift=bad)
    with pytest.raises(ConfigError, match="tta fill"):
        TTA(fill="wrap")
    with pytest.raises(ConfigError, match="--crops 10"):  # before the file is looked at
        evaluate_checkpoints([tmp_path / "none.safetensors"], TensorDataset(), crops=10,
                             tta=TTA())
    with pytest.raises(ConfigError, match="tta must be >= 0"):
        TrainConfig(tta=-1)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One tiny run (inception_a_net, 2 steps) shared by the tests below: its training
    shifts filled by reflection, and its final evaluation used TTA with 2-pixel shifts."""
    cfg = TrainConfig(recipe=ModelRecipe("inception_a_net"), dataset="synthetic", epochs=1,
                      batch_size=32, train_limit=64, eval_limit=16, eval_batch_size=64,
                      shift=0.1, fill_mode="reflect", tta=2, progress=False,
                      output=str(tmp_path_factory.mktemp("runs")), name="tta")
    return fit(cfg).run_dir


def test_eval_tta_end_to_end_through_the_cli(tiny_run, tmp_path, capsys):
    best = str(tiny_run / "best.safetensors")
    out = tmp_path / "ev"
    assert main(["eval", best, "--tta", "--limit", "24", "--out", str(out)]) == 0
    result = json.loads((out / "eval-synthetic-test-tta1.json").read_text())
    assert result["tta"] == {"shift": 1, "fill": "reflect", "views": 6}  # the run's fill
    assert result["count"] == 24 and result["crops"] == 1
    assert "TTA: flip + shift 1 px (6 views, reflect fill)" in capsys.readouterr().out
    (model,) = load_models([best], torch.device("cpu"))
    ds = build_eval_dataset("synthetic", "test", None, [model.loaded.preprocessing])
    probs, y = predict_dataset([model], ds, limit=24, tta=TTA(1, "reflect"))
    assert result["top1"] == pytest.approx(float((probs.argmax(1) == y).float().mean()))
    assert main(["eval", best, "--tta", "2", "--limit", "8", "--out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tta"]["views"] == 10


@pytest.mark.parametrize("argv,needle", [
    (["--tta", "--crops", "2"], "does not combine with --crops 2"),
    (["--crops", "144", "--tta", "3"], "does not combine with --crops 144"),
    (["--tta", "0"], "--tta: must be >= 1"),
    (["--tta", "x"], "--tta: expected a whole number"),
])
def test_bad_tta_flags_exit_2_in_one_line(tmp_path, capsys, argv, needle):
    missing = str(tmp_path / "absent.safetensors")  # refused before any file is read
    assert main(["eval", missing, "--dataset", "synthetic", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err


def test_train_tta_is_used_by_the_final_evaluation_only(tiny_run):
    ev = json.loads((tiny_run / "eval.json").read_text())
    assert ev["tta"] == {"shift": 2, "fill": "reflect", "views": 10}  # as it trained
    assert ev["count"] == 16
    history = json.loads((tiny_run / "metrics.json").read_text())
    assert "val_acc" in history[0] and "tta" not in json.dumps(history)  # epochs: 1 crop
    assert "with TTA: flip + shift 2 px" in (tiny_run / "report.md").read_text()
    assert "with TTA: flip + shift 2 px" in (tiny_run / "report.html").read_text()
