"""Import foreign pretrained weights into our models and write them as safetensors.

>>> from googlenet.weights.convert import convert
>>> convert("bvlc_googlenet.caffemodel", "googlenet.safetensors", "caffe")  # doctest: +SKIP

Sources and the models they fill:

- ``caffe``: BVLC ``bvlc_googlenet.caffemodel`` -> ``googlenet`` (the paper's network);
- ``torchvision``: ``googlenet-1378be20.pth`` -> ``googlenet_bn``,
  ``inception_v3_google-0cc3c7bd.pth`` -> ``inception_v3``;
- ``keras``: ``inception_v3_weights_tf_dim_ordering_tf_kernels[_notop].h5`` ->
  ``inception_v3_keras`` (Inception v3 with Keras' average pooling),
  ``inception_resnet_v2_weights_tf_dim_ordering_tf_kernels[_notop].h5`` ->
  ``inception_resnet_v2`` (told apart by their layers);
- ``timm``: timm's and Cadene's (``pretrainedmodels``) state dicts: ``inceptionv4-8e4777a0.pth``
  or timm's ``inception_v4.tf_in1k`` -> ``inception_v4``, ``bn_inception-52deb4733.pth`` ->
  ``bn_inception``, timm's ``inception_v3.tf_in1k`` -> ``inception_v3``, timm's
  ``inception_resnet_v2.tf_in1k`` or ``inceptionresnetv2-520b38e4.pth`` ->
  ``inception_resnet_v2``.

The written file's metadata (:class:`~googlenet.weights.meta.WeightsMeta`) names the model,
its classes and the exact preprocessing the weights expect, so ``googlenet predict`` and
``googlenet finetune`` need nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from googlenet.atomic import writable_file
from googlenet.errors import WeightsError
from googlenet.models import create_model
from googlenet.models.inception_net import InceptionNet
from googlenet.progress import StageProgress
from googlenet.recipe import ModelRecipe
from googlenet.weights.caffe import read_caffemodel
from googlenet.weights.caffe_map import caffe_entries, caffe_num_classes, has_aux_heads
from googlenet.weights.keras_h5 import layers_of_kind, read_keras_h5
from googlenet.weights.keras_map import keras_model_of, load_keras_weights
from googlenet.weights.keymap import fill_state_dict
from googlenet.weights.loader import save_weights
from googlenet.weights.meta import WeightsMeta, default_class_names
from googlenet.weights.safetensors_io import load_safetensors, load_torch_state_dict
from googlenet.weights.sources import SOURCES, release
from googlenet.weights.timm_map import from_timm, timm_model
from googlenet.weights.torchvision_map import from_torchvision

PathLike = str | os.PathLike[str]


@dataclass
class ImportedWeights:
    """An imported model (eval mode), its full state dict and the metadata to save."""

    model: nn.Module
    state_dict: dict[str, torch.Tensor]
    meta: WeightsMeta


def _imported(net: nn.Module, recipe: ModelRecipe, source: str, path: PathLike,
              ) -> ImportedWeights:
    """The imported model with the metadata its release prescribes."""
    pre = release(source, recipe.name).preprocessing
    classes = default_class_names(recipe.num_classes or 0)
    meta = WeightsMeta(recipe, classes, pre, f"{source}:{Path(path).name}")
    return ImportedWeights(net.eval(), net.state_dict(), meta)


def _map_caffe(layers: Any, path: PathLike, model: str | None) -> ImportedWeights:
    name = release("caffe", model or "googlenet").model
    aux = has_aux_heads(layers, path)
    num_classes = caffe_num_classes(layers, path)
    recipe = ModelRecipe(name, num_classes=num_classes, aux_logits=aux)
    net = create_model(name, **recipe.kwargs())
    fill_state_dict(net, caffe_entries(layers, path, aux=aux), path)
    return _imported(net, recipe, "caffe", path)


def _torchvision_model(state: dict[str, torch.Tensor], path: PathLike) -> str:
    """Which torchvision network a state dict is, from its key names."""
    if any(k.startswith("Mixed_") for k in state):
        return "inception_v3"
    if any(k.startswith("inception3a.") for k in state):
        return "googlenet_bn"
    first = next(iter(state), "nothing")
    raise WeightsError(f"{path}: neither torchvision's googlenet nor inception_v3 "
                       f"(first key {first!r}); give --model to say which")


def _from_state(state: dict[str, torch.Tensor], name: str, source: str, path: PathLike,
                ) -> ImportedWeights:
    """The registry model ``name`` holding ``state`` (our keys, checked): its class count
    from the classifier, aux heads when the state has them."""
    fc = state.get(f"{InceptionNet.CLASSIFIER}.weight")
    num_classes = int(fc.shape[0]) if fc is not None else 1000
    aux = any(k.startswith("aux") for k in state)
    recipe = ModelRecipe(name, num_classes=num_classes, aux_logits=aux)
    net = create_model(name, **recipe.kwargs())
    net.load_state_dict(state)
    return _imported(net, recipe, source, path)


def _map_torchvision(raw: Any, path: PathLike, model: str | None) -> ImportedWeights:
    name = release("torchvision", model or _torchvision_model(raw, path)).model
    return _from_state(from_torchvision(raw, name, source=str(path)), name, "torchvision",
                       path)


def _map_keras(layers: Any, path: PathLike, model: str | None) -> ImportedWeights:
    name = release("keras", model or keras_model_of(layers, source=str(path))).model
    dense = layers_of_kind(layers, "dense")
    # A "notop" file has no classifier: the model is built without one (num_classes=0).
    num_classes = int(dense[0].torch_arrays()["weight"].shape[0]) if dense else 0
    recipe = ModelRecipe(name, num_classes=num_classes, aux_logits=False)
    net = create_model(name, **recipe.kwargs())
    load_keras_weights(net, layers, source=str(path))
    return _imported(net, recipe, "keras", path)


def _read_timm(path: PathLike) -> Any:
    # timm's hub files are plain safetensors; its older releases and Cadene's are .pth.
    if Path(path).suffix == ".safetensors":
        return load_safetensors(path)[0]
    return load_torch_state_dict(path)


def _map_timm(raw: Any, path: PathLike, model: str | None) -> ImportedWeights:
    name = release("timm", model or timm_model(raw, str(path))).model
    return _from_state(from_timm(raw, name, source=str(path)), name, "timm", path)


# Each source is read (parsing the file: most of a large file's time) and then mapped
# onto our model; two steps, so that `convert` can show which one runs.
_Reader = Callable[[PathLike], Any]
_Mapper = Callable[[Any, PathLike, str | None], ImportedWeights]
_IMPORTERS: dict[str, tuple[_Reader, _Mapper]] = {
    "caffe": (read_caffemodel, _map_caffe),
    "torchvision": (load_torch_state_dict, _map_torchvision),
    "keras": (read_keras_h5, _map_keras),
    "timm": (_read_timm, _map_timm),
}


def import_weights(
    path: PathLike, source: str, model: str | None = None,
    *, progress: StageProgress | None = None,
) -> ImportedWeights:
    """Import ``path`` from ``source`` (``torchvision``, ``keras``, ``caffe`` or ``timm``);
    ``progress`` is the caller's stage bar, on which "reading" and "mapping" are marked."""
    if source not in _IMPORTERS:
        raise WeightsError(f"{path}: unknown source {source!r} (one of {', '.join(SOURCES)})")
    if os.path.isdir(path):
        raise WeightsError(f"{path}: is a directory; give the weights file in it")
    if not os.path.isfile(path):
        raise WeightsError(f"{path}: no such file")
    if model is not None:  # a model the source cannot fill: say so before reading the file
        try:
            release(source, model)
        except WeightsError as err:
            raise WeightsError(f"{path}: {err}") from None
    bar = progress or StageProgress(2, enabled=False)
    read, map_onto_model = _IMPORTERS[source]
    try:
        bar.stage("reading")
        raw = read(path)
        bar.stage("mapping")
        return map_onto_model(raw, path, model)
    except WeightsError as err:
        # release() does not know the file; name it in the message.
        raise WeightsError(str(err) if str(path) in str(err) else f"{path}: {err}") from None


def convert(
    src: PathLike, dst: PathLike, source: str,
    model: str | None = None,
) -> WeightsMeta:
    """Import ``src`` and write ``dst`` (safetensors + metadata, atomically). The steps
    (reading, mapping, writing) are shown on stderr when it is a terminal: a full
    Inception v3 file takes a while on a small machine."""
    writable_file(dst)  # before the import, which may take a while
    with StageProgress(3, f"convert {Path(src).name}") as bar:
        imported = import_weights(src, source, model, progress=bar)
        bar.stage("writing")
        save_weights(dst, imported.state_dict, imported.meta)
    return imported.meta
