"""The training half of ``googlenet demo``: a small GoogLeNet on Fashion-MNIST, in minutes.

The recipe is sized for 2 CPU cores: googlenet_mnist at a quarter of Table 1's widths
(378k parameters, 22M multiply-adds per 28x28 image), bf16 autocast with channels_last,
one-cycle SGD, label smoothing, flips and small shifts, on a subset of the training set.
Without Fashion-MNIST it trains on the built-in synthetic shapes instead.
"""

from __future__ import annotations

from pathlib import Path

from ..data import default_dataset_name
from ..recipe import ModelRecipe
from .config import TrainConfig
from .runner import FitResult, fit


def demo_config(output: str = "runs", dataset: str | None = None,
                train_limit: int | None = 20_000, epochs: int = 3) -> TrainConfig:
    """The demo's recipe (Fashion-MNIST when installed, else synthetic data)."""
    name = dataset or default_dataset_name()
    return TrainConfig(
        recipe=ModelRecipe("googlenet_mnist", width=0.25), dataset=name, epochs=epochs,
        batch_size=128, train_limit=train_limit, optimizer="sgd", lr=0.2, nesterov=True,
        weight_decay=5e-4, schedule="onecycle", label_smoothing=0.1, hflip=name != "mnist",
        shift=0.1,
        precision="bf16", channels_last=True, output=output, name=f"demo-{name}",
    )


def run_demo(cfg: TrainConfig | None = None) -> FitResult:
    """Train the demo model and print where everything went."""
    cfg = cfg or demo_config()
    n = f"the first {cfg.train_limit:,} images" if cfg.train_limit else "all images"
    print(f"\nTraining {cfg.recipe.describe()} on {cfg.dataset} ({n}, {cfg.epochs} "
          f"epochs, {cfg.precision}, channels_last={cfg.channels_last})", flush=True)
    result = fit(cfg, overwrite=True)
    d = Path(result.run_dir)
    final = result.final
    print(f"\ntest accuracy {final['val_acc']:.4f} (top-5 {final['val_top5']:.4f}) after "
          f"{final['time'] / 60:.1f} min of training")
    print(f"run folder {d}/:")
    for what, name in (("report", "report.md"), ("loss curves", "loss.png"),
                       ("accuracy curves", "accuracy.png"), ("learning rate", "lr.png"),
                       ("confusion matrix", "confusion.png"),
                       ("checkpoint", "best.safetensors")):
        print(f"  {what:17s} {d / name}")
    print(f"evaluate it with its mirror images: googlenet eval {d / 'best.safetensors'} "
          "--crops 2")
    return result
