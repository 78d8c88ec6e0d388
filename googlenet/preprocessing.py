"""How an image becomes a model's input: the facts that belong to a set of weights.

Pure data at the bottom of the package (see ARCHITECTURE.md): the registry, the weights
files and the data pipeline all speak it. Weights are only usable with the preprocessing
they were trained with, so every weights file records a :class:`Preprocessing` (see
:mod:`googlenet.weights.meta`), and every command takes it from the file: ``googlenet
predict``, ``eval``, ``export``, ``bench`` and ``finetune`` never guess.
:func:`googlenet.weights.resolve_preprocessing` is the public way to ask for it, like
torchvision's ``weights.transforms()`` or timm's ``resolve_data_config``:

>>> from googlenet.weights import resolve_preprocessing
>>> resolve_preprocessing("bvlc.safetensors")       # doctest: +SKIP
Preprocessing(mean=(104.0, 117.0, 123.0), std=(1.0, 1.0, 1.0), scale=255.0, ...)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch import nn

from googlenet.errors import WeightsError

CHANNEL_ORDERS = ("RGB", "BGR")
# GoogLeNet's usual eval recipe: resize the shorter side to size/0.875 (224 -> 256), then
# center-crop size x size.
EVAL_CROP_FRACTION = 0.875


def eval_resize_size(size: int) -> int:
    """The shorter side an image is resized to before the central ``size`` crop (256 for
    224, 342 for 299)."""
    return round(size / EVAL_CROP_FRACTION)


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
        if len(self.mean) not in (1, 3) or len(self.std) != len(self.mean):
            raise WeightsError(f"mean and std need 1 or 3 values each, got mean={self.mean}, "
                               f"std={self.std}")
        if any(s == 0 for s in self.std) or self.scale <= 0:
            raise WeightsError(f"preprocessing needs non-zero std and a positive pixel scale, "
                               f"got std={self.std}, scale={self.scale}")
        if self.input_size < 1 or self.resize_size < self.input_size:
            raise WeightsError(f"preprocessing needs 1 <= input_size <= resize_size, got "
                               f"{self.input_size} and {self.resize_size}")

    @property
    def channels(self) -> int:
        """1 (grayscale) or 3."""
        return len(self.mean)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """A uint8 (B, C, H, W) RGB batch, already cropped -> the model's float input."""
        if self.channel_order == "BGR" and x.shape[1] == 3:
            x = x.flip(1)
        x = x.float() * (self.scale / 255.0)
        mean = torch.tensor(self.mean, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
        return (x - mean) / std

    def rgb(self) -> Preprocessing:
        """The same normalisation for RGB pixels in 0..1 (what the training pipeline
        speaks). For a BGR ``self`` the model must take RGB input too: see
        :func:`as_rgb`, which flips its first convolution."""
        mean = tuple(m / self.scale for m in self.mean)
        std = tuple(s / self.scale for s in self.std)
        if self.channel_order == "BGR":
            mean, std = mean[::-1], std[::-1]
        return replace(self, channel_order="RGB", scale=1.0, mean=mean, std=std)

    def at_size(self, input_size: int | None) -> Preprocessing:
        """The same normalisation at another input size (resize keeps its 0.875 ratio)."""
        if not input_size or input_size == self.input_size:
            return self
        return replace(self, input_size=input_size, resize_size=eval_resize_size(input_size))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples as lists)."""
        d = asdict(self)
        d["mean"], d["std"] = list(self.mean), list(self.std)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "preprocessing") -> Preprocessing:
        """The inverse of :meth:`to_dict`; bad values are a one-line error naming ``source``."""
        try:
            return cls(mean=tuple(float(v) for v in data["mean"]),
                       std=tuple(float(v) for v in data["std"]),
                       scale=float(data.get("scale", 1.0)),
                       channel_order=str(data.get("channel_order", "RGB")),
                       input_size=int(data["input_size"]),
                       resize_size=int(data["resize_size"]))
        except (KeyError, TypeError, ValueError) as err:
            if isinstance(err, WeightsError):
                raise WeightsError(f"{source}: {err}") from None
            raise WeightsError(f"{source}: damaged preprocessing ({err!r})") from None


def as_rgb(model: nn.Module, pre: Preprocessing) -> Preprocessing:
    """Make a BGR-trained model (Caffe's) take RGB input, in place and exactly: flipping
    its first convolution's input channels equals flipping the image. Returns the
    equivalent preprocessing for RGB pixels in 0..1 (:meth:`Preprocessing.rgb`)."""
    if pre.channel_order == "BGR" and pre.channels == 3:
        conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
        with torch.no_grad():
            conv.weight.copy_(conv.weight.flip(1))
    return pre.rgb()
