"""``googlenet train --preset fmnist-fast``: the preset's values, flags over them, its runs
read by the other commands, and the two benchmark scripts built on it (smoke runs on
synthetic images; the real measurements are in BENCHMARKS.md)."""

import importlib
import json
from pathlib import Path

import pytest

from googlenet.cli import main
from googlenet.errors import ConfigError
from googlenet.recipe import ModelRecipe
from googlenet.train import TrainConfig
from googlenet.train.presets import FMNIST_30MIN, FMNIST_60MIN, FMNIST_FAST, PRESETS, get_preset

REPO = Path(__file__).resolve().parents[2]
QUICK = ["--dataset", "synthetic", "--train-limit", "64", "--batch-size", "32", "--epochs", "1",
         "--eval-limit", "32", "--eval-batch-size", "32", "--progress", "false"]


def test_the_preset_is_a_valid_config_with_every_trick_on():
    cfg = FMNIST_FAST.config()
    assert isinstance(cfg, TrainConfig)
    assert cfg.recipe == ModelRecipe("googlenet_mnist", width=0.25)
    assert (cfg.whiten_stem, cfg.alternate_flip, cfg.hflip) == (True, True, True)
    assert cfg.translate == 2 and cfg.tta == 2 and cfg.bn_bias_lr > 1 and cfg.ema_decay > 0
    assert (cfg.precision, cfg.channels_last, cfg.schedule) == ("bf16", True, "onecycle")
    assert FMNIST_FAST.config(seed=4).seed == 4
    assert get_preset("fmnist-fast") is FMNIST_FAST
    assert set(PRESETS) == {"fmnist-fast", "fmnist-30min", "fmnist-60min"}
    with pytest.raises(ConfigError, match="unknown preset 'fast'.*fmnist-fast"):
        get_preset("fast")


def test_the_half_hour_preset_is_the_hour_one_shorter_and_progressively_resized():
    fast, short = FMNIST_FAST.config(), FMNIST_30MIN.config()
    assert short.epochs < fast.epochs and short.eval_every > 1
    assert short.resize_stages() and fast.resize_stages() == ()
    sizes = [short.train_size_at(e) for e in range(short.epochs)]
    assert sizes[0] < 28 and sizes[-1] is None  # small first, the model's size at the end
    same = {k for k in FMNIST_FAST.values if FMNIST_FAST.values[k] == FMNIST_30MIN.values[k]}
    assert same == set(FMNIST_FAST.values) - {"epochs", "resize_schedule", "eval_every"}


def test_the_hour_preset_is_the_half_hour_one_at_twice_the_epochs():
    half, hour = FMNIST_30MIN.config(), FMNIST_60MIN.config()
    assert hour.epochs == 2 * half.epochs
    assert {k: v for k, v in FMNIST_60MIN.values.items() if k != "epochs"} == \
        {k: v for k, v in FMNIST_30MIN.values.items() if k != "epochs"}
    # The same fractions of a longer run: each size's stage is about twice as many epochs
    # (each stage's end is rounded to a whole epoch).
    def stage_epochs(cfg: TrainConfig) -> dict[int | None, int]:
        sizes = [cfg.train_size_at(e) for e in range(cfg.epochs)]
        return {s: sizes.count(s) for s in set(sizes)}
    doubled = stage_epochs(half)
    assert stage_epochs(hour).keys() == doubled.keys() == {20, 24, None}
    assert all(abs(n - 2 * doubled[s]) <= 1 for s, n in stage_epochs(hour).items())


def test_train_with_the_preset_then_flags_over_it_then_eval_with_tta(tmp_path, capsys):
    out = tmp_path / "runs"
    code = main(["train", "--preset", "fmnist-fast", *QUICK, "--seed", "2", "--tta", "1",
                 "--output", str(out), "--name", "p"])
    assert code == 0
    saved = json.loads((out / "p" / "config.json").read_text())
    assert saved["whiten_stem"] and saved["alternate_flip"] and saved["translate"] == 2
    assert saved["bn_bias_lr"] == FMNIST_FAST.values["bn_bias_lr"]
    assert (saved["epochs"], saved["seed"], saved["dataset"], saved["tta"]) == \
        (1, 2, "synthetic", 1)
    assert saved["recipe"]["name"] == "googlenet_mnist" and saved["recipe"]["width"] == 0.25
    capsys.readouterr()
    # The run's files are what the other commands read: eval with the same TTA.
    code = main(["eval", str(out / "p" / "last.safetensors"), "--dataset", "synthetic",
                 "--tta", "1", "--limit", "32", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tta"]["views"] == 6 and 0 <= report["top1"] <= 1
    # Resuming the finished run with more epochs goes on from its config (no preset).
    assert main(["train", "--resume", str(out / "p"), "--epochs", "2"]) == 0
    assert len(json.loads((out / "p" / "metrics.json").read_text())) == 2


@pytest.mark.parametrize("argv, needle", [
    (["--preset", "fmnist-fast", "--resume", "runs/x"], "--preset starts a new run"),
    (["--preset", "nope"], "invalid choice: 'nope'"),
    (["--preset", "fmnist-fast", "--alternate-flip", "--hflip", "false"],
     "--alternate-flip needs hflip (it decides which images hflip mirrors)"),
])
def test_bad_preset_use_is_one_line_and_exit_2(capsys, argv, needle):
    with pytest.raises(SystemExit) as exc:
        code = main(["train", *argv])
        raise SystemExit(code)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "Traceback" not in err and len(err.splitlines()) <= 2


def _script(name: str, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO))  # `benchmarks` is a package at the repo root
    return importlib.import_module(f"benchmarks.{name}")


# fmnist-60min is fmnist-30min at more epochs, which --epochs 2 overrides here: the same
# run (the hour preset's own values: test_the_hour_preset_is_the_half_hour_one_at_...).
@pytest.mark.parametrize("preset", ["fmnist-fast", "fmnist-30min"])
def test_benchmark_script_trains_the_preset_and_scores_the_final_weights(
        tmp_path, monkeypatch, preset):
    script = _script("train_fashion_mnist", monkeypatch)
    out = tmp_path / "r.json"
    assert script.main(["--preset", preset, "--dataset", "synthetic", "--train-limit", "64",
                        "--batch-size", "32", "--epochs", "2", "--eval-limit", "32",
                        "--speed-steps", "2", "--threads", "1",
                        "--output", str(tmp_path / "runs"), "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["preset"] == preset and data["config"]["whiten_stem"]
    assert data["config"]["resize_schedule"] == get_preset(preset).values.get(
        "resize_schedule", "")
    assert len(data["history"]) == 2 and data["epochs"] == 2
    assert data["run_dir"].endswith(f"{preset}-s0")
    assert data["train_images_per_s"] > 0 and data["train_gflops_per_s"] > 0
    assert "reached_stretch_0950" in data
    assert data["load_during_run"]["samples"] >= 1 and data["load_during_run"]["mean_1min"] >= 0
    # The seeds' table reads what the script wrote, into its markers in BENCHMARKS.md.
    runs = _script("fmnist_runs", monkeypatch)
    md = tmp_path / "B.md"
    md.write_text(f"# B\n<!-- fmnist-runs-{preset}:start -->\nold\n"
                  f"<!-- fmnist-runs-{preset}:end -->\n")
    assert runs.main([str(out), "--preset", preset, "--markdown", str(md)]) == 0
    text = md.read_text()
    assert "old" not in text and f"fmnist_runs.py {out} --preset {preset}" in text
    row = next(line for line in text.splitlines() if line.startswith("| 0 | 2 |"))
    assert f"{data['final_test_acc_tta']['top1']:.4f}" in row and data["finished_at"] in row
    # A run is in bold only where it met the goal: the target with the TTA, in the budget.
    assert "**" in runs.table([data], budget_min=1e6, target=0.0)
    assert "**" not in runs.table([data], budget_min=1e6, target=1.01)
    assert "**" not in runs.table([data], budget_min=1e-3, target=0.0)
    with pytest.raises(SystemExit):  # a file of another preset is refused
        runs.main([str(out), "--preset", "nope", "--no-markdown"])
    assert data["final_test_acc_1crop"] == data["history"][-1]["val_acc"]
    assert data["final_test_acc_tta"]["tta"]["views"] == 10
    assert data["speed_images_per_s"]["speedup"] > 0
    assert data["total_wall_s"] >= data["recipe_wall_s"] >= data["train_wall_s"] > 0


def test_ablation_script_writes_its_table_between_the_markers(tmp_path, monkeypatch):
    script = _script("fmnist_ablation", monkeypatch)
    md = tmp_path / "B.md"
    md.write_text(f"# B\n\n{script.START}\nold\n{script.END}\n\nafter\n")
    argv = ["--arms", "preset,no_whiten", "--dataset", "synthetic", "--train-limit", "64",
            "--batch-size", "32", "--epochs", "1", "--eval-limit", "32", "--threads", "1",
            "--output", str(tmp_path / "runs"), "--json", str(tmp_path / "a.json"),
            "--markdown", str(md)]
    assert script.main(argv) == 0
    text = md.read_text()
    assert "old" not in text and text.endswith("after\n")
    assert "| the preset (all of it) |" in text and "| - whitened stem (default init) |" in text
    assert "scored with its TTA" in text and "fmnist_ablation.py --arms preset,no_whiten" in text
    rows = json.loads((tmp_path / "a.json").read_text())["rows"]
    assert [r["arm"] for r in rows] == ["preset", "no_whiten"]
    with pytest.raises(SystemExit):
        script.main(["--arms", "nope"])
    md.write_text("no markers")
    with pytest.raises(SystemExit, match="no <!-- fmnist-ablation:start -->"):
        script.main(argv)


def test_eval_pass_benchmark_times_both_passes_on_the_same_weights(tmp_path, monkeypatch):
    script = _script("eval_pass", monkeypatch)
    out = tmp_path / "e.json"
    assert script.main(["--dataset", "synthetic", "--eval-limit", "64", "--rounds", "2",
                        "--threads", "1", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    before, now = data["top1"].values()
    assert [len(s) for s in data["seconds"].values()] == [2, 2] and data["ratio"] > 0
    # Same weights, both in bf16: the two passes disagree on a few images at most.
    assert abs(before - now) <= 4 / 64
