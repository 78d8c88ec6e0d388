"""Training-step throughput of the Fashion-MNIST benchmark recipe on every execution path.

The recipe is the ``fmnist-fast`` preset (``benchmarks/train_fashion_mnist.py``'s:
googlenet_mnist at width 0.25, batch 256, SGD + EMA, alternating flips, translations).
Each path (fp32 eager NCHW, the baseline; fp32 channels_last; bf16 autocast, NCHW and
channels_last; torch.compile of the forward and backward, fp32 and bf16 +
channels_last; bf16 + channels_last with each BN + ReLU fused by this package's C
kernels, ``--native-kernels``; fp32 eager on one thread) is timed in
interleaved rounds in this process; each row gives its ratio to the baseline, the GFLOP/s
it sustains (FLOPs of one step counted by FlopCounterMode) and, for compiled paths, the
compile time. Every path is then profiled by op type (conv, bn, pool, cat, optimizer,
...).

    PYTHONPATH=. python benchmarks/train_step.py                      # every path
    PYTHONPATH=. python benchmarks/train_step.py --paths bf16_channels_last --steps 2
    PYTHONPATH=. python benchmarks/train_step.py --dataset synthetic  # without the data set
    PYTHONPATH=. python benchmarks/train_step.py --preset fmnist-30min --epoch 1  # at 20 px
    PYTHONPATH=. python benchmarks/train_step.py --paths bf16_channels_last_native  # C kernels

Writes JSON (``--out``) and prints the tables as Markdown.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.result_json import write_result
from benchmarks.train_fashion_mnist import add_recipe_args, recipe
from googlenet.train.throughput import STEP_PATHS, benchmark_training_step, render


def build_parser() -> argparse.ArgumentParser:
    """The recipe's flags, and how long to measure."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_recipe_args(p)
    p.add_argument("--paths", default=",".join(STEP_PATHS),
                   help="comma-separated paths (eager, the baseline, is always measured)")
    p.add_argument("--steps", type=int, default=3, help="steps per path per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=int, default=2, help="untimed steps per path first")
    p.add_argument("--profile-steps", type=int, default=2,
                   help="steps profiled on every path (0: none)")
    p.add_argument("--epoch", type=int,
                   help="time the step of this epoch (from 1; default: the last, at the "
                        "model's size): under progressive resizing, at that epoch's size")
    p.add_argument("--out", default="benchmarks/results/train_step.json")
    return p


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure as ``args`` say; the JSON-ready result (also written to ``args.out``)."""
    start = time.perf_counter()
    cfg = recipe(args, report=False)
    report = benchmark_training_step(cfg, args.paths.split(","), steps=args.steps,
                                     rounds=args.rounds, warmup=args.warmup,
                                     profile=args.profile_steps,
                                     epoch=None if args.epoch is None else args.epoch - 1)
    print(render(report), flush=True)
    data = report.as_dict() | {
        "benchmark": "train_step", "dataset": args.dataset, "config": cfg.to_dict(),
        "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
        # How OpenMP threads wait between ops changes CPU speed on a shared machine.
        "env": {k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")},
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "wall_s": round(time.perf_counter() - start, 1),
    }
    out = write_result(args.out, data)
    print(f"wrote {out} ({data['wall_s']} s)")
    return data


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, measure, write."""
    run(build_parser().parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
