"""What a weights file says about itself: the model to build, its classes and preprocessing.

Imported and fine-tuned weights are safetensors files whose metadata is enough to rebuild
and run the model without any other file. The keys are the standard ones of
:mod:`googlenet.weights.safetensors_io` (``source``, ``mean``, ``std``, ``scale``,
``channel_order``, ``input_size``, ``class_names``) plus:

- ``model`` / ``model_kwargs``: the registry name and the ``create_model`` keyword
  arguments of the model the tensors belong to;
- ``resize_size``: the shorter side images are resized to before the center crop;
- ``transfer`` (fine-tuned models only): the :class:`~googlenet.transfer.TransferConfig`
  that rebuilds backbone + head.

Training run checkpoints (``googlenet.checkpoint: googlenet-checkpoint/1``) use the same
keys, so :func:`read_weights_meta` reads both.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from googlenet.data.transforms import eval_resize_size
from googlenet.errors import WeightsError

CHANNEL_ORDERS = ("RGB", "BGR")


@dataclass(frozen=True)
class Preprocessing:
    """How a uint8 RGB image becomes the model's input, exactly.

    ``x = (pixels * scale / 255)[channel_order] ; x = (x - mean) / std`` where
    ``pixels`` are 0..255; ``mean``/``std`` are in the model's channel order and in
    units of ``scale`` (1.0: pixels in 0..1, as torchvision and Keras; 255.0:
    pixels in 0..255, as Caffe). Images are resized (shorter side to ``resize_size``,
    bilinear) and center-cropped to ``input_size``.
    """

    mean: tuple[float, ...] = (0.485, 0.456, 0.406)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)
    scale: float = 1.0
    channel_order: str = "RGB"
    input_size: int = 224
    resize_size: int = 256

    def __post_init__(self) -> None:
        if self.channel_order not in CHANNEL_ORDERS:
            raise WeightsError(f"channel_order must be RGB or BGR, got {self.channel_order!r}")
        if any(s == 0 for s in self.std) or self.scale <= 0:
            raise WeightsError(f"preprocessing needs non-zero std and a positive pixel scale, "
                               f"got std={self.std}, scale={self.scale}")

    @property
    def unit_mean(self) -> tuple[float, ...]:
        """``mean`` for pixels in 0..1 (what :func:`googlenet.data.to_float` takes)."""
        return tuple(m / self.scale for m in self.mean)

    @property
    def unit_std(self) -> tuple[float, ...]:
        """``std`` for pixels in 0..1."""
        return tuple(s / self.scale for s in self.std)

    def reorder(self, x: torch.Tensor) -> torch.Tensor:
        """RGB batch -> the model's channel order (a no-op for RGB and for grayscale)."""
        if self.channel_order == "BGR" and x.shape[1] == 3:
            return x.flip(1)
        return x

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """A uint8 (B, C, H, W) RGB batch, already cropped -> the model's float input."""
        x = self.reorder(x).float() * (self.scale / 255.0)
        mean = torch.tensor(self.mean, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
        return (x - mean) / std

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Preprocessing:
        """The inverse of :meth:`to_dict`; unknown keys are ignored (newer files)."""
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        for key in ("mean", "std"):
            if key in known:
                known[key] = tuple(float(v) for v in known[key])
        return cls(**known)


@dataclass
class WeightsMeta:
    """The metadata of a googlenet weights file (see the module docstring)."""

    model: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    source: str = ""
    transfer: dict[str, Any] | None = None
    # True for a backbone without a trained classifier (a Keras "notop" file).
    headless: bool = False

    def to_metadata(self) -> dict[str, Any]:
        """The metadata map for :func:`~googlenet.weights.safetensors_io.save_safetensors`."""
        pre = self.preprocessing
        out: dict[str, Any] = {
            "model": self.model, "model_kwargs": dict(self.model_kwargs),
            "class_names": list(self.classes), "source": self.source,
            "mean": list(pre.mean), "std": list(pre.std), "scale": pre.scale,
            "channel_order": pre.channel_order, "input_size": pre.input_size,
            "resize_size": pre.resize_size,
        }
        if self.transfer is not None:
            out["transfer"] = self.transfer
        if self.headless:
            out["headless"] = True
        return out

    def require_classifier(self, path: str | os.PathLike[str]) -> None:
        """Refuse a backbone without a trained classifier where class scores are needed."""
        if self.headless:
            raise WeightsError(f"{path}: {self.model} backbone without a trained classifier "
                               f"({self.source}); fine-tune it first (`googlenet finetune`)")

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any], path: str | os.PathLike[str]) -> WeightsMeta:
        """Parse a decoded metadata map; a foreign or damaged one is a one-line error."""
        try:
            if not isinstance(meta.get("model"), str) or "mean" not in meta:
                raise WeightsError(f"{path}: no googlenet metadata (model, preprocessing); "
                                   "convert foreign weights with `googlenet convert` first")
            size = meta.get("input_size", 224)
            size = int(size if isinstance(size, int) else size[0])
            pre = Preprocessing(
                mean=tuple(float(v) for v in meta["mean"]),
                std=tuple(float(v) for v in meta["std"]),
                scale=float(meta.get("scale", 1.0)),
                channel_order=str(meta.get("channel_order", "RGB")), input_size=size,
                # Training runs (``googlenet.checkpoint``) prepare evaluation images at
                # the input size itself; imported weights say their own resize.
                resize_size=int(meta.get("resize_size", size if meta.get(
                    "googlenet.checkpoint") else eval_resize_size(size))),
            )
            return cls(model=meta["model"], model_kwargs=dict(meta.get("model_kwargs", {})),
                       classes=list(meta.get("class_names", [])), preprocessing=pre,
                       source=str(meta.get("source", "")), transfer=meta.get("transfer"),
                       headless=bool(meta.get("headless", False)))
        except (KeyError, TypeError, ValueError, json.JSONDecodeError) as err:
            if isinstance(err, WeightsError):
                raise
            raise WeightsError(f"{path}: damaged weights metadata ({err!r})") from None


def class_names_or_default(classes: Sequence[str], num_classes: int) -> list[str]:
    """The stored names, else ImageNet's for 1000 classes, else ``class_0``, ``class_1``..."""
    if len(classes) == num_classes:
        return list(classes)
    if num_classes == 1000:
        from googlenet.weights.imagenet import imagenet_class_names

        return imagenet_class_names()
    return [f"class_{i}" for i in range(num_classes)]


def save_weights_file(
    path: str | os.PathLike[str], state_dict: Mapping[str, torch.Tensor], meta: WeightsMeta
) -> None:
    """Write weights + metadata as safetensors, atomically (an old file survives a crash)."""
    from googlenet.weights.safetensors_io import save_safetensors

    save_safetensors(path, state_dict, meta.to_metadata())


def read_weights_meta(path: str | os.PathLike[str]) -> WeightsMeta:
    """The metadata of a weights file or training checkpoint, without loading tensors."""
    from googlenet.weights.safetensors_io import read_safetensors_metadata

    return WeightsMeta.from_metadata(read_safetensors_metadata(path), path)


def load_weights_file(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], WeightsMeta]:
    """Tensors and metadata of a weights file; damage is a one-line error naming it."""
    from googlenet.weights.safetensors_io import load_safetensors

    state, raw = load_safetensors(path)
    return state, WeightsMeta.from_metadata(raw, path)
