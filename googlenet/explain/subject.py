"""What the explain tools look at: a model with its class names and its preprocessing.

Any weights file goes through the one loader (:func:`googlenet.weights.load_model`):
imported, trained or fine-tuned, its metadata says how images become inputs. A registry
name instead gives the architecture with random weights, which the tools say out loud:
its maps show the wiring, not anything learned.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import InputSizeError
from ..models import create_model, get_model_info
from ..models.features import NamedFeatures
from ..predict import read_image
from ..weights import Preprocessing, WeightsMeta, load_model
from ..weights.meta import default_class_names


@dataclass
class Subject:
    """A model ready to be explained."""

    model: nn.Module
    preprocessing: Preprocessing
    classes: tuple[str, ...]
    name: str  # the registry name (a transfer model's backbone)
    source: str  # the weights file, or "random weights"
    meta: WeightsMeta | None = None

    @property
    def random(self) -> bool:
        """True for a registry model with freshly initialised weights."""
        return self.meta is None

    @property
    def features(self) -> NamedFeatures:
        """The model's named features (every model the package builds has them)."""
        assert isinstance(self.model, NamedFeatures)
        return self.model

    @property
    def in_chans(self) -> int:
        return int(getattr(self.model, "in_chans", self.preprocessing.channels))

    @property
    def has_classifier(self) -> bool:
        """False for a backbone without a classifier (a Keras "notop" file)."""
        return bool(self.classes)

    def read(self, path: str | os.PathLike[str]) -> torch.Tensor:
        """An image file as the uint8 (C, size, size) crop the model sees."""
        return read_image(path, self.preprocessing, self.in_chans)

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (N, C, H, W) RGB crops -> the model's float input."""
        return self.preprocessing.normalize(images)


def load_subject(weights: str | os.PathLike[str] | None = None, model: str | None = None,
                 input_size: int | None = None) -> Subject:
    """A weights file (any), or a registry model with random weights; optionally at
    another input size (fully convolutional models only)."""
    if weights is not None:
        net, meta = load_model(weights)
        classes = () if meta.headless else meta.class_names(int(getattr(net, "num_classes", 0)))
        subject = Subject(net, meta.preprocessing, classes, meta.model, str(Path(weights)), meta)
    elif model is not None:
        info = get_model_info(model)
        net = create_model(model).eval()
        classes = default_class_names(int(getattr(net, "num_classes", info.num_classes)))
        subject = Subject(net, info.preprocessing, classes, model, "random weights")
    else:
        raise InputSizeError("give a weights file (--weights) or a model name (--model)")
    if input_size:
        fixed = getattr(getattr(subject.model, "spec", None), "fixed_input_size", False)
        if fixed and input_size != subject.preprocessing.input_size:
            raise InputSizeError(f"{subject.name} takes exactly "
                                 f"{subject.preprocessing.input_size}x"
                                 f"{subject.preprocessing.input_size} inputs, not {input_size}")
        subject.preprocessing = subject.preprocessing.at_size(input_size)
    return subject
