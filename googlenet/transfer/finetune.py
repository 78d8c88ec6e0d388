"""``finetune``: the tutorials' transfer-learning recipe in one call, on the shared trainer.

Phase 1 trains a new head on a frozen backbone cut at a named feature (Keras users: Inception
v3 at ``mixed7``, RMSprop at 1e-4, two epochs). Phase 2 (optional) unfreezes the last blocks
and trains on at a lower learning rate. Each phase is an ordinary training run of
:func:`googlenet.train.fit` (run folder, ``best``/``last`` checkpoints, curves, report), so
``googlenet predict --weights RUN/best.safetensors`` works on the result.

>>> from googlenet.transfer import finetune
>>> result = finetune("cats-v-dogs/", weights="inception_v3.safetensors",  # doctest: +SKIP
...                   cut="mixed7", head="binary", input_size=150)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from googlenet.errors import DataError
from googlenet.train import FitResult, TrainConfig, fit
from googlenet.train.inputs import CustomModel
from googlenet.transfer.build import build_transfer_model, load_model, transfer_preprocessing
from googlenet.transfer.model import HeadOptions, TransferModel

# keras ImageDataGenerator(rotation_range=40, width_shift_range=0.2, height_shift_range=0.2,
# shear_range=0.2, zoom_range=0.2, horizontal_flip=True, fill_mode='nearest'): the seed's
# recipe. Keras reads shear_range in degrees, and so does BatchAugment.
KERAS_AUGMENT: dict[str, Any] = {"rotation": 40.0, "shift": 0.2, "shear": 0.2, "zoom": 0.2,
                                 "hflip": True}


@dataclass
class FinetuneResult:
    """The fine-tuned model (best checkpoint of the last phase) and the runs behind it."""

    model: nn.Module
    weights: Path
    runs: list[FitResult]

    @property
    def history(self) -> list[dict[str, float]]:
        """Every epoch of every phase, in order."""
        return [row for run in self.runs for row in run.history]


def _custom(build: Any, pre: Any, augment: dict[str, Any]) -> CustomModel:
    return CustomModel(build=build, input_size=pre.input_size, mean=tuple(pre.mean),
                       std=tuple(pre.std),
                       augment={"shear_range": augment["shear"], "zoom_range": augment["zoom"],
                                "fill_mode": "nearest"})


def finetune(
    data: str | os.PathLike[str],
    *,
    weights: str | os.PathLike[str] | None,
    cut: str,
    model: str | None = None,
    head: HeadOptions | str = "classes",
    input_size: int | None = None,
    epochs: int = 2,
    lr: float = 1e-4,
    optimizer: str = "rmsprop",
    batch_size: int = 32,
    augment: dict[str, Any] | None = None,
    unfreeze: Sequence[str] = (),
    unfreeze_lr: float = 1e-5,
    unfreeze_epochs: int = 0,
    output: str = "runs",
    name: str | None = None,
    overwrite: bool = False,
    **train_options: Any,
) -> FinetuneResult:
    """Fine-tune the backbone of ``weights`` on the image folder ``data``.

    ``data`` holds one sub-folder per class (or ``train/`` and ``test/`` folders that do);
    ``head`` is a :class:`HeadOptions` or its kind: "binary" needs exactly two classes.
    ``augment`` overrides entries of :data:`KERAS_AUGMENT`. Other keyword arguments are
    :class:`TrainConfig` fields (``device``, ``precision``, ``eval_split``, ...).
    ``unfreeze`` names blocks (e.g. ``["mixed9", "mixed10"]``) trained for
    ``unfreeze_epochs`` more epochs at ``unfreeze_lr`` after the head.
    """
    aug = {**KERAS_AUGMENT, **(augment or {})}
    head = HeadOptions.of(head)
    holder: dict[str, TransferModel] = {}

    def build(classes: list[str]) -> TransferModel:
        if head.head == "binary" and len(classes) != 2:
            raise DataError(f"{data}: a binary head needs 2 class folders, found "
                            f"{len(classes)} ({', '.join(classes)})")
        net, _ = build_transfer_model(weights, model=model, cut=cut, num_classes=len(classes),
                                      head=head, input_size=input_size)
        holder["model"] = net
        return net

    backbone, pre = transfer_preprocessing(weights, model, input_size)
    cfg = TrainConfig(
        model=backbone, dataset="folder", data=str(data), epochs=epochs, lr=lr,
        optimizer=optimizer, batch_size=batch_size, schedule="constant", weight_decay=0.0,
        # Keras' RMSprop has no momentum (the trainer's default 0.9 suits training from
        # scratch and makes a fresh head on large features overshoot).
        momentum=train_options.pop("momentum", 0.0),
        aux_logits=False, hflip=bool(aug["hflip"]), shift=float(aug["shift"]),
        rotation=float(aug["rotation"]), output=output,
        name=name or f"finetune-{backbone}-{cut}", **train_options,
    )
    runs = [fit(cfg, overwrite=overwrite, custom=_custom(build, pre, aug))]
    if unfreeze and unfreeze_epochs > 0:
        net = holder["model"]
        net.unfreeze(unfreeze)
        cfg2 = cfg.replace(lr=unfreeze_lr, epochs=unfreeze_epochs,
                           name=f"{cfg.run_name}-unfreeze")
        runs.append(fit(cfg2, overwrite=overwrite,
                        custom=_custom(lambda classes: net, pre, aug)))
    best = runs[-1].run_dir / "best.safetensors"
    model_out, _ = load_model(best)
    return FinetuneResult(model_out, best, runs)

