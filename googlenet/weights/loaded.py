"""One loaded model: a network ready to run, with all it needs to be fed and read.

A :class:`LoadedModel` is the network (eval mode), its metadata, its preprocessing, its
class names, its input channels and where it came from. :func:`resolve_model` builds it
from any of

- a registered model name (``googlenet``): the architecture with fresh weights, which
  the value says (:attr:`LoadedModel.random`);
- a googlenet weights file, whoever wrote it (``convert``, ``train``, ``finetune``): the
  model its metadata describes, with its tensors, classes and preprocessing;
- a release name of the weights catalogue (``googlenet_bn.tv_in1k``): downloaded,
  verified and converted once by :mod:`googlenet.weights.hub`, then read from its cache.

Every command that runs a model (predict, eval, explain, dream, bench, export, diagram)
takes it from here, so they read the same sources the same way.

>>> from googlenet.weights.loaded import resolve_model
>>> loaded = resolve_model("runs/fmnist/best.safetensors")  # doctest: +SKIP
>>> loaded.classes[:2], loaded.preprocessing.input_size, loaded.in_chans  # doctest: +SKIP
(('T-shirt/top', 'Trouser'), 28, 1)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import nn

from ..errors import InputSizeError, WeightsError
from ..models import MODELS, build_model, create_model, get_model_info
from ..models.features import NamedFeatures
from ..models.network import Network, as_network
from ..preprocessing import Preprocessing
from .catalogue import find_release
from .hub import resolve_weights
from .loader import load_model, read_meta
from .meta import WeightsMeta, default_class_names

RANDOM_WEIGHTS = "random weights"
"""The :attr:`LoadedModel.source` of a registry model built with fresh weights."""

Source = str | os.PathLike[str]


@dataclass(frozen=True)
class LoadedModel:
    """A model ready to run: the network and everything needed to feed it and read it.

    ``meta`` is None for a registry model with fresh weights; ``name`` is the registry
    name (a transfer model's backbone); ``source`` the weights file or release name as
    given, or :data:`RANDOM_WEIGHTS`.
    """

    network: nn.Module
    preprocessing: Preprocessing
    classes: tuple[str, ...]
    in_chans: int
    name: str
    source: str
    meta: WeightsMeta | None = None

    @property
    def net(self) -> Network:
        """The network's typed interface (input channels, classes, spec, sizes)."""
        return as_network(self.network)

    @property
    def features(self) -> NamedFeatures:
        """The network's named features (every network the package builds has them)."""
        assert isinstance(self.network, NamedFeatures)
        return self.network

    @property
    def random(self) -> bool:
        """True for a registry model with freshly initialised weights."""
        return self.meta is None

    @property
    def has_classifier(self) -> bool:
        """False for a backbone without a classifier (a Keras "notop" file)."""
        return bool(self.classes)

    @property
    def input_size(self) -> int:
        """The side of the square inputs the preprocessing makes."""
        return self.preprocessing.input_size

    def describe(self) -> str:
        """What was built: the file's recipe, or the registry name."""
        return self.meta.recipe.describe() if self.meta is not None else self.name

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (N, C, H, W) crops -> the network's float input."""
        return self.preprocessing.normalize(images)

    def require_classifier(self) -> None:
        """Refuse a backbone without a trained classifier where class scores are needed."""
        if self.meta is not None:
            self.meta.require_classifier(self.source)

    def at_input_size(self, size: int | None) -> LoadedModel:
        """The same model fed at ``size`` (None: unchanged); a network that takes one
        input size only refuses any other."""
        if not size or size == self.input_size:
            return self
        if self.net.fixed_input_size:
            raise InputSizeError(f"{self.name} takes exactly {self.input_size}x"
                                 f"{self.input_size} inputs, not {size}")
        return replace(self, preprocessing=self.preprocessing.at_size(size))

    def to(self, device: torch.device | str) -> LoadedModel:
        """The same value with the network moved to ``device`` (in place)."""
        self.network.to(device)
        return self


def is_registry_name(text: str) -> bool:
    """Whether ``text`` names a registered model (and no file of that name is here: a
    file wins, as the path the user typed)."""
    return text in MODELS and not Path(text).is_file()


def _weights_file(text: str) -> Path:
    """The local weights file ``text`` names: a path, or a release name of the weights
    catalogue (:func:`~googlenet.weights.hub.resolve_weights` downloads and converts it
    once, then returns its cached file). The one place a source becomes a file."""
    path = Path(text)
    if path.is_file():
        return path
    # A release name, or one that looks like it (a model's name, a dot, a tag): the hub
    # fetches it or names the closest releases.
    if find_release(text) is not None or text.split(".", 1)[0] in MODELS and "." in text:
        return resolve_weights(text)
    if path.suffix or os.sep in text or (os.altsep and os.altsep in text):
        raise WeightsError(f"{text}: no such weights file")
    get_model_info(text)  # neither a file nor a model name: the registry's "did you mean"
    raise AssertionError("unreachable: a registered name is resolved before")


def resolve_model(
    source: Source, *, device: torch.device | str | None = None,
    aux_logits: bool = True, num_classes: int | None = None, expect: str | None = None,
    with_weights: bool = True,
) -> LoadedModel:
    """The :class:`LoadedModel` ``source`` names: a weights file (or release name) or a
    registered model name (fresh weights; ``aux_logits`` and ``num_classes`` are its
    arguments). ``expect``: a registry name the file must hold. ``with_weights=False``
    builds a file's architecture from its metadata alone (a diagram needs no tensors).
    The network is in eval mode, on ``device`` when given."""
    text = os.fspath(source)
    if is_registry_name(text):
        fresh = create_model(text, aux_logits=aux_logits, num_classes=num_classes)
        if device is not None:
            fresh.to(device)
        return LoadedModel(fresh.eval(), get_model_info(text).preprocessing,
                           default_class_names(fresh.num_classes), fresh.in_chans, text,
                           RANDOM_WEIGHTS)
    path = _weights_file(text)
    network: nn.Module
    if with_weights:
        network, meta = load_model(path, device)
    else:
        meta = read_meta(path)
        network = build_model(meta.recipe).eval()
    if expect is not None and expect != meta.model:
        raise WeightsError(f"{text}: holds {meta.recipe.describe()}, not {expect} weights")
    net = as_network(network)
    classes = () if meta.headless else meta.class_names(net.num_classes)
    return LoadedModel(network, meta.preprocessing, classes, net.in_chans, meta.model, text,
                       meta)
