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

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from ..errors import WeightsError
from ..models import create_model

FORMAT = "googlenet-checkpoint/1"
EXTRA_KEYS = ("transfer",)


@dataclass
class CheckpointMeta:
    """What a checkpoint says about its model."""

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

    def to_strings(self) -> dict[str, str]:
        out = {k: json.dumps(v) for k, v in self.__dict__.items() if k != "extra"}
        out.update({k: json.dumps(v) for k, v in self.extra.items() if k in EXTRA_KEYS})
        out["format"] = FORMAT
        return out

    @classmethod
    def from_strings(cls, meta: dict[str, str], path: str | os.PathLike[str]) -> CheckpointMeta:
        if meta.get("format") != FORMAT:
            raise WeightsError(f"{path}: not a googlenet training checkpoint (metadata "
                               f"format {meta.get('format')!r}, expected {FORMAT!r})")
        try:
            base = {k: json.loads(meta[k]) for k in cls.__dataclass_fields__ if k != "extra"}
            extra = {k: json.loads(meta[k]) for k in EXTRA_KEYS if k in meta}
            return cls(**base, extra=extra)
        except (KeyError, json.JSONDecodeError, TypeError) as err:
            raise WeightsError(f"{path}: checkpoint metadata is damaged ({err})") from None


def atomic_torch_save(obj: Any, path: str | os.PathLike[str]) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename over it."""
    tmp = f"{path}.tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def save_weights(state_dict: dict[str, torch.Tensor], meta: CheckpointMeta,
                 path: str | os.PathLike[str]) -> None:
    """Write weights + metadata as safetensors, atomically."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in state_dict.items()}
    tmp = f"{path}.tmp"
    save_file(tensors, tmp, metadata=meta.to_strings())
    os.replace(tmp, path)


def _raw_meta(path: str | os.PathLike[str]) -> dict[str, str]:
    from safetensors import safe_open

    _exists(path)
    try:
        with safe_open(str(path), framework="pt") as fh:
            return fh.metadata() or {}
    except (SafetensorError, OSError, ValueError) as err:
        raise WeightsError(f"{path}: not a readable safetensors file ({err})") from None


def _is_imported(meta: dict[str, str]) -> bool:
    # googlenet.weights.meta's keys: written by `googlenet convert`.
    return meta.get("format") != FORMAT and "model" in meta and "mean" in meta


def read_meta(path: str | os.PathLike[str]) -> CheckpointMeta:
    """The metadata of a ``.safetensors`` checkpoint, without loading tensors."""
    meta = _raw_meta(path)
    if _is_imported(meta):
        return _imported_meta(path)
    return CheckpointMeta.from_strings(meta, path)


def _imported_meta(path: str | os.PathLike[str]) -> CheckpointMeta:
    """Weights from ``googlenet convert`` (or ``finetune``) seen as a checkpoint: RGB,
    0..1 mean/std, so evaluation code needs no notion of BGR or 0..255 pixels."""
    from ..transfer.build import rgb_preprocessing
    from ..weights.meta import class_names_or_default, read_weights_meta

    wm = read_weights_meta(path)
    pre = rgb_preprocessing(wm.preprocessing)
    num_classes = int(wm.model_kwargs.get("num_classes") or len(wm.classes) or 1000)
    if wm.transfer is not None:
        num_classes = int(wm.transfer["num_classes"])
    return CheckpointMeta(wm.model, {"in_chans": 3, **wm.model_kwargs},
                          class_names_or_default(wm.classes, num_classes), list(pre.mean),
                          list(pre.std), pre.input_size, 0, 0, {},
                          {"transfer": wm.transfer} if wm.transfer else {})


def load_weights(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], CheckpointMeta]:
    """Weights and metadata of a checkpoint; a damaged file is a one-line WeightsError."""
    meta = read_meta(path)
    try:
        return load_file(str(path)), meta
    except (SafetensorError, OSError, ValueError) as err:
        raise WeightsError(f"{path}: cannot read weights ({err})") from None


def load_into(model: nn.Module, state: dict[str, torch.Tensor],
              path: str | os.PathLike[str]) -> None:
    """Load ``state`` into ``model`` strictly, with a one-line error on a mismatch."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    bad = [k for k in own if k in state and own[k].shape != state[k].shape]
    if missing or extra or bad:
        what = (f"missing {missing[:3]}" if missing else f"unexpected {extra[:3]}" if extra
                else f"shape of {bad[0]} is {tuple(state[bad[0]].shape)}, model has "
                     f"{tuple(own[bad[0]].shape)}")
        raise WeightsError(f"{path}: checkpoint does not fit the model ({what})")
    model.load_state_dict(state)


def build_from_checkpoint(path: str | os.PathLike[str]) -> tuple[nn.Module, CheckpointMeta]:
    """Rebuild the model a checkpoint describes and load its weights (eval mode).
    Imported weights (``googlenet convert``) work too, with RGB 0..1 preprocessing."""
    if _is_imported(_raw_meta(path)):
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
    """Write the training state atomically."""
    atomic_torch_save(state, path)


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
