"""One evaluation pass of the ``fmnist-fast`` run over the 10,000 test images: the path
a run scores on now against the way runs scored before.

A run evaluates its model on :func:`googlenet.deploy.optimize.eval_path` of its precision
(for the bf16 preset: the fused graph, BN folded and 1x1s merged, with bf16 weights).
Before, it ran the unfused training model under bf16 autocast in channels_last. Both
passes run here on the same weights, in interleaved rounds, and the script prints their
seconds, their ratio and their accuracies (random-init weights unless ``--weights``).

    PYTHONPATH=. python benchmarks/eval_pass.py --rounds 3
    PYTHONPATH=. python benchmarks/eval_pass.py --weights runs/x/last.safetensors
    PYTHONPATH=. python benchmarks/eval_pass.py --dataset synthetic --eval-limit 500
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch

from benchmarks.train_fashion_mnist import add_recipe_args, recipe
from googlenet.data import make_loader
from googlenet.data.base import dataset_len
from googlenet.deploy.optimize import to_channels_last
from googlenet.train.distributed import DistInfo
from googlenet.train.engine import autocast, evaluate
from googlenet.train.inputs import prepare_eval
from googlenet.train.runner import Run
from googlenet.weights import load_model


def autocast_pass(run: Run, model: torch.nn.Module) -> dict[str, float]:
    """The earlier evaluation: the training model itself, eval mode, bf16 autocast on a
    channels_last copy."""
    data, cfg = run.data, run.cfg
    module = to_channels_last(model).eval()
    hits = count = 0
    n = min(dataset_len(data.eval), cfg.eval_limit or dataset_len(data.eval))
    with torch.no_grad():
        for images, targets in make_loader(data.eval, cfg.eval_batch_size,
                                           indices=torch.arange(n)):
            x = prepare_eval(images, data.input_size, data.mean, data.std)
            with autocast(cfg.precision, run.device):
                logits = module(x.contiguous(memory_format=torch.channels_last)).float()
            hits += int((logits.argmax(1) == targets).sum())
            count += len(targets)
    return {"acc": hits / max(count, 1)}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_recipe_args(p)
    p.add_argument("--weights", help="a checkpoint of the preset (default: random init)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json", help="also write the result here")
    args = p.parse_args(argv)
    cfg = recipe(args, epochs=1)
    torch.set_num_threads(args.threads)
    run = Run(cfg, DistInfo(), torch.device("cpu"))
    model = load_model(args.weights, torch.device("cpu"))[0] if args.weights else run.model
    data = run.data

    def now_pass() -> dict[str, Any]:
        return evaluate(model, data.eval, input_size=data.input_size, mean=data.mean,
                        std=data.std, batch_size=cfg.eval_batch_size,
                        precision=cfg.precision, limit=cfg.eval_limit)

    passes: dict[str, Callable[[], dict[str, Any]]] = {
        "autocast (before)": lambda: autocast_pass(run, model),
        f"eval_path: {cfg.precision} fused (now)": now_pass}
    seconds: dict[str, list[float]] = {k: [] for k in passes}
    acc: dict[str, float] = {}
    for k in range(args.rounds):
        for name in list(passes)[k % 2:] + list(passes)[:k % 2]:
            start = time.perf_counter()
            acc[name] = float(passes[name]()["acc"])
            seconds[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in seconds.items()}
    before, now = med.values()
    for name in passes:
        print(f"{name:32s} {med[name]:6.2f} s (rounds: "
              f"{', '.join(f'{s:.2f}' for s in seconds[name])})  top-1 {acc[name]:.4f}")
    print(f"ratio: {before / now:.2f}x")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"command": " ".join(sys.argv), "seconds": seconds, "median": med,
                       "ratio": before / now, "top1": acc}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
