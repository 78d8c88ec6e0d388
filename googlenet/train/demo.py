"""The training half of ``googlenet demo``: a small GoogLeNet on Fashion-MNIST, in minutes.

The recipe is sized for 2 CPU cores: googlenet_mnist at a quarter of Table 1's widths
(378k parameters, 22M multiply-adds per 28x28 image), bf16 autocast with channels_last,
one-cycle SGD, label smoothing, flips and small shifts, on a subset of the training set.
Without Fashion-MNIST it trains on the built-in synthetic shapes instead, and says so.
"""

from __future__ import annotations

from pathlib import Path

from ..data import default_dataset_name, find_idx_dataset
from ..errors import DataError
from ..evaluate.metrics import top5_text
from ..recipe import ModelRecipe
from .config import TrainConfig
from .runner import FitResult, fit


def demo_config(output: str = "runs", dataset: str | None = None,
                train_limit: int | None = 20_000, epochs: int = 3,
                data: str | None = None) -> TrainConfig:
    """The demo's recipe: Fashion-MNIST when installed, else synthetic data; with ``data``
    (a folder the user named) Fashion-MNIST from there, never a silent fallback."""
    name = dataset or ("fashion-mnist" if data else default_dataset_name())
    return TrainConfig(
        recipe=ModelRecipe("googlenet_mnist", width=0.25), dataset=name, data=data,
        epochs=epochs, batch_size=128, train_limit=train_limit, optimizer="sgd", lr=0.2,
        nesterov=True, weight_decay=5e-4, schedule="onecycle", label_smoothing=0.1,
        hflip=name != "mnist", shift=0.1,
        precision="bf16", channels_last=True, output=output, name=f"demo-{name}",
    )


def synthetic_fallback_note(cfg: TrainConfig) -> str | None:
    """Why the demo trains on synthetic data and how to get Fashion-MNIST, or None when it
    is not a fallback (Fashion-MNIST is used, or is installed and synthetic was chosen)."""
    if cfg.dataset != "synthetic":
        return None
    try:
        find_idx_dataset("fashion-mnist", cfg.data)
    except DataError as err:
        searched = str(err).split("; ")[0]
        return (f"note: {searched}, so the demo trains on the built-in synthetic shapes "
                "instead. For the real data: `apt-get install dataset-fashion-mnist` "
                "(Debian), or put the four IDX files in a folder and pass --data FOLDER "
                "or set $GOOGLENET_DATA.")
    return None


def run_demo(cfg: TrainConfig | None = None) -> FitResult:
    """Train the demo model and print where everything went: after Ctrl-C, the epoch it
    stopped in, how to resume, and only the files it wrote."""
    cfg = cfg or demo_config()
    note = synthetic_fallback_note(cfg)
    if note:
        print(f"\n{note}", flush=True)
    n = f"the first {cfg.train_limit:,} images" if cfg.train_limit else "all images"
    print(f"\nTraining {cfg.recipe.describe()} on {cfg.dataset} ({n}, {cfg.epochs} "
          f"epochs, {cfg.precision}, channels_last={cfg.channels_last})", flush=True)
    result = fit(cfg, overwrite=True)
    d = Path(result.run_dir)
    if result.stopped == "interrupted":
        print(f"\ninterrupted at epoch {len(result.history) + 1}; resume with "
              f"`googlenet train --resume {d}`")
    else:
        final = result.final
        top5 = top5_text(final["val_top5"], " (top-5 {:.4f})")
        print(f"\ntest accuracy {final['val_acc']:.4f}{top5} after "
              f"{final['time'] / 60:.1f} min of training")
    print(f"run folder {d}/:")
    for what, name in _RUN_FILES:
        if (d / name).is_file():  # an interrupted run wrote only some of them
            print(f"  {what:17s} {d / name}")
    if (d / "best.safetensors").is_file():
        print(f"evaluate it with its mirror images: googlenet eval "
              f"{d / 'best.safetensors'} --crops 2")
    return result


# What the demo's run folder holds once it ends, as the demo lists it.
_RUN_FILES = (("report", "report.md"), ("loss curves", "loss.png"),
              ("accuracy curves", "accuracy.png"), ("learning rate", "lr.png"),
              ("confusion matrix", "confusion.png"), ("checkpoint", "best.safetensors"),
              ("last checkpoint", "last.safetensors"))
