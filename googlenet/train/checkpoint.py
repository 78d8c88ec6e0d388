"""Checkpoints: weights as safetensors with self-describing metadata, plus a training state.

A checkpoint ``best``/``last`` in a run folder is two files, both written atomically
(a temporary file, then ``os.replace``, so a crash never leaves half a file):

- ``<stem>.safetensors``: the weights used for inference (the EMA weights when EMA is on)
  and, as string metadata, everything needed to rebuild the model alone: the registry
  name, its kwargs, the class names, mean/std and input size.
- ``<stem>.state.pt``: the training state (optimizer, EMA, raw weights when EMA is on,
  RNG states, epoch/step, history), tensors and plain types only, so it loads with
  ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import WeightsError
from ..models import create_model
from ..weights._atomic import atomic_path
from ..weights.safetensors_io import (
    check_state_dict,
    load_safetensors,
    read_safetensors_metadata,
    save_safetensors,
)

FORMAT = "googlenet-checkpoint/1"
EXTRA_KEYS = ("transfer",)


@dataclass
class CheckpointMeta:
    """What a checkpoint says about its model (stored with the standard keys of
    :mod:`googlenet.weights.safetensors_io` where one exists: ``class_names``, ``mean``,
    ``std``, ``input_size``)."""

    model: str
    model_kwargs: dict[str, Any]
    classes: list[str]
    mean: list[float]
    std: list[float]
    input_size: int
    epoch: int
    step: int
    metrics: dict[str, float]
    # Extra JSON metadata a custom model needs to be rebuilt: {"transfer": {...}} for a
    # fine-tuned backbone + head (see googlenet.transfer), which is not a registry model.
    extra: dict[str, Any] = field(default_factory=dict)
    # Shorter side an image is resized to before the center crop at evaluation. Training
    # feeds images at the input size itself (None); imported weights say their own
    # (256 for a 224 ImageNet model).
    resize_size: int | None = None

    @property
    def eval_resize(self) -> int:
        """The shorter side for 1-crop evaluation (see ``resize_size``)."""
        return self.resize_size or self.input_size

    def to_metadata(self) -> dict[str, Any]:
        return {"googlenet.checkpoint": FORMAT, "source": f"googlenet train: {self.model}",
                "model": self.model, "model_kwargs": self.model_kwargs,
                "class_names": self.classes, "mean": self.mean, "std": self.std,
                "input_size": self.input_size, "epoch": self.epoch, "step": self.step,
                "metrics": self.metrics,
                **{k: v for k, v in self.extra.items() if k in EXTRA_KEYS}}

    @classmethod
    def from_metadata(cls, meta: dict[str, Any], path: str | os.PathLike[str]
                      ) -> CheckpointMeta:
        if meta.get("googlenet.checkpoint") != FORMAT:
            raise WeightsError(f"{path}: not a googlenet training checkpoint (no "
                               f"'googlenet.checkpoint: {FORMAT}' metadata)")
        try:
            return cls(meta["model"], dict(meta["model_kwargs"]), list(meta["class_names"]),
                       list(meta["mean"]), list(meta["std"]), int(meta["input_size"]),
                       int(meta["epoch"]), int(meta["step"]), dict(meta["metrics"]),
                       {k: meta[k] for k in EXTRA_KEYS if k in meta})
        except (KeyError, TypeError, ValueError) as err:
            raise WeightsError(f"{path}: checkpoint metadata is damaged ({err})") from None


def save_weights(state_dict: dict[str, torch.Tensor], meta: CheckpointMeta,
                 path: str | os.PathLike[str]) -> None:
    """Write weights + metadata as safetensors, atomically."""
    save_safetensors(path, state_dict, meta.to_metadata())


def _is_imported(meta: dict[str, Any]) -> bool:
    # googlenet.weights.meta's keys, written by `googlenet convert`.
    return meta.get("googlenet.checkpoint") != FORMAT and "model" in meta and "mean" in meta


def read_meta(path: str | os.PathLike[str]) -> CheckpointMeta:
    """The metadata of a ``.safetensors`` checkpoint, without loading tensors. Imported
    weights (``googlenet convert``) are described with RGB 0..1 mean/std."""
    meta = read_safetensors_metadata(path)
    if _is_imported(meta):
        return _imported_meta(path)
    return CheckpointMeta.from_metadata(meta, path)


def _imported_meta(path: str | os.PathLike[str]) -> CheckpointMeta:
    """Weights from ``googlenet convert`` (or ``finetune``) seen as a checkpoint: RGB,
    0..1 mean/std, so evaluation code needs no notion of BGR or 0..255 pixels."""
    from ..transfer.build import rgb_preprocessing
    from ..weights.meta import class_names_or_default, read_weights_meta

    wm = read_weights_meta(path)
    wm.require_classifier(path)
    pre = rgb_preprocessing(wm.preprocessing)
    num_classes = int(wm.model_kwargs.get("num_classes") or len(wm.classes) or 1000)
    if wm.transfer is not None:
        num_classes = int(wm.transfer["num_classes"])
    return CheckpointMeta(wm.model, {"in_chans": 3, **wm.model_kwargs},
                          class_names_or_default(wm.classes, num_classes), list(pre.mean),
                          list(pre.std), pre.input_size, 0, 0, {},
                          {"transfer": wm.transfer} if wm.transfer else {}, pre.resize_size)


def load_weights(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], CheckpointMeta]:
    """Weights and metadata of a checkpoint; a damaged file is a one-line WeightsError."""
    state, meta = load_safetensors(path)
    return state, CheckpointMeta.from_metadata(meta, path)


def load_into(model: nn.Module, state: dict[str, torch.Tensor],
              path: str | os.PathLike[str]) -> None:
    """Load ``state`` into ``model`` strictly, with a one-line error on a mismatch."""
    check_state_dict(state, model, source=str(path))
    model.load_state_dict(state)


def build_from_checkpoint(path: str | os.PathLike[str]) -> tuple[nn.Module, CheckpointMeta]:
    """Rebuild the model a checkpoint describes and load its weights (eval mode).
    Imported weights (``googlenet convert``) work too, with RGB 0..1 preprocessing."""
    if _is_imported(read_safetensors_metadata(path)):
        from ..transfer.build import load_rgb_model

        return load_rgb_model(path)[0], _imported_meta(path)
    state, meta = load_weights(path)
    if "transfer" in meta.extra:
        from ..transfer.build import transfer_from_config
        from ..transfer.model import TransferConfig

        model: nn.Module = transfer_from_config(TransferConfig(**meta.extra["transfer"]))
    else:
        model = create_model(meta.model, **meta.model_kwargs)
    load_into(model, state, path)
    return model.eval(), meta


def save_state(state: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write the training state atomically (temporary file, fsync, rename)."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a training state with ``weights_only=True``; damage is a one-line error."""
    _exists(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unpickling failure means a bad file
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise WeightsError(f"{path}: not a readable training state ({first})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise WeightsError(f"{path}: not a googlenet training state")
    return state


def checkpoint_paths(run_dir: str | os.PathLike[str], stem: str) -> tuple[Path, Path]:
    """``(run_dir/stem.safetensors, run_dir/stem.state.pt)``."""
    base = Path(run_dir)
    return base / f"{stem}.safetensors", base / f"{stem}.state.pt"


def _exists(path: str | os.PathLike[str]) -> None:
    if not os.path.isfile(path):
        raise WeightsError(f"{path}: no such checkpoint file")
