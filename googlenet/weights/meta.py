"""What a weights file says about itself: the model to build, its classes and preprocessing.

Imported and fine-tuned weights are safetensors files whose string metadata is enough to
rebuild and run the model without any other file:

- ``format``: ``googlenet-weights/1``;
- ``model`` / ``model_kwargs``: the registry name and the ``create_model`` keyword
  arguments (``transfer`` describes a fine-tuned backbone + head instead, see
  :mod:`googlenet.transfer`);
- ``classes``: the class names in logit order;
- ``preprocessing``: :class:`Preprocessing`, how pixels become the model's input;
- ``source``: where the weights came from (framework, file name, notes).

Every value is JSON text, since safetensors metadata is a ``str -> str`` map. The train
helper's run checkpoints (``googlenet-checkpoint/1``) carry the same facts under other
keys; :func:`read_weights_meta` reads both.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from googlenet.errors import WeightsError

FORMAT = "googlenet-weights/1"
CHECKPOINT_FORMAT = "googlenet-checkpoint/1"
CHANNEL_ORDERS = ("RGB", "BGR")


@dataclass(frozen=True)
class Preprocessing:
    """How a uint8 RGB image becomes the model's input, exactly.

    ``x = (pixels * pixel_scale / 255)[channel_order] ; x = (x - mean) / std`` where
    ``pixels`` are 0..255; ``mean``/``std`` are in the model's channel order and in
    units of ``pixel_scale`` (1.0: pixels in 0..1, as torchvision and Keras; 255.0:
    pixels in 0..255, as Caffe). Images are resized (shorter side to ``resize_size``,
    bilinear) and center-cropped to ``input_size``.
    """

    mean: tuple[float, ...] = (0.485, 0.456, 0.406)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)
    pixel_scale: float = 1.0
    channel_order: str = "RGB"
    input_size: int = 224
    resize_size: int = 256

    def __post_init__(self) -> None:
        if self.channel_order not in CHANNEL_ORDERS:
            raise WeightsError(f"channel_order must be RGB or BGR, got {self.channel_order!r}")
        if any(s == 0 for s in self.std) or self.pixel_scale <= 0:
            raise WeightsError(f"preprocessing needs non-zero std and a positive pixel scale, "
                               f"got std={self.std}, pixel_scale={self.pixel_scale}")

    @property
    def unit_mean(self) -> tuple[float, ...]:
        """``mean`` for pixels in 0..1 (what :func:`googlenet.data.to_float` takes)."""
        return tuple(m / self.pixel_scale for m in self.mean)

    @property
    def unit_std(self) -> tuple[float, ...]:
        """``std`` for pixels in 0..1."""
        return tuple(s / self.pixel_scale for s in self.std)

    def reorder(self, x: torch.Tensor) -> torch.Tensor:
        """RGB batch -> the model's channel order (a no-op for RGB and for grayscale)."""
        if self.channel_order == "BGR" and x.shape[1] == 3:
            return x.flip(1)
        return x

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """A uint8 (B, C, H, W) RGB batch, already cropped -> the model's float input."""
        x = self.reorder(x).float() * (self.pixel_scale / 255.0)
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
    """The metadata of a ``googlenet-weights/1`` file (see the module docstring)."""

    model: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    source: dict[str, Any] = field(default_factory=dict)
    transfer: dict[str, Any] | None = None

    def to_strings(self) -> dict[str, str]:
        """The safetensors metadata map (JSON values)."""
        out = {
            "format": FORMAT,
            "model": self.model,
            "model_kwargs": json.dumps(self.model_kwargs),
            "classes": json.dumps(self.classes),
            "preprocessing": json.dumps(self.preprocessing.to_dict()),
            "source": json.dumps(self.source),
        }
        if self.transfer is not None:
            out["transfer"] = json.dumps(self.transfer)
        return out

    @classmethod
    def from_strings(cls, meta: Mapping[str, str], path: str | os.PathLike[str]) -> WeightsMeta:
        """Parse a metadata map; a foreign or damaged one is a one-line error."""
        fmt = meta.get("format")
        try:
            if fmt == CHECKPOINT_FORMAT:
                return _from_checkpoint(meta)
            if fmt != FORMAT:
                raise WeightsError(f"{path}: no googlenet metadata (format {fmt!r}); "
                                   "convert foreign weights with `googlenet convert` first")
            transfer = meta.get("transfer")
            return cls(
                model=meta["model"],
                model_kwargs=json.loads(meta.get("model_kwargs", "{}")),
                classes=list(json.loads(meta.get("classes", "[]"))),
                preprocessing=Preprocessing.from_dict(json.loads(meta["preprocessing"])),
                source=json.loads(meta.get("source", "{}")),
                transfer=json.loads(transfer) if transfer else None,
            )
        except (KeyError, json.JSONDecodeError, TypeError, ValueError) as err:
            if isinstance(err, WeightsError):
                raise
            raise WeightsError(f"{path}: damaged weights metadata ({err!r})") from None


def _from_checkpoint(meta: Mapping[str, str]) -> WeightsMeta:
    """A training checkpoint's metadata (train helper's format) as :class:`WeightsMeta`."""
    size = int(json.loads(meta["input_size"]))
    pre = Preprocessing(
        mean=tuple(json.loads(meta["mean"])), std=tuple(json.loads(meta["std"])),
        input_size=size, resize_size=round(size / 0.875),
    )
    transfer = meta.get("transfer")
    return WeightsMeta(
        model=json.loads(meta["model"]), model_kwargs=json.loads(meta["model_kwargs"]),
        classes=list(json.loads(meta["classes"])), preprocessing=pre,
        source={"framework": "googlenet", "checkpoint": CHECKPOINT_FORMAT},
        transfer=json.loads(transfer) if transfer else None,
    )


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
    from safetensors.torch import save_file

    from googlenet.weights._atomic import atomic_path

    tensors = {k: v.detach().cpu().contiguous() for k, v in state_dict.items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta.to_strings())


def read_weights_meta(path: str | os.PathLike[str]) -> WeightsMeta:
    """The metadata of a weights file or training checkpoint, without loading tensors."""
    from safetensors import SafetensorError, safe_open

    if not os.path.isfile(path):
        raise WeightsError(f"{path}: no such weights file")
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
    except (SafetensorError, OSError, ValueError) as err:
        raise WeightsError(f"{path}: not a readable safetensors file ({err})") from None
    return WeightsMeta.from_strings(meta, path)


def load_weights_file(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], WeightsMeta]:
    """Tensors and metadata of a weights file; damage is a one-line error naming it."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    meta = read_weights_meta(path)
    try:
        return load_file(str(path)), meta
    except (SafetensorError, OSError, ValueError) as err:
        raise WeightsError(f"{path}: cannot read weights ({err})") from None
