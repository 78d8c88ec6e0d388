"""Progressive resizing (``--resize-schedule``, the ``fmnist-30min`` preset): the schedule's
parsing, the size of each epoch's batches, the resize itself, the time estimate, and a
run whose early epochs really train on smaller images."""

import json
from types import SimpleNamespace

import pytest
import torch

from googlenet.cli import main
from googlenet.errors import ConfigError
from googlenet.recipe import ModelRecipe
from googlenet.train import TrainConfig, engine, fit
from googlenet.train.config import parse_resize_schedule
from googlenet.train.engine import expected_time, resize_batch


def test_fractions_become_epoch_boundaries_that_follow_the_epochs():
    assert parse_resize_schedule("", 10) == ()
    assert parse_resize_schedule("20:0.4,24:0.3", 10) == ((20, 4), (24, 7))
    assert parse_resize_schedule(" 20:0.5 ", 4) == ((20, 2),)
    # --epochs stretches the schedule with the learning rate's (fractions, not counts).
    assert parse_resize_schedule("20:0.4,24:0.3", 40) == ((20, 16), (24, 28))
    cfg = TrainConfig(epochs=10, resize_schedule="20:0.4,24:0.3")
    assert [cfg.train_size_at(e) for e in range(10)] == [20] * 4 + [24] * 3 + [None] * 3
    assert TrainConfig(epochs=3).train_size_at(0) is None


@pytest.mark.parametrize("text, needle", [
    ("20", "must be SIZE:FRACTION"),
    ("20:0", "must be SIZE:FRACTION"),
    ("20:1", "must be SIZE:FRACTION"),
    ("4:0.2", "SIZE >= 8 px"),
    ("x:0.2", "must be SIZE:FRACTION"),
    ("20:0.2,", "must be SIZE:FRACTION"),
    ("20:0.6,24:0.4", "must sum to less than 1"),
])
def test_a_malformed_schedule_is_a_config_error_naming_the_field(text, needle):
    with pytest.raises(ConfigError, match=needle) as err:
        TrainConfig(resize_schedule=text)
    assert err.value.field == "resize_schedule"


def test_the_resize_averages_pixels_and_leaves_full_size_batches_alone():
    x = torch.rand(3, 1, 28, 28)
    assert resize_batch(x, None) is x
    assert torch.equal(resize_batch(x, 28), x)
    small = resize_batch(x, 20)
    assert small.shape == (3, 1, 20, 20)
    # Antialiased: a flat image stays flat, and a downscaled image keeps its mean.
    flat = torch.full((1, 1, 28, 28), 0.7)
    assert torch.allclose(resize_batch(flat, 20), torch.full((1, 1, 20, 20), 0.7))
    assert torch.allclose(small.mean((2, 3)), x.mean((2, 3)), atol=0.02)


def test_the_time_estimate_scales_later_epochs_by_their_pixels():
    cfg = TrainConfig(epochs=4, resize_schedule="14:0.5")  # 2 epochs at 14 px, 2 at 28
    ctx = SimpleNamespace(cfg=cfg, steps_per_epoch=10, data=SimpleNamespace(input_size=28))
    # 1 s per 14-px step: 20 more steps at 14 px, then 20 steps at 4x the pixels: 100 s.
    line = expected_time(1.0, ctx, 0, 0)  # type: ignore[arg-type]  # a stand-in context
    assert "about 1:40 more" in line and "40 steps to go" in line, line
    plain = SimpleNamespace(cfg=TrainConfig(epochs=4), steps_per_epoch=10,
                            data=SimpleNamespace(input_size=28))
    assert "about 0:40 more" in expected_time(1.0, plain, 0, 0)  # type: ignore[arg-type]


def test_a_run_trains_its_first_epochs_on_smaller_images(tmp_path, monkeypatch):
    seen: list[tuple[int, int | None]] = []
    real = engine.resize_batch

    def spy(x: torch.Tensor, size: int | None) -> torch.Tensor:
        out = real(x, size)
        seen.append((out.shape[-1], size))
        return out

    monkeypatch.setattr(engine, "resize_batch", spy)
    out = tmp_path / "runs"
    code = main(["train", "--model", "googlenet_mnist", "--width", "0.125",
                 "--dataset", "synthetic", "--train-limit", "32", "--batch-size", "16",
                 "--epochs", "4", "--resize-schedule", "16:0.25,20:0.25", "--eval-limit", "16",
                 "--progress", "false", "--report", "false", "--output", str(out),
                 "--name", "r"])
    assert code == 0
    # Two steps per epoch: epoch 1 at 16 px, epoch 2 at 20, epochs 3-4 at the data's 28.
    assert [s for s, _ in seen] == [16, 16, 20, 20, 28, 28, 28, 28]
    saved = json.loads((out / "r" / "config.json").read_text())
    assert saved["resize_schedule"] == "16:0.25,20:0.25"
    # Resumed for 8 epochs, the saved schedule spans the new length (2 epochs at 16 px,
    # 2 at 20, the rest full size): epochs 5-8 train at full size.
    seen.clear()
    assert main(["train", "--resume", str(out / "r"), "--epochs", "8"]) == 0
    assert [s for s, _ in seen] == [28] * 8


def test_a_stage_below_the_models_minimum_is_refused_before_the_run_folder(tmp_path):
    cfg = TrainConfig(dataset="synthetic", train_limit=16, epochs=2, batch_size=16,
                      resize_schedule="20:0.5", output=str(tmp_path), name="r",
                      progress=False, report=False)
    cfg = cfg.replace(recipe=ModelRecipe("inception_a_net"))
    with pytest.raises(ConfigError, match="inception_a_net takes images of at least 28 px"):
        fit(cfg)
    assert not (tmp_path / "r").exists()
