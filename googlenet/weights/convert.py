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
from googlenet.weights._atomic import check_output_file
from googlenet.weights.keymap import fill_state_dict
from googlenet.weights.meta import (
    Preprocessing,
    WeightsMeta,
    class_names_or_default,
    save_weights_file,
)

SOURCES = ("torchvision", "keras", "caffe")
MODELS_BY_SOURCE: dict[str, tuple[str, ...]] = {
    "caffe": ("googlenet",),
    "torchvision": ("googlenet_bn", "inception_v3"),
    "keras": ("inception_v3_keras", "inception_v3"),
}
DEFAULT_MODEL = {"caffe": "googlenet", "keras": "inception_v3_keras"}

# torchvision's pretrained GoogLeNet and Inception v3 were converted from TF-slim
# checkpoints and are built with ``transform_input=True``: the model turns ImageNet-normalised
# input back into (x - 0.5) / 0.5 before its first convolution. Our models have no such
# step, so the preprocessing the weights really expect is written down instead.
TORCHVISION_PREPROCESSING = {
    "googlenet_bn": Preprocessing(mean=(0.5,) * 3, std=(0.5,) * 3, input_size=224,
                                  resize_size=256),
    "inception_v3": Preprocessing(mean=(0.5,) * 3, std=(0.5,) * 3, input_size=299,
                                  resize_size=342),
}
# keras.applications.inception_v3.preprocess_input: x / 127.5 - 1, RGB, 299x299.
KERAS_PREPROCESSING = Preprocessing(mean=(0.5,) * 3, std=(0.5,) * 3, input_size=299,
                                    resize_size=342)


@dataclass
class ImportedWeights:
    """An imported model (eval mode), its full state dict and the metadata to save."""

    model: nn.Module
    state_dict: dict[str, torch.Tensor]
    meta: WeightsMeta


def _check_model(source: str, model: str | None, path: str | os.PathLike[str]) -> str:
    allowed = MODELS_BY_SOURCE[source]
    if model is None:
        if source in DEFAULT_MODEL:
            return DEFAULT_MODEL[source]
        if len(allowed) > 1:
            raise WeightsError(f"{path}: --model is needed for {source} weights "
                               f"(one of {', '.join(allowed)})")
        return allowed[0]
    if model not in allowed:
        raise WeightsError(f"{path}: {source} weights load into {', '.join(allowed)}, "
                           f"not {model!r}")
    return model


def _meta(model: str, kwargs: dict, num_classes: int, pre: Preprocessing, source: str,
          ) -> WeightsMeta:
    return WeightsMeta(model=model, model_kwargs=kwargs, preprocessing=pre, source=source,
                       classes=class_names_or_default([], num_classes))


def import_caffe(path: str | os.PathLike[str], model: str | None = None) -> ImportedWeights:
    """Read a BVLC GoogLeNet caffemodel into the paper's ``googlenet`` (aux heads included
    when the file has them: the release is the train_val net and does)."""
    from googlenet.weights.caffe import read_caffemodel
    from googlenet.weights.caffe_map import (
        CAFFE_PREPROCESSING,
        caffe_entries,
        caffe_num_classes,
        has_aux_heads,
    )

    name = _check_model("caffe", model, path)
    layers = read_caffemodel(path)
    aux = has_aux_heads(layers, path)
    num_classes = caffe_num_classes(layers, path)
    kwargs = {"num_classes": num_classes, "aux_logits": aux}
    net = create_model(name, **kwargs)
    state = fill_state_dict(net, caffe_entries(layers, path, aux=aux), path)
    source = f"caffe:{Path(path).name} (BVLC GoogLeNet)"
    return ImportedWeights(net.eval(), state,
                           _meta(name, kwargs, num_classes, CAFFE_PREPROCESSING, source))


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
    name = _check_model("torchvision", model or _torchvision_model(raw, path), path)
    state = from_torchvision(raw, name, source=str(path))
    fc = state.get("fc.weight")
    num_classes = int(fc.shape[0]) if fc is not None else 1000
    kwargs = {"num_classes": num_classes, "aux_logits": any(k.startswith("aux") for k in state)}
    net = create_model(name, **kwargs)
    net.load_state_dict(state)
    source = f"torchvision:{Path(path).name}"
    return ImportedWeights(net.eval(), net.state_dict(),
                           _meta(name, kwargs, num_classes, TORCHVISION_PREPROCESSING[name],
                                 source))


def import_keras(path: str | os.PathLike[str], model: str | None = None) -> ImportedWeights:
    """Read a Keras InceptionV3 HDF5 weight file (legacy layout or Keras 3
    ``.weights.h5``, with or without the top) into ``inception_v3_keras``, whose branch
    average pools leave the padding out as Keras does (``inception_v3``, torchvision's
    pooling, also takes the weights but its outputs differ slightly).

    A "notop" file has no classifier: the model's ``fc`` is zeroed and the metadata says
    ``headless``, so ``predict`` refuses it while ``finetune`` uses it as it should.
    """
    from googlenet.weights.keras_h5 import layers_of_kind, read_keras_h5
    from googlenet.weights.keras_map import load_keras_weights

    name = _check_model("keras", model, path)
    layers = read_keras_h5(path)
    dense = layers_of_kind(layers, "dense")
    num_classes = int(dense[0].torch_arrays()["weight"].shape[0]) if dense else 1000
    kwargs = {"num_classes": num_classes, "aux_logits": False}
    net = create_model(name, **kwargs)
    load_keras_weights(net, layers, source=str(path))
    if not dense:
        with torch.no_grad():
            net.fc.weight.zero_()
            net.fc.bias.zero_()
    meta = _meta(name, kwargs, num_classes, KERAS_PREPROCESSING,
                 f"keras:{Path(path).name}" + ("" if dense else " (notop)"))
    meta.headless = not dense
    return ImportedWeights(net.eval(), net.state_dict(), meta)


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
    return importers[source](path, model)


def convert(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], source: str,
    model: str | None = None,
) -> WeightsMeta:
    """Import ``src`` and write ``dst`` (safetensors + metadata, atomically)."""
    check_output_file(dst)  # before the import, which may take a while
    imported = import_weights(src, source, model)
    save_weights_file(dst, imported.state_dict, imported.meta)
    return imported.meta
