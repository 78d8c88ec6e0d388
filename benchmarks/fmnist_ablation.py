"""Ablation of the ``fmnist-fast`` preset: what each of its tricks adds, at a short budget.

Every arm trains the preset with one change (a trick taken out, or a candidate put in)
for the same epochs on the same first ``--train-limit`` Fashion-MNIST training images,
one after another in this process, and is scored by the test accuracy of its final
(EMA) weights with 1 crop; the preset's own arm is also scored with its flip + translate
TTA, which is the "without TTA" row at no extra training. The script writes JSON and
puts the table into BENCHMARKS.md between its markers.

    PYTHONPATH=. python benchmarks/fmnist_ablation.py                       # 12 arms
    PYTHONPATH=. python benchmarks/fmnist_ablation.py --arms preset,no_ema --epochs 1 \\
        --train-limit 2000 --no-markdown                                    # a check

One seed at a short budget: differences under ~0.3 points are within the noise of a
single run (the table gives the spread of two seeds of the preset to show it).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from benchmarks.markdown import markers, write_between
from benchmarks.train_fashion_mnist import add_recipe_args, final_tta, recipe
from googlenet.errors import TrainingError
from googlenet.recipe import ModelRecipe
from googlenet.train import TrainConfig, fit

SECTION = "fmnist-ablation"
START, END = markers(SECTION)


@dataclass(frozen=True)
class Arm:
    """One change to the preset; ``epochs_scale`` shrinks the epochs of a slower model
    so that it gets about the same wall time."""

    name: str
    label: str
    changes: dict[str, Any] = field(default_factory=dict)
    epochs_scale: float = 1.0


ARMS: tuple[Arm, ...] = (
    Arm("preset", "the preset (all of it)"),
    Arm("seed1", "the preset, seed 1 (the noise between two runs)", {"seed": 1}),
    Arm("no_alternate_flip", "- alternating flip (a coin toss per image)",
        {"alternate_flip": False}),
    Arm("no_bn_bias_lr", "- BN biases at 16x lr (1x)", {"bn_bias_lr": 1.0}),
    Arm("no_fast_bn", "- fast BN statistics (momentum 0.1, EMA kept)", {"bn_momentum": None}),
    Arm("no_ema", "- EMA and fast BN statistics", {"ema_decay": 0.0, "bn_momentum": None}),
    Arm("no_whiten", "- whitened stem (default init)", {"whiten_stem": False}),
    Arm("no_label_smoothing", "- label smoothing 0.1", {"label_smoothing": 0.0}),
    Arm("no_translate", "- 2-px translations in training", {"translate": 0}),
    Arm("cosine", "cosine instead of one-cycle", {"schedule": "cosine"}),
    Arm("cutout", "+ cutout 8x8", {"cutout": 8}),
    Arm("wide_shape", "googlenet_mnist_wide at width 0.25 (strided stem)",
        {"recipe": ModelRecipe("googlenet_mnist_wide", width=0.25)}),
    Arm("inception_resnet", "inception_resnet_mnist, 1/4 of the epochs (4.4x slower "
        "per image: about the same wall time)",
        {"recipe": ModelRecipe("inception_resnet_mnist")}, epochs_scale=0.25),
)


def arm_config(arm: Arm, args: argparse.Namespace) -> TrainConfig:
    """The preset with the arm's change at the ablation's budget."""
    epochs = max(1, round(args.epochs * arm.epochs_scale))
    return recipe(args, epochs=epochs, name=f"ablation-{arm.name}", report=False,
                  **arm.changes)


def run_arm(arm: Arm, args: argparse.Namespace) -> dict[str, Any]:
    """Train one arm; its final accuracy (and, for the preset, with TTA)."""
    cfg = arm_config(arm, args)
    start = time.perf_counter()
    try:
        result = fit(cfg, overwrite=True)
    except TrainingError as err:  # a diverging arm is a result, not the end of the table
        print(f"{arm.name}: {err}", flush=True)
        return {"arm": arm.name, "label": arm.label, "epochs": cfg.epochs,
                "stopped": str(err).split(";")[0], "train_wall_s": time.perf_counter() - start}
    wall = time.perf_counter() - start
    row: dict[str, Any] = {
        "arm": arm.name, "label": arm.label, "changes": {k: str(v) for k, v in
                                                          arm.changes.items()},
        "epochs": cfg.epochs, "final_acc_1crop": result.history[-1]["val_acc"],
        "train_wall_s": wall,
        "images_per_s": sum(r["images_per_s"] for r in result.history) / len(result.history),
        "history": [r["val_acc"] for r in result.history],
    }
    if arm.name == "preset":
        row["final_tta"] = final_tta(cfg, result.run_dir / "last.safetensors")
    print(f"{arm.name}: {row['final_acc_1crop']:.4f} in {wall:.0f} s", flush=True)
    return row


def markdown(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    """The table, each arm's difference to the preset's 1-crop accuracy."""
    base = next((r for r in rows if r["arm"] == "preset"), None) or \
        next(r for r in rows if "stopped" not in r)
    out = [f"{len(rows)} arms, each {args.epochs} epochs (fewer where it says) on the "
           f"first {args.train_limit} training images, seed {args.seed}, scored on the "
           "10,000 test images by the final EMA weights, 1 crop.", "",
           "| arm | test acc | vs preset | img/s | wall |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        if "stopped" in r:
            out.append(f"| {r['label']} | stopped: {r['stopped']} | | | "
                       f"{r['train_wall_s']:.0f} s |")
            continue
        diff = r["final_acc_1crop"] - base["final_acc_1crop"]
        out.append(f"| {r['label']} | {r['final_acc_1crop']:.4f} | "
                   f"{'' if r is base else f'{diff:+.4f}'} | {r['images_per_s']:.0f} | "
                   f"{r['train_wall_s']:.0f} s |")
        if "final_tta" in r:
            t = r["final_tta"]
            out.append(f"| the preset scored with its TTA ({t['views']}) | {t['top1']:.4f} | "
                       f"{t['top1'] - r['final_acc_1crop']:+.4f} (TTA) | | "
                       f"+{t['eval_s']:.0f} s |")
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arms", default=",".join(a.name for a in ARMS),
                   help="comma-separated arms (default: all)")
    add_recipe_args(p)
    p.set_defaults(epochs=4, train_limit=20_000)
    p.add_argument("--json", default="benchmarks/results/fmnist_ablation.json")
    p.add_argument("--markdown", default="BENCHMARKS.md",
                   help="file whose ablation markers get the table")
    p.add_argument("--no-markdown", action="store_true", help="only write the JSON")
    args = p.parse_args(argv)
    by_name = {a.name: a for a in ARMS}
    names = [n.strip() for n in args.arms.split(",") if n.strip()]
    unknown = [n for n in names if n not in by_name]
    if unknown:
        p.error(f"--arms: unknown arm(s) {', '.join(unknown)}; arms: {', '.join(by_name)}")
    torch.set_num_threads(args.threads)
    rows = [run_arm(by_name[n], args) for n in names]
    command = "PYTHONPATH=. python benchmarks/fmnist_ablation.py " + " ".join(argv or sys.argv[1:])
    table = markdown(rows, args)
    print(table)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"command": command.strip(), "rows": rows,
                                           "epochs": args.epochs,
                                           "train_limit": args.train_limit,
                                           "seed": args.seed}, indent=1) + "\n",
                               encoding="utf-8")
    if not args.no_markdown:
        write_between(Path(args.markdown), SECTION, table, command.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
