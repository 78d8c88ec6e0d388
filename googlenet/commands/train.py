"""``googlenet train``: train a model; every TrainConfig field is a flag.

Also runs under ``torchrun --nproc_per_node=N -m googlenet train ...`` (data-parallel).
``googlenet finetune`` (finetune.py) is the same command with fine-tuning defaults.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..deploy.heap import keep_freed_memory
from ..errors import ConfigError
from ..train.config import TrainConfig, recipe_flags_from_weights
from ..train.presets import PRESETS, get_preset
from ..train.runner import FitResult, fit, prepare_resume
from ..weights.hub import resolve_weights
from ._train_flags import add_config_flags, config_from_args


def resume_dir(path: str) -> Path:
    """The run folder ``--resume`` names; a file in it (``config.json``) is refused with
    the folder to give instead, rather than taken for the folder."""
    p = Path(path)
    if p.is_symlink():  # its checkpoints would be written wherever the link points
        raise ConfigError(f"--resume {path}: is a symbolic link; give the folder itself")
    if p.exists() and not p.is_dir():
        raise ConfigError(f"--resume {path}: is a file; give its run folder "
                          f"(--resume {p.parent})")
    return p


def build_config(args: argparse.Namespace, base: TrainConfig) -> TrainConfig:
    """The run's config: ``--resume``'s config.json (repaired first if a kill left it
    stale), else ``--config``, ``--preset`` or ``base``; then every flag the user gave."""
    preset = getattr(args, "preset", None)
    if preset and (args.resume or args.config):
        raise ConfigError("--preset starts a new run from a named recipe; --resume and "
                          "--config already give the run's config")
    if args.resume:
        run = resume_dir(args.resume)
        if not run.is_dir():  # before the lock, which would create the folder
            raise ConfigError(f"{args.resume}: no run folder to resume")
        prepare_resume(run)
        base = TrainConfig.load(run / "config.json").replace(output=str(run.parent),
                                                             name=run.name)
    elif args.config:
        base = TrainConfig.load(args.config)
    if preset:
        base = get_preset(preset).config()
    return config_from_args(args, base)


def report(result: FitResult, command: str) -> int:
    """Print how the run ended; 130 when it was interrupted (resumable)."""
    if result.stopped == "interrupted":
        print(f"interrupted: saved {result.run_dir}/last.safetensors; continue with "
              f"`googlenet {command} --resume {result.run_dir}`")
        return 130
    if result.best:
        print(f"best accuracy {result.best['val_acc']:.4f} at epoch {result.best['epoch']}: "
              f"{result.weights}")
        print(f"run folder: {result.run_dir}; predict with `googlenet predict IMAGE... "
              f"--weights {result.weights}`")
    return 0


def apply_weights_defaults(args: argparse.Namespace) -> None:
    """``--weights`` without ``--model`` (or ``--cut``) means the file's."""
    if args.resume:
        return
    if getattr(args, "weights", None):  # a release name becomes its cached file
        args.weights = str(resolve_weights(args.weights))
    model, cut = recipe_flags_from_weights(getattr(args, "weights", None),
                                           getattr(args, "model", None),
                                           getattr(args, "cut", None))
    for name, value in (("model", model), ("cut", cut)):
        if value is not None:
            setattr(args, name, value)


def add_run_flags(p: argparse.ArgumentParser, base: TrainConfig,
                  shown: dict[str, str] | None = None) -> None:
    """The flags ``train`` and ``finetune`` share: config, resume, overwrite, fields."""
    p.add_argument("--config", help="start from this config JSON")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue the run in RUN_DIR exactly where it stopped (flags given "
                        "with it override its config.json)")
    p.add_argument("--overwrite", action="store_true",
                   help="start over in a run folder that already holds a run")
    add_config_flags(p, base, shown)


def _run(args: argparse.Namespace) -> int:
    keep_freed_memory()  # this command runs inference or training: see deploy/heap.py
    apply_weights_defaults(args)
    cfg = build_config(args, TrainConfig())
    return report(fit(cfg, resume=bool(args.resume), overwrite=args.overwrite), "train")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("train", help="train a model (checkpoints, curves, report)",
                       description="Train a model. Flags override --config / the resumed "
                                   "run's config.json. Ctrl-C saves and stops; kill -9 "
                                   "loses at most the current epoch.")
    p.add_argument("--preset", choices=tuple(PRESETS),
                   help="start from a named recipe; other flags override its values ("
                        # argparse %-formats help texts: a summary's "40%" is literal.
                        + "; ".join(f"{x.name}: {x.summary}" for x in PRESETS.values())
                        .replace("%", "%%") + ")")
    add_run_flags(p, TrainConfig())
    p.set_defaults(func=_run)
