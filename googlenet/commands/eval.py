"""``googlenet eval --model CKPT [--model CKPT ...]`` (or ``googlenet eval CKPT [CKPT ...]``):
top-1/top-5, per-class accuracy, confusion matrix.

Several checkpoints form an ensemble (softmax averaged); ``--crops 2`` adds the mirror
image, ``--crops 10`` or ``144`` is the paper's multi-crop testing, ``--tta`` the flip +
translate test-time augmentation of fast-training recipes (googlenet/evaluate/tta.py),
which fills the pixels it shifts in as the run's ``fill_mode`` in config.json says.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from ..data.registry import has_split
from ..deploy import PATHS
from ..deploy.heap import keep_freed_memory
from ..devices import DEVICE_NAMES, resolve_device
from ..errors import DataError, UsageError
from ..evaluate import CROP_SCHEMES, TTA, build_eval_dataset, check_views, evaluate_checkpoints
from ..evaluate.crops import views_label
from ..evaluate.metrics import top5_text
from ..report.plots import plot_confusion
from ..train.config import TrainConfig
from ..weights.catalogue import find_release
from ._common import (
    add_model_argument,
    loaded_all_from_args,
    model_sources,
    positive_int,
    print_json,
)


def _run_config(first: str) -> TrainConfig | None:
    """The training config beside the first checkpoint, if it is a file and has one."""
    cfg_path = Path(first).parent / "config.json"
    return TrainConfig.load(cfg_path) if Path(first).is_file() and cfg_path.is_file() else None


def _dataset_args(args: argparse.Namespace, first: str,
                  cfg: TrainConfig | None) -> tuple[str, str | None]:
    """--dataset/--data, or the training config beside the first checkpoint."""
    if args.dataset:
        return args.dataset, args.data
    if cfg is not None:
        return cfg.dataset, args.data or cfg.data
    if Path(first).is_dir():  # a run folder given for its checkpoint
        raise DataError(f"{first}: is a folder; give a checkpoint in it (e.g. "
                        f"{Path(first) / 'best.safetensors'})")
    raise DataError(f"{first}: no config.json beside it; give --dataset")


def _tta(args: argparse.Namespace, cfg: TrainConfig | None) -> TTA | None:
    """``--tta PX``, filled as the run's training shift filled (constant 0 without a
    config: the trainer's default)."""
    if not args.tta:
        return None
    return TTA(args.tta, cfg.fill_mode if cfg is not None else "constant")


def _split_label(name: str, split: str, root: str | None) -> str:
    """What is evaluated: ``split``, or for an image folder without a ``split``
    sub-folder, "all" of the folder, with a warning, since a folder that trained the model
    then scores its own training images."""
    if has_split(name, split, root):
        return split
    print(f"WARNING: {root} has no '{split}' sub-folder: evaluating every image in it, "
          "which are the training images if this folder trained the model",
          file=sys.stderr, flush=True)
    return "all"


def _stem(name: str, split: str, crops: int, checkpoints: list[str],
          tta: TTA | None = None) -> str:
    """The result files' name; an ensemble's names its members by a short hash, so it
    neither overwrites the first member's own result nor another ensemble's."""
    views = f"tta{tta.shift}" if tta is not None else f"{crops}crop"
    stem = f"eval-{name}-{split}-{views}"
    if len(checkpoints) == 1:
        return stem
    members = "\n".join(str(Path(p).resolve()) for p in checkpoints)
    return f"{stem}-ensemble{len(checkpoints)}-{hashlib.sha1(members.encode()).hexdigest()[:8]}"


def _run(args: argparse.Namespace) -> int:
    keep_freed_memory()  # this command runs inference or training: see deploy/heap.py
    check_views(args.crops, TTA() if args.tta else None)  # before any file is read
    device = resolve_device(args.device)
    sources = model_sources(args)
    if not sources:
        raise UsageError("no checkpoint given: name one or more with --model")
    # The run's config says the dataset (without --dataset) and how TTA fills its shifts.
    cfg = _run_config(sources[0]) if not args.dataset or args.tta else None
    name, root = _dataset_args(args, sources[0], cfg)
    tta = _tta(args, cfg)
    models = loaded_all_from_args(args, device)
    split = _split_label(name, args.split, root)
    dataset = build_eval_dataset(name, args.split, root, [m.preprocessing for m in models],
                                 args.crops)
    report = evaluate_checkpoints(models, dataset, crops=args.crops,
                                  batch_size=args.batch_size, device=device,
                                  inference_path=args.path, limit=args.limit, tta=tta)
    views = views_label(args.crops, tta)
    # The result is printed before any file is written: a read-only or full disk then
    # costs the files, not the minutes of evaluation.
    if args.json:
        print_json(report.as_dict())
    else:
        print(f"{name}/{split}: {report.count} images, {views}, {len(models)} model(s)")
        print(f"top-1 {report.top1:.4f}{top5_text(report.top5, '  top-5 {:.4f}')}  "
              f"(inference path: {report.inference_path})")
        for cls, acc in report.per_class.items():
            print(f"  {cls:>24s}  {'-' if acc is None else f'{acc:.4f}'}")
    sys.stdout.flush()
    # A release's results go to the working folder, not into the weights cache.
    named = find_release(sources[0]) is not None
    out = Path(args.out) if args.out else Path("." if named else sources[0]).parent
    out.mkdir(parents=True, exist_ok=True)
    stem = _stem(name, split, args.crops, sources, tta)
    (out / f"{stem}.json").write_text(json.dumps(report.as_dict(), indent=1), encoding="utf-8")
    png = plot_confusion(report.confusion, report.classes, out / f"{stem}-confusion.png",
                         f"{name}/{args.split}, {views}: top-1 {report.top1:.4f}")
    if not args.json:
        print(f"wrote {out / (stem + '.json')} and {png}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("eval", help="evaluate checkpoints (multi-crop, ensembles)")
    add_model_argument(p, positional="CHECKPOINT", many=True)
    p.add_argument("--dataset", help="dataset name (default: the run's config.json)")
    p.add_argument("--data", help="dataset root / folder")
    p.add_argument("--split", default="test")
    p.add_argument("--crops", type=int, default=1, choices=CROP_SCHEMES)
    p.add_argument("--tta", type=positive_int, nargs="?", const=1, metavar="PX",
                   help="flip + translate test-time augmentation: the image and its mirror, "
                        "each also shifted by 1..PX pixels along the diagonal (PX default 1: "
                        "6 views), softmax averaged; pixels shifted in are filled as the "
                        "run's --fill-mode (config.json), else 0. Not with --crops 2/10/144")
    p.add_argument("--batch-size", type=positive_int, default=256)
    p.add_argument("--limit", type=positive_int, help="only the first N images")
    p.add_argument("--device", default="auto", help=f"{DEVICE_NAMES} (default auto)")
    p.add_argument("--path", default="auto", choices=("auto", *PATHS),
                   help="inference path (default auto: the shortest time per batch at "
                        "large batches, within tolerance, among the paths that build without "
                        "a compile or an ONNX export. BENCHMARKS.md has the measurements; "
                        "`googlenet bench` measures your model)")
    p.add_argument("--out", help="folder for the JSON and confusion PNG "
                                 "(default: the checkpoint's; . for a release)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=_run)
