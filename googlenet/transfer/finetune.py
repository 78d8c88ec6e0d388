"""Fine-tuning is training with a transfer recipe: the tutorials' defaults, then ``fit``.

``googlenet finetune`` and :func:`finetune` build a :class:`~googlenet.train.TrainConfig`
whose recipe is a :class:`~googlenet.recipe.TransferRecipe` and whose defaults are the
Keras tutorial's (seed 004: RMSprop at 1e-4 without momentum, a constant rate, Keras'
ImageDataGenerator augmentation), and train it like any other run: same run folder, same
``--resume``, same report. An optional second phase (``unfreeze_epochs``) opens the
recipe's ``unfreeze`` blocks at a lower rate.

>>> from googlenet.transfer import finetune
>>> result = finetune("cats-v-dogs/", weights="v3_notop.safetensors",  # doctest: +SKIP
...                   cut="mixed7", head="binary", input_size=150)
>>> result.weights                                                     # doctest: +SKIP
PosixPath('runs/inception_v3_keras-mixed7-folder-s0/best.safetensors')
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from googlenet.errors import ConfigError
from googlenet.recipe import Head, ModelRecipe, Pool, Recipe, TransferRecipe
from googlenet.train.config import TrainConfig, recipe_flags_from_weights
from googlenet.train.runner import FitResult, fit
from googlenet.weights.hub import resolve_weights

# keras ImageDataGenerator(rotation_range=40, width_shift_range=0.2, height_shift_range=0.2,
# shear_range=0.2, zoom_range=0.2, horizontal_flip=True, fill_mode='nearest'): the seed's
# recipe. Keras reads shear_range in degrees, and so does BatchAugment.
FINETUNE_DEFAULTS: dict[str, Any] = {
    "dataset": "folder", "epochs": 2, "lr": 1e-4, "optimizer": "rmsprop",
    # Keras' RMSprop has no momentum (the trainer's default 0.9 suits training from
    # scratch and makes a fresh head on large features overshoot).
    "momentum": 0.0, "schedule": "constant", "weight_decay": 0.0, "batch_size": 32,
    "eval_batch_size": 64, "rotation": 40.0, "shift": 0.2, "shear": 0.2, "zoom": 0.2,
    "hflip": True, "fill_mode": "nearest",
}


def finetune_base() -> TrainConfig:
    """The fine-tuning defaults as a config (the recipe is a placeholder the caller's
    backbone and cut replace)."""
    recipe = TransferRecipe(ModelRecipe("inception_v3_keras", aux_logits=False), "mixed7")
    return TrainConfig(recipe=recipe, **FINETUNE_DEFAULTS)


def require_cut(cut: str | None) -> str:
    """A fine-tuning run needs a cut (given, or from a fine-tuned weights file)."""
    if not cut:
        raise ConfigError("--cut is required: the feature to cut the backbone after (e.g. "
                          "mixed7 for Inception v3, inception_4e for GoogLeNet)")
    return cut


def finetune(
    data: str | os.PathLike[str],
    *,
    weights: str | os.PathLike[str] | None,
    cut: str | None = None,
    model: str | None = None,
    head: Head = "classes",
    pool: Pool = "avg",
    hidden: int = 0,
    dropout: float = 0.2,
    input_size: int | None = None,
    unfreeze: Sequence[str] = (),
    overwrite: bool = False,
    **options: Any,
) -> FitResult:
    """Fine-tune the backbone of ``weights`` (a release name such as
    ``inception_v3_keras.in1k_notop``, or a weights file) on the image folder ``data``.

    ``data`` holds one sub-folder per class (or ``train/`` and ``test/`` folders that do;
    a single folder takes ``val_split=0.2`` to hold out a validation set). The head is
    global average pooling, ``hidden`` Dense units (0: none), dropout and a classifier:
    ``head="binary"`` (one sigmoid unit, exactly two classes) or "classes" (softmax);
    ``pool="flatten", hidden=1024`` is the Keras tutorial's head. Other keyword arguments
    are :class:`TrainConfig` fields (``epochs``, ``lr``, ``unfreeze_epochs``,
    ``val_split``, ``device``, ...), over the Keras tutorial's defaults
    (:data:`FINETUNE_DEFAULTS`).
    """
    weights = resolve_weights(weights) if weights else None  # a release: its cached file
    name, cut = recipe_flags_from_weights(str(weights) if weights else None, model, cut)
    if name is None:
        raise ConfigError("give weights (a pretrained backbone) or model (start from "
                          "scratch)")
    recipe: Recipe = TransferRecipe(ModelRecipe(name, aux_logits=False), require_cut(cut),
                                    head=head, pool=pool, hidden=hidden,
                                    dropout=dropout, input_size=input_size,
                                    unfreeze=tuple(unfreeze))
    cfg = finetune_base().replace(recipe=recipe, data=str(data),
                                  weights=str(weights) if weights else None, **options)
    return fit(cfg, overwrite=overwrite)
