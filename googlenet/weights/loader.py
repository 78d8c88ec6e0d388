"""The one loader: any googlenet weights file -> its model, classes and preprocessing.

Files from ``convert`` (torchvision, Keras, Caffe), ``train`` and ``finetune`` all carry
the metadata of :mod:`googlenet.weights.meta`, so one function reads them all:

>>> from googlenet.weights import load_model
>>> model, meta = load_model("runs/fmnist/best.safetensors")   # doctest: +SKIP
>>> meta.classes[:2], meta.preprocessing.input_size            # doctest: +SKIP
(('T-shirt/top', 'Trouser'), 28)

A run's ``last`` checkpoint holds its training state too, under ``training.`` keys
(:func:`save_weights` with ``training_state``); model loading skips those tensors, and
:func:`load_training_state` reads them back for a resume.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from googlenet.errors import WeightsError
from googlenet.models import build_model, get_model_info
from googlenet.models import create_model as create_fresh_model
from googlenet.preprocessing import Preprocessing, as_rgb
from googlenet.recipe import ModelArgs, ModelRecipe, Recipe, TransferRecipe
from googlenet.weights.check import check_state_dict
from googlenet.weights.meta import WeightsMeta
from googlenet.weights.safetensors_io import (
    load_safetensors,
    read_safetensors_metadata,
    save_safetensors,
)
from googlenet.weights.tree import flatten_tree, unflatten_tree

if TYPE_CHECKING:  # typing.Unpack is Python 3.11+; torch requires typing_extensions
    from typing_extensions import Unpack

TRAINING_PREFIX = "training."
_TRAINING_STATE = "training.state"  # metadata key of the training state's JSON skeleton


def _is_model_key(key: str) -> bool:
    return not key.startswith(TRAINING_PREFIX)


def read_meta(path: str | os.PathLike[str]) -> WeightsMeta:
    """The metadata of a weights file, without reading its tensors."""
    return WeightsMeta.from_metadata(read_safetensors_metadata(path), path)


def resolve_preprocessing(model_or_weights: str | os.PathLike[str]) -> Preprocessing:
    """The preprocessing of a weights file (its metadata), or of a fresh registry model.

    A path that exists is read as a weights file; anything else is looked up in the
    registry (an unknown name raises with the closest matches).

    >>> resolve_preprocessing("googlenet_bn").mean      # a fresh registry model
    (0.5, 0.5, 0.5)
    """
    if Path(model_or_weights).is_file():
        return read_meta(model_or_weights).preprocessing
    return get_model_info(str(model_or_weights)).preprocessing


def load_state_dict(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], WeightsMeta]:
    """The model's tensors (no training state) and the metadata of a weights file."""
    state, raw = load_safetensors(path, keys=_is_model_key)
    return state, WeightsMeta.from_metadata(raw, path)


def save_weights(
    path: str | os.PathLike[str],
    state_dict: dict[str, torch.Tensor],
    meta: WeightsMeta,
    training_state: dict[str, Any] | None = None,
) -> None:
    """Write weights, metadata and optionally a training state as ONE safetensors file,
    atomically: a crash leaves the previous file whole, so weights and training state
    can never disagree."""
    bad = [k for k in state_dict if not _is_model_key(k)]
    if bad:
        raise WeightsError(f"{path}: model key {bad[0]!r} uses the reserved "
                           f"prefix {TRAINING_PREFIX!r}")
    metadata = meta.to_metadata()
    tensors = dict(state_dict)
    if training_state is not None:
        skeleton, extra = flatten_tree(training_state, _TRAINING_STATE)
        metadata[_TRAINING_STATE] = skeleton
        tensors.update(extra)
    save_safetensors(path, tensors, metadata)


def load_training_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The training state saved with ``path`` (a run's ``last`` checkpoint)."""
    tensors, raw = load_safetensors(path, keys=lambda k: not _is_model_key(k))
    if _TRAINING_STATE not in raw:
        raise WeightsError(f"{path}: holds no training state (only a run's last "
                           "checkpoint can be resumed)")
    state = unflatten_tree(raw[_TRAINING_STATE], tensors, str(path))
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: damaged training state")
    return state


def load_model(
    path: str | os.PathLike[str], device: torch.device | str | None = None
) -> tuple[nn.Module, WeightsMeta]:
    """Rebuild the model any googlenet weights file describes and load its weights,
    strictly (eval mode, float32, on ``device``): a missing, extra, misshapen, non-float
    or non-finite tensor, or class names that do not match the classifier, is a one-line
    :class:`WeightsError`."""
    state, meta = load_state_dict(path)
    # float32 whatever torch's default dtype: preprocessing hands the model float32.
    model = build_model(meta.recipe).float()
    model.load_state_dict(check_state_dict(state, model, source=str(path)))
    classes = meta.recipe.num_classes
    classes = getattr(model, "num_classes", None) if classes is None else classes
    if meta.classes and classes is not None and len(meta.classes) != classes:
        raise WeightsError(f"{path}: {len(meta.classes)} class names for a "
                           f"{classes}-class model")
    if device is not None:
        model.to(device)
    return model.eval(), meta


def _same_head(a: TransferRecipe, b: TransferRecipe) -> bool:
    return (a.backbone.name, a.cut, a.head, a.pool, a.hidden) == \
           (b.backbone.name, b.cut, b.head, b.pool, b.hidden)


def recipe_from_weights(recipe: Recipe, meta: WeightsMeta, path: str | os.PathLike[str]
                        ) -> Recipe:
    """``recipe`` as it must be built to start from the weights in ``path``: the file
    fixes the backbone (its arguments, its input channels), ``recipe`` the rest.

    A registry recipe takes a file of the same model (the classifier is replaced when
    the class count differs); a transfer recipe takes its backbone's weights, or a file
    fine-tuned with the same cut and head layout (to go on with new classes).
    """
    theirs = meta.recipe
    if isinstance(recipe, ModelRecipe):
        if not isinstance(theirs, ModelRecipe) or theirs.name != recipe.name:
            raise WeightsError(f"{path}: holds {theirs.describe()}, not {recipe.name} weights")
        classes = recipe.num_classes if recipe.num_classes is not None else theirs.num_classes
        return ModelRecipe(theirs.name, classes, theirs.in_chans,
                           recipe.aux_logits and theirs.aux_logits, theirs.width,
                           recipe.dropout if recipe.dropout is not None else theirs.dropout)
    if isinstance(theirs, TransferRecipe):
        if not _same_head(theirs, recipe):
            raise WeightsError(f"{path}: holds {theirs.describe()}; it can only go on with "
                               "the same backbone, cut, pool and hidden layer")
        classes = recipe.num_classes if recipe.num_classes is not None else theirs.num_classes
        return TransferRecipe(theirs.backbone, theirs.cut, classes, theirs.head,
                              theirs.pool, theirs.hidden, recipe.dropout,
                              recipe.input_size or theirs.input_size, recipe.unfreeze)
    if theirs.name != recipe.backbone.name:
        raise WeightsError(f"{path}: holds {theirs.name} weights, not {recipe.backbone.name}")
    backbone = ModelRecipe(theirs.name, theirs.num_classes, theirs.in_chans, False,
                           theirs.width, theirs.dropout)
    size = recipe.input_size or meta.preprocessing.input_size
    return TransferRecipe(backbone, recipe.cut, recipe.num_classes, recipe.head, recipe.pool,
                          recipe.hidden, recipe.dropout, size, recipe.unfreeze)


def init_from_weights(
    recipe: Recipe, path: str | os.PathLike[str]
) -> tuple[nn.Module, Recipe, Preprocessing]:
    """A model built as ``recipe`` (resolved by :func:`recipe_from_weights`) that starts
    from the pretrained weights in ``path``, in train mode; returns it, the recipe it
    was built from, and its preprocessing for RGB pixels in 0..1.

    A BGR model (Caffe's) has its first convolution's input channels flipped, which is
    exact, so every trained model takes RGB input. New parts (a head, a classifier for
    another class count) start freshly initialised; every other tensor must fit exactly.
    """
    source, meta = load_model(path)
    resolved = recipe_from_weights(recipe, meta, path)
    model = build_model(resolved)
    theirs = source.state_dict()
    if isinstance(resolved, TransferRecipe) and isinstance(meta.recipe, ModelRecipe):
        theirs = {f"features.{k}": v for k, v in theirs.items()}
    ours = model.state_dict()
    fresh = _new_parts(model)
    # A tensor of the same name and shape is the pretrained one; only the new parts may
    # be left out (a head, or a classifier for another class count).
    picked = {k: v for k, v in theirs.items() if k in ours and v.shape == ours[k].shape}
    kept = {k: v for k, v in ours.items() if k not in picked}
    unexplained = [k for k in kept if not k.startswith(fresh)]
    if unexplained:
        raise WeightsError(f"{path}: no fitting tensor for {unexplained[0]!r}; the weights "
                           f"do not fit {resolved.describe()}")
    model.load_state_dict({**kept, **picked})
    pre = as_rgb(model, meta.preprocessing).at_size(
        resolved.input_size if isinstance(resolved, TransferRecipe) else None)
    return model.train(), resolved, pre


def _new_parts(model: nn.Module) -> tuple[str, ...]:
    """Key prefixes of the parts a fine-tuning run trains from scratch: a transfer head,
    or a registry model's classifiers (main and auxiliary)."""
    if hasattr(model, "head") and hasattr(model, "features"):
        return ("head.",)
    aux = tuple(f"{name}.classifier." for name in getattr(model, "aux_after", {}))
    return ("fc.", *aux)


def create_model_from_file(name: str, *, weights: str | os.PathLike[str] | None = None,
                           **args: Unpack[ModelArgs]) -> nn.Module:
    """Build a registered model: freshly initialised, with the arguments of
    :func:`googlenet.models.create_model` (``num_classes``, ``in_chans``, ``aux_logits``,
    ``width``, ``dropout``), or from a local weights file. ``googlenet.create_model``
    (:mod:`googlenet.weights.hub`) adds release names on top of it.

    With ``weights`` (any googlenet weights file of this model: converted, trained), the
    file's tensors are loaded; a ``num_classes`` that differs from the file's gets a new
    classifier, and an ``in_chans`` or ``width`` the file does not have is an error.
    """
    if weights is None:
        return create_fresh_model(name, **args)
    asked = ModelRecipe(name, **args)
    model, built, _ = init_from_weights(asked, weights)
    assert isinstance(built, ModelRecipe)  # a registry recipe resolves to one
    for key in ("in_chans", "width"):
        if getattr(asked, key) not in (None, getattr(built, key)):
            raise WeightsError(f"{weights}: the weights fix {key}={getattr(built, key)}, "
                               f"not {getattr(asked, key)}")
    return model
