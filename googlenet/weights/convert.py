"""Import foreign pretrained weights into our models and write them as safetensors.

>>> from googlenet.weights.convert import convert
>>> convert("bvlc_googlenet.caffemodel", "googlenet.safetensors", "caffe")  # doctest: +SKIP

Sources and the models they fill:

- ``caffe``: BVLC ``bvlc_googlenet.caffemodel`` -> ``googlenet`` (the paper's network);
- ``torchvision``: ``googlenet-1378be20.pth`` -> ``googlenet_bn``,
  ``inception_v3_google-0cc3c7bd.pth`` -> ``inception_v3``;
- ``keras``: ``inception_v3_weights_tf_dim_ordering_tf_kernels[_notop].h5`` ->
  ``inception_v3_keras`` (Inception v3 with Keras' average pooling).

The written file's metadata (:class:`~googlenet.weights.meta.WeightsMeta`) names the model,
its classes and the exact preprocessing the weights expect, so ``googlenet predict`` and
``googlenet finetune`` need nothing else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from googlenet.errors import WeightsError
from googlenet.models import create_model
from googlenet.recipe import ModelRecipe
from googlenet.weights.keymap import fill_state_dict
from googlenet.weights.loader import save_weights
from googlenet.weights.meta import WeightsMeta, default_class_names
from googlenet.weights.sources import SOURCES, release


@dataclass
class ImportedWeights:
    """An imported model (eval mode), its full state dict and the metadata to save."""

    model: nn.Module
    state_dict: dict[str, torch.Tensor]
    meta: WeightsMeta


def _imported(net: nn.Module, recipe: ModelRecipe, source: str, path: str | os.PathLike[str],
              ) -> ImportedWeights:
    """The imported model with the metadata its release prescribes."""
    pre = release(source, recipe.name).preprocessing
    classes = default_class_names(recipe.num_classes or 0)
    meta = WeightsMeta(recipe, classes, pre, f"{source}:{Path(path).name}")
    return ImportedWeights(net.eval(), net.state_dict(), meta)


def import_caffe(path: str | os.PathLike[str], model: str | None = None) -> ImportedWeights:
    """Read a BVLC GoogLeNet caffemodel into the paper's ``googlenet`` (aux heads included
    when the file has them: the release is the train_val net and does)."""
    from googlenet.weights.caffe import read_caffemodel
    from googlenet.weights.caffe_map import caffe_entries, caffe_num_classes, has_aux_heads

    name = release("caffe", model or "googlenet").model
    layers = read_caffemodel(path)
    aux = has_aux_heads(layers, path)
    num_classes = caffe_num_classes(layers, path)
    recipe = ModelRecipe(name, num_classes=num_classes, aux_logits=aux)
    net = create_model(name, **recipe.kwargs())
    fill_state_dict(net, caffe_entries(layers, path, aux=aux), path)
    return _imported(net, recipe, "caffe", path)


def _torchvision_model(state: dict[str, torch.Tensor], path: str | os.PathLike[str]) -> str:
    """Which torchvision network a state dict is, from its key names."""
    if any(k.startswith("Mixed_") for k in state):
        return "inception_v3"
    if any(k.startswith("inception3a.") for k in state):
        return "googlenet_bn"
    first = next(iter(state), "nothing")
    raise WeightsError(f"{path}: neither torchvision's googlenet nor inception_v3 "
                       f"(first key {first!r}); give --model to say which")


def import_torchvision(path: str | os.PathLike[str], model: str | None = None,
                       ) -> ImportedWeights:
    """Read a torchvision ``.pth`` state dict (``weights_only=True``: no pickle code runs)
    into ``googlenet_bn`` or ``inception_v3`` (told apart by the keys when ``model`` is
    None); aux heads are kept when the file has them."""
    from googlenet.weights.safetensors_io import load_torch_state_dict
    from googlenet.weights.torchvision_map import from_torchvision

    raw = load_torch_state_dict(path)
    name = release("torchvision", model or _torchvision_model(raw, path)).model
    state = from_torchvision(raw, name, source=str(path))
    fc = state.get("fc.weight")
    num_classes = int(fc.shape[0]) if fc is not None else 1000
    aux = any(k.startswith("aux") for k in state)
    recipe = ModelRecipe(name, num_classes=num_classes, aux_logits=aux)
    net = create_model(name, **recipe.kwargs())
    net.load_state_dict(state)
    return _imported(net, recipe, "torchvision", path)


def import_keras(path: str | os.PathLike[str], model: str | None = None) -> ImportedWeights:
    """Read a Keras InceptionV3 HDF5 weight file (legacy layout or Keras 3
    ``.weights.h5``, with or without the top) into ``inception_v3_keras``, whose branch
    average pools leave the padding out as Keras does. ``inception_v3`` (torchvision's
    pooling, which counts the padding) is refused: its features would be ~0.3 away
    from Keras' own.

    A "notop" file has no classifier: the recipe says ``num_classes=0`` and no class
    names are claimed, so ``predict`` refuses it while ``finetune`` uses it as it should.
    """
    from googlenet.weights.keras_h5 import layers_of_kind, read_keras_h5
    from googlenet.weights.keras_map import load_keras_weights

    name = release("keras", model or "inception_v3_keras").model
    layers = read_keras_h5(path)
    dense = layers_of_kind(layers, "dense")
    # A "notop" file has no classifier: the model is built without one (num_classes=0).
    num_classes = int(dense[0].torch_arrays()["weight"].shape[0]) if dense else 0
    recipe = ModelRecipe(name, num_classes=num_classes, aux_logits=False)
    net = create_model(name, **recipe.kwargs())
    load_keras_weights(net, layers, source=str(path))
    return _imported(net, recipe, "keras", path)


def import_weights(
    path: str | os.PathLike[str], source: str, model: str | None = None
) -> ImportedWeights:
    """Import ``path`` from ``source`` (``torchvision``, ``keras`` or ``caffe``)."""
    importers = {"caffe": import_caffe, "torchvision": import_torchvision,
                 "keras": import_keras}
    if source not in importers:
        raise WeightsError(f"{path}: unknown source {source!r} (one of {', '.join(SOURCES)})")
    if not os.path.isfile(path):
        raise WeightsError(f"{path}: no such file")
    try:
        return importers[source](path, model)
    except WeightsError as err:
        # release() does not know the file; name it in the message.
        raise WeightsError(str(err) if str(path) in str(err) else f"{path}: {err}") from None


def convert(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], source: str,
    model: str | None = None,
) -> WeightsMeta:
    """Import ``src`` and write ``dst`` (safetensors + metadata, atomically)."""
    imported = import_weights(src, source, model)
    save_weights(dst, imported.state_dict, imported.meta)
    return imported.meta
