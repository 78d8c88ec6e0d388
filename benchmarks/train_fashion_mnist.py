"""Benchmark: a Fashion-MNIST preset (``--preset``), from scratch, on this CPU.

Goals (issue 28): ``fmnist-30min`` >= 0.945 test accuracy of the final weights within 30
minutes of wall time on 2 cores, start-up and the final evaluation included;
``fmnist-fast`` >= 0.945 within 60 (the published GoogLeNet row of the Fashion-MNIST
benchmark is 0.937). The script

1. trains exactly what ``googlenet train --preset NAME`` trains (``fit`` on the preset's
   config, report included, with the CLI's allocator setting), evaluating the 10k test
   images with 1 crop after the epochs the preset evaluates: that is only to report when
   0.937, 0.945 and 0.950 were first reached;
2. evaluates the final weights (``last.safetensors``, the EMA average: never an epoch
   picked by test accuracy) with the preset's flip + translate TTA, on the path the run
   evaluates on (bf16 for this preset, :func:`googlenet.deploy.optimize.eval_path`);
   the recipe's wall time runs from the start of this process to here;
3. then times the preset's training step (bf16 + channels_last) against plain fp32
   eager NCHW on the same model and batches, interleaved, in this process
   (``--speed-steps 0``: skip). It is a measurement, not part of the recipe: its time
   counts in ``total_wall_s`` only;
4. writes JSON: the speeds and their ratio, the per-epoch history, the final accuracy
   with 1 crop and with TTA, the times to 0.937 and 0.945, and the wall times.

    PYTHONPATH=. python benchmarks/train_fashion_mnist.py --preset fmnist-30min --seed 0
    PYTHONPATH=. python benchmarks/train_fashion_mnist.py --epochs 1 --train-limit 6000

Besides img/s, the JSON has the GFLOP/s the run sustained: the FLOPs of the trainer's step
(forward and backward, counted by ``FlopCounterMode`` at each size the preset trains at,
after the recipe's time) times the steps of each epoch, over the training time.

``benchmarks/fmnist_ablation.py`` measures what each of the preset's tricks adds;
``benchmarks/train_step.py`` times its step on more paths, with a profile.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from googlenet.deploy.heap import keep_freed_memory
from googlenet.deploy.optimize import eval_path
from googlenet.evaluate import TTA, build_eval_dataset, evaluate_checkpoints
from googlenet.recipe import ModelRecipe
from googlenet.report.history import evaluated
from googlenet.train import TrainConfig, fit
from googlenet.train.presets import PRESETS, get_preset
from googlenet.train.throughput import StepRunner, benchmark_training_step, flops_per_step
from googlenet.weights import read_meta

PUBLISHED, TARGET, STRETCH = 0.937, 0.945, 0.950
_IMPORTED = time.perf_counter()


def seconds_since_start() -> float:
    """Wall seconds since this process started, the imports of torch included (Linux:
    from /proc; elsewhere since this module's imports ended)."""
    try:
        started = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - started / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _IMPORTED


def add_recipe_args(p: argparse.ArgumentParser) -> None:
    """The flags :func:`recipe` reads: the preset's values unless given."""
    p.add_argument("--preset", default="fmnist-fast", choices=sorted(PRESETS),
                   help="the preset trained (default: fmnist-fast)")
    p.add_argument("--model", help="registry model (default: the preset's)")
    p.add_argument("--width", type=float, help="width multiplier (default: the preset's)")
    p.add_argument("--epochs", type=int, help="epochs (default: the preset's)")
    p.add_argument("--batch-size", type=int, help="batch size (default: the preset's)")
    p.add_argument("--train-limit", type=int, help="use only N training images (quick check)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", help="Fashion-MNIST folder (default: search)")
    p.add_argument("--dataset", default="fashion-mnist",
                   help="fashion-mnist (the preset's), or synthetic: the same shapes, for a "
                        "check on a machine without the data set")
    p.add_argument("--eval-limit", type=int, help="evaluate on N test images (quick check)")
    p.add_argument("--output", default="runs")


def recipe(args: argparse.Namespace, **changes: Any) -> TrainConfig:
    """The preset's config with the flags of :func:`add_recipe_args` (and ``changes``)."""
    base = get_preset(args.preset).config()
    model = base.recipe
    assert isinstance(model, ModelRecipe)
    if args.model:  # another model: its own width unless --width
        model = ModelRecipe(args.model, width=args.width)
    elif args.width is not None:
        model = ModelRecipe(model.name, width=args.width)
    values: dict[str, Any] = {
        "recipe": model, "train_limit": args.train_limit, "eval_limit": args.eval_limit,
        "dataset": args.dataset, "threads": args.threads, "seed": args.seed,
        "data": args.data, "output": args.output, "name": f"{args.preset}-s{args.seed}",
        "progress": False}
    values.update({k: v for k, v in (("epochs", args.epochs),
                                     ("batch_size", args.batch_size)) if v is not None})
    return base.replace(**{**values, **changes})


def first_reaching(history: list[dict[str, float]], threshold: float
                   ) -> dict[str, float] | None:
    """The epoch and wall time at which test accuracy first reached ``threshold``."""
    row = next((r for r in evaluated(history) if r["val_acc"] >= threshold), None)
    return None if row is None else {"epoch": row["epoch"], "wall_s": row["wall"]}


class LoadSampler:
    """The machine's 1-minute load average every ``every`` seconds while the recipe runs,
    in a daemon thread (a read of /proc/loadavg: nothing that loads the cores)."""

    def __init__(self, every: float = 15.0) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every: float) -> None:
        while not self._stop.wait(every if self.samples else 0.0):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float | int]:
        """Mean and largest 1-minute load average over the samples."""
        n = len(self.samples)
        return {"samples": n, "mean_1min": round(sum(self.samples) / max(n, 1), 2),
                "max_1min": round(max(self.samples, default=0.0), 2)}


def training_work(cfg: TrainConfig) -> tuple[int, float]:
    """(images per epoch, FLOPs of all the epochs' steps): the trainer's own step counted
    by :func:`~googlenet.train.throughput.flops_per_step` at each size the preset trains
    at (forward and backward: 2 x multiply-adds)."""
    per_step: dict[int | None, int] = {}
    steps = 0
    for e in range(cfg.epochs):
        size = cfg.train_size_at(e)
        if size not in per_step:
            runner = StepRunner(cfg, 1, e)
            per_step[size], steps = flops_per_step(runner), runner.run.ctx.steps_per_epoch
    flops = sum(steps * per_step[cfg.train_size_at(e)] for e in range(cfg.epochs))
    return steps * cfg.batch_size, float(flops)


def measure_speed(cfg: TrainConfig, steps: int) -> dict[str, float]:
    """Images/s of the preset's step and of fp32 eager NCHW, interleaved."""
    bench = benchmark_training_step(cfg, ["bf16_channels_last"],
                                    steps=max(1, steps // 2), rounds=2, warmup=2, profile=0)
    base_ips, fast_ips = (p.images_per_s for p in bench.paths)
    return {"fp32_eager": base_ips, "bf16_channels_last": fast_ips,
            "speedup": fast_ips / base_ips}


def final_tta(cfg: TrainConfig, weights: Path) -> dict[str, Any]:
    """The final weights on the test set with the preset's TTA (or 1 crop without)."""
    t0 = time.perf_counter()
    tta = TTA(cfg.tta, cfg.fill_mode) if cfg.tta else None
    dataset = build_eval_dataset(cfg.dataset, "test", cfg.data,
                                 [read_meta(weights).preprocessing])
    res = evaluate_checkpoints([weights], dataset,
                               crops=1, inference_path=eval_path(cfg.precision), tta=tta,
                               batch_size=cfg.eval_batch_size, limit=cfg.eval_limit)
    return {"views": res.views, "tta": res.tta, "top1": res.top1, "top5": res.top5,
            "eval_s": time.perf_counter() - t0}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure, train, evaluate; the JSON-ready result (also written to ``args.json``)."""
    torch.set_num_threads(args.threads)
    keep_freed_memory()  # as `googlenet train` does
    cfg = recipe(args)
    with LoadSampler() as load:
        result = fit(cfg, overwrite=True)
        hist = result.history
        final = final_tta(cfg, result.run_dir / "last.safetensors")
    recipe_wall = seconds_since_start()
    print(f"test accuracy of the final weights, {final['views']}: {final['top1']:.4f}; "
          f"recipe wall time {recipe_wall / 60:.1f} min", flush=True)
    images, flops = training_work(cfg)  # outside the recipe's time, like the speed
    speed = measure_speed(cfg, args.speed_steps) if args.speed_steps else None
    if speed:
        print(f"training speed: fp32 eager {speed['fp32_eager']:.0f} img/s, bf16+"
              f"channels_last {speed['bf16_channels_last']:.0f} img/s "
              f"({speed['speedup']:.2f}x)", flush=True)
    out = {
        "benchmark": "train_fashion_mnist", "preset": args.preset,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "finished_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(), "threads": args.threads,
        "load_average_at_end": os.getloadavg(), "load_during_run": load.summary(),
        "config": cfg.to_dict(),
        "speed_images_per_s": speed, "epochs": cfg.epochs,
        "final_test_acc_1crop": hist[-1]["val_acc"], "final_test_acc_tta": final,
        "reached_published_0937": first_reaching(hist, PUBLISHED),
        "reached_target_0945": first_reaching(hist, TARGET),
        "reached_stretch_0950": first_reaching(hist, STRETCH),
        "train_images_per_s": images * cfg.epochs / hist[-1]["time"],
        "train_gflops_per_s": flops / hist[-1]["time"] / 1e9,
        "train_wall_s": hist[-1]["wall"], "recipe_wall_s": recipe_wall,
        "total_wall_s": seconds_since_start(),
        "history": hist, "run_dir": str(result.run_dir),
    }
    path = Path(args.json or f"benchmarks/results/train_fashion_mnist_{args.preset}_"
                f"s{args.seed}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"final test accuracy {out['final_test_acc_1crop']:.4f} (1 crop), "
          f"{final['top1']:.4f} ({final['views']}); 0.937 reached: "
          f"{out['reached_published_0937']}; 0.945 reached: {out['reached_target_0945']}; "
          f"recipe {recipe_wall / 60:.1f} min (with the speed measurement "
          f"{out['total_wall_s'] / 60:.1f}); wrote {path}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_recipe_args(p)
    p.add_argument("--speed-steps", type=int, default=10,
                   help="steps per path of the speed measurement (0: skip it)")
    p.add_argument("--json", help="result file (default: "
                   "benchmarks/results/train_fashion_mnist_<PRESET>_s<SEED>.json)")
    run(p.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
