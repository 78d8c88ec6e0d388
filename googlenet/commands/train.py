"""``googlenet train``: train a model; every TrainConfig field is a flag.

Also runs under ``torchrun --nproc_per_node=N -m googlenet train ...`` (data-parallel).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..train.config import TrainConfig, add_config_flags, config_from_args
from ..train.runner import fit


def resume_dir(path: str) -> Path:
    """A run folder given directly or through one of its files."""
    p = Path(path)
    return p.parent if p.is_file() else p


def _config(args: argparse.Namespace) -> TrainConfig:
    base = TrainConfig.load(args.config) if args.config else None
    if args.resume:
        run = resume_dir(args.resume)
        base = TrainConfig.load(run / "config.json")
        base = base.replace(output=str(run.parent), name=run.name)
    return config_from_args(args, base)


def _run(args: argparse.Namespace) -> int:
    cfg = _config(args)
    result = fit(cfg, resume=bool(args.resume), overwrite=args.overwrite)
    if result.stopped == "interrupted":
        print(f"interrupted: saved {result.run_dir}/last.*; continue with "
              f"`googlenet train --resume {result.run_dir}`")
        return 130
    if result.best:
        print(f"best validation accuracy {result.best['val_acc']:.4f} at epoch "
              f"{result.best['epoch']}; run folder: {result.run_dir}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("train", help="train a model (checkpoints, curves, report)",
                       description="Train a model. Flags override --config / the resumed "
                                   "run's config.json. Ctrl-C saves and stops.")
    p.add_argument("--config", help="start from this config JSON")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue the run in RUN_DIR exactly where it stopped")
    p.add_argument("--overwrite", action="store_true",
                   help="start over in a run folder that already holds a run")
    add_config_flags(p)
    p.set_defaults(func=_run)
