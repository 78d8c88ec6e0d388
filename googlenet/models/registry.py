"""The model registry: names, metadata and ``create_model``.

Entries are listed explicitly, one tuple per family module (``ENTRIES`` beside its specs,
collected in ``googlenet.specs.FAMILIES``; no registration by import side effects). The
metadata is data a user can rely on without building the model (input size, minimum
input size, normalisation, parameter counts); ``tests/test_models.py`` builds every
model and checks each figure.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable
from dataclasses import replace

from torch import nn

from ..errors import SpecError, UnknownModelError
from ..specs import FAMILIES, ModelInfo
from .inception_net import InceptionNet

__all__ = ["MODELS", "ModelInfo", "build_registry", "create_model", "get_model_info",
           "init_weights", "list_models"]


def build_registry(families: Iterable[Iterable[ModelInfo]]) -> dict[str, ModelInfo]:
    """The registry of ``families`` (each a family module's ``ENTRIES``): name -> entry, in
    their order. A name registered twice raises :class:`SpecError`."""
    models: dict[str, ModelInfo] = {}
    for entries in families:
        for info in entries:
            if info.name in models:
                raise SpecError(f"model {info.name!r} is registered twice")
            models[info.name] = info
    return models


MODELS: dict[str, ModelInfo] = build_registry(FAMILIES)
"""Every registered model: each family module's entries (``googlenet.specs.FAMILIES``)."""


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a shell-style ``pattern``, sorted."""
    return sorted(n for n in MODELS if fnmatch.fnmatch(n, pattern))


def get_model_info(name: str) -> ModelInfo:
    """The metadata of ``name``; an unknown name raises with the closest matches."""
    try:
        return MODELS[name]
    except KeyError:
        close = difflib.get_close_matches(name, MODELS, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownModelError(
            f"unknown model {name!r}{hint} (see `googlenet list`: {', '.join(list_models())})"
        ) from None


def create_model(
    name: str,
    *,
    num_classes: int | None = None,
    in_chans: int | None = None,
    aux_logits: bool = True,
    width: float | None = None,
    dropout: float | None = None,
) -> InceptionNet:
    """Build a registered model, freshly initialised.

    ``width`` scales every channel count (small-input variants are meant for it);
    ``aux_logits=False`` leaves the auxiliary heads out; ``num_classes=0`` leaves the
    classifier out (``model(x)`` returns the pooled features). To start from a weights
    file, :func:`googlenet.create_model` (:func:`googlenet.weights.create_model`) takes
    ``weights=`` too.
    """
    info = get_model_info(name)
    spec = info.spec
    if width is not None and not width > 0:  # width 0 would still build: 618 parameters
        raise SpecError(f"{name}: width must be > 0, got {width}")
    if dropout is not None and not 0 <= dropout < 1:
        raise SpecError(f"{name}: dropout must be >= 0 and < 1, got {dropout}")
    if width is not None:
        spec = replace(spec, width=width)
    if dropout is not None:
        spec = replace(spec, dropout=dropout)
    model = InceptionNet(spec, num_classes=num_classes, in_chans=in_chans,
                         aux_logits=aux_logits, min_input_size=info.min_input_size)
    init_weights(model)
    return model


def init_weights(model: nn.Module) -> None:
    """Truncated-normal convs and linears (std 0.01 for the classifiers), zero biases,
    unit BN: the usual recipe for this family, since the paper gives none."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.01, a=-0.02, b=0.02)
            if m.bias is not None:  # FaceNet's embedding has none
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
