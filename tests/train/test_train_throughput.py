"""The training-step benchmark: FLOP counting, the profile's categories, and a smoke run of
``benchmarks/train_step.py`` so that the script cannot rot."""

import importlib
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from googlenet.cost import measure
from googlenet.errors import ConfigError
from googlenet.recipe import ModelRecipe
from googlenet.train import TrainConfig
from googlenet.train.presets import get_preset
from googlenet.train.step_profile import OTHER, breakdown, categorize
from googlenet.train.throughput import BASELINE, StepRunner, check_paths, flops_per_step

REPO = Path(__file__).resolve().parents[2]


def test_a_step_counts_three_forward_passes_less_the_image_gradient():
    # Forward: 2 x MACs. Backward: each conv/linear computes the gradient of its weights
    # and of its input (each as many FLOPs as its forward), except the first conv, whose
    # input is the image. No augmentation: its affine grid is a small matmul too.
    cfg = TrainConfig(recipe=ModelRecipe("googlenet_mnist", width=0.25), dataset="synthetic",
                      train_limit=16, batch_size=4, threads=1, progress=False, report=False)
    runner = StepRunner(cfg, 1)
    macs = list(measure(runner.run.model, 28, 1, with_aux=True).leaf_macs.values())
    assert flops_per_step(runner) == 2 * cfg.batch_size * (3 * sum(macs) - macs[0])


@dataclass
class Event:
    name: str
    self_cpu_time_total: float = 0.0
    cpu_parent: "Event | None" = None


def test_self_time_goes_to_the_phase_or_the_nearest_named_op():
    opt = Event("Optimizer.step#SGD.step", 10.0)
    bn = Event("aten::batch_norm", 1.0)
    cat_bwd = Event("autograd::engine::evaluate_function: CatBackward0", 2.0)
    augment = Event("train_step.augment", 1.0)
    events = [
        opt, Event("aten::_foreach_add_", 100.0, opt),        # inside the optimizer
        bn, Event("aten::empty", 3.0, bn),                     # BN's allocation
        cat_bwd, Event("aten::narrow", 4.0, cat_bwd),          # concat's backward
        augment, Event("aten::grid_sampler_2d", 5.0, augment),
        Event("aten::mkldnn_convolution", 50.0, Event("aten::conv2d")),
        Event("aten::zeros", 7.0),
    ]
    assert [categorize(e) for e in events] == [
        "optimizer", "optimizer", "bn", "bn", "cat", "cat", "augment", "augment", "conv", OTHER]
    per_step = breakdown(events, steps=2)  # microseconds -> ms per step
    assert per_step == pytest.approx({"optimizer": (10 + 100) / 2000, "conv": 50 / 2000,
                                      OTHER: 7 / 2000, "augment": (1 + 5) / 2000,
                                      "cat": (2 + 4) / 2000, "bn": (1 + 3) / 2000})
    assert list(per_step)[:3] == ["optimizer", "conv", OTHER]  # largest first


def test_paths_start_with_the_baseline_and_unknown_ones_are_refused():
    assert check_paths(["bf16", BASELINE, "bf16"]) == [BASELINE, "bf16"]
    with pytest.raises(ConfigError, match="unknown training path.*warp9"):
        check_paths(["warp9"])


def test_train_step_script_smoke(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(REPO))  # `benchmarks` is a package at the repo root
    script = importlib.import_module("benchmarks.train_step")
    out = tmp_path / "train_step.json"
    assert script.main(["--dataset", "synthetic", "--train-limit", "16", "--batch-size", "4",
                        "--threads", "1", "--steps", "1", "--rounds", "2", "--warmup", "1",
                        "--profile-steps", "1", "--paths", "channels_last",
                        "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    base, cl = data["paths"]
    assert (base["name"], cl["name"]) == ("eager", "channels_last")
    assert base["ratio"] == 1.0 and cl["ratio"] == pytest.approx(
        cl["images_per_s"] / base["images_per_s"])
    assert len(cl["rounds"]) == 2 and cl["compile_s"] is None
    step_s = data["batch_size"] / cl["images_per_s"]
    assert cl["gflops_per_s"] == pytest.approx(data["flops_per_step"] / step_s / 1e9)
    assert set(data["profiles"]) == {"eager", "channels_last"}  # every path, by op type
    profile = data["profiles"]["eager"]
    assert {"conv", "bn", "pool", "cat", "optimizer", "ema", "augment"} <= set(profile)
    assert data["config"]["batch_size"] == 4 and data["config"]["ema_decay"] > 0
    printed = capsys.readouterr().out
    assert "| eager | 1 |" in printed and "| op type |" in printed


def test_the_step_of_a_resized_epoch_is_timed_at_its_size():
    cfg = TrainConfig(recipe=ModelRecipe("googlenet_mnist", width=0.125), dataset="synthetic",
                      train_limit=8, batch_size=4, threads=1, epochs=4,
                      resize_schedule="14:0.5", progress=False, report=False)
    small, full = StepRunner(cfg, 1, epoch=0), StepRunner(cfg, 1)
    assert (small.epoch, full.epoch) == (0, 3)
    # A quarter of the pixels: a quarter of the convolutions' work, give or take the
    # borders of the pooled grids.
    ratio = flops_per_step(small) / flops_per_step(full)
    assert 0.2 < ratio < 0.35, ratio


def test_train_step_script_times_the_epoch_asked_for(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(REPO))
    script = importlib.import_module("benchmarks.train_step")
    argv = ["--preset", "fmnist-30min", "--dataset", "synthetic", "--train-limit", "8",
            "--batch-size", "4", "--threads", "1", "--steps", "1", "--rounds", "1",
            "--warmup", "1", "--profile-steps", "0", "--paths", "eager",
            "--out", str(tmp_path / "s.json")]
    assert script.main([*argv, "--epoch", "1"]) == 0
    data = json.loads((tmp_path / "s.json").read_text())
    assert (data["epoch"], data["input_size"]) == (0, 20)
    assert "batch 4 at 20 px (epoch 1's step)" in capsys.readouterr().out
    epochs = get_preset("fmnist-30min").config().epochs
    with pytest.raises(ConfigError, match=f"epoch must be 1..{epochs} .*got {epochs + 1}"):
        script.main([*argv, "--epoch", str(epochs + 1)])


def test_onednn_convs_script_sums_one_steps_convolutions(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(REPO))
    script = importlib.import_module("benchmarks.onednn_convs")
    out = tmp_path / "convs.json"
    assert script.main(["--dataset", "synthetic", "--train-limit", "8", "--batch-size", "4",
                        "--threads", "1", "--warmup", "1", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    rows = data["convolutions"]
    # Every convolution of the step in its three directions, its FLOPs from the shapes.
    assert {r["direction"] for r in rows} == {"forward", "backward data", "backward weights"}
    assert {r["src"] for r in rows} == {"bf16 acdb"}  # the presets' bf16 channels_last
    cfg = TrainConfig(recipe=ModelRecipe("googlenet_mnist", width=0.25), dataset="synthetic",
                      train_limit=8, batch_size=4, threads=1, progress=False, report=False)
    flops = flops_per_step(StepRunner(cfg, 1))
    assert sum(r["gflop"] for r in rows) * 1e9 == pytest.approx(flops, rel=0.01)
    assert data["by_kind_ms"]["convolution"] == pytest.approx(sum(r["ms"] for r in rows))
    assert "| **all convolutions** |" in capsys.readouterr().out


def test_onednn_shapes_give_a_convolutions_flops(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO))
    script = importlib.import_module("benchmarks.onednn_convs")
    shape = "mb256_ic16oc48_ih28oh28kh3sh1dh0ph1_iw28ow28kw3sw1dw0pw1"
    assert script.conv_flops(shape) == 2 * 256 * 48 * 16 * 28 * 28 * 9
    assert script.conv_flops("g2" + shape) == 2 * 256 * 48 * 8 * 28 * 28 * 9
    assert script.conv_flops("no shape") is None
    descs = "src:bf16::blocked:acdb::f0 wei:bf16:a:blocked:Adcb16a::f0 dst:bf16::blocked:acdb::f0"
    assert script.source_layout(descs) == "bf16 acdb"
    assert script.source_layout("diff_src:f32::blocked:abcd::f0 wei:...") == "f32 abcd"
    assert script.source_layout("") == "?"
