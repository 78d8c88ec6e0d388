"""Save and load state dicts as safetensors with preprocessing metadata; load ``.pth`` safely.

A safetensors file carries a ``dict[str, str]`` of metadata. Weights are only usable with
the preprocessing they were trained with, so this module standardises a few keys:

- ``source`` (str): where the weights came from, e.g. "keras:inception_v3 notop";
- ``mean``, ``std`` (1 or 3 floats, in ``channel_order``): the network sees
  ``(pixels - mean) / std`` with ``pixels`` in ``[0, scale]``;
- ``scale`` (float): that pixel range: 1.0 for torchvision-style [0, 1] inputs, 255.0 for
  Caffe's 0-255 (BVLC GoogLeNet: mean (104, 117, 123), std (1, 1, 1), "BGR");
- ``channel_order`` ("RGB" or "BGR");
- ``input_size`` (int or [height, width]);
- ``class_names`` (list of str).

String values are stored as they are (so "format": "pt" stays readable by other tools);
other values are stored as JSON and their keys are listed under ``googlenet.json_keys``,
so :func:`load_safetensors` gives back exactly the Python values that were saved.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import re
import zipfile
from collections.abc import Callable, Mapping
from numbers import Real
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from googlenet.atomic import atomic_path
from googlenet.errors import WeightsError
from googlenet.weights.check import check_state_dict

__all__ = [
    "load_safetensors",
    "load_torch_state_dict",
    "read_safetensors_metadata",
    "save_safetensors",
    "validate_metadata",
]

_JSON_KEYS = "googlenet.json_keys"


def _numbers(value: Any, key: str, *, positive: bool) -> None:
    if isinstance(value, str) or not hasattr(value, "__len__") or len(value) not in (1, 3):
        raise WeightsError(f"metadata {key!r} must be 1 or 3 numbers, got {value!r}")
    for item in value:
        if not isinstance(item, Real) or isinstance(item, bool) or not math.isfinite(item):
            raise WeightsError(f"metadata {key!r} must be finite numbers, got {value!r}")
        if positive and item <= 0:
            raise WeightsError(f"metadata {key!r} must be positive, got {value!r}")


def validate_metadata(metadata: Mapping[str, Any]) -> None:
    """Check the standard keys' types (see the module docstring); WeightsError if wrong."""
    for key, value in metadata.items():
        if not isinstance(key, str):
            raise WeightsError(f"metadata keys must be strings, got {key!r}")
        if key in ("mean", "std"):
            _numbers(value, key, positive=key == "std")
        elif key == "scale" and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0
        ):
            raise WeightsError(f"metadata 'scale' must be a positive number, got {value!r}")
        elif key == "channel_order" and value not in ("RGB", "BGR"):
            raise WeightsError(f"metadata 'channel_order' must be 'RGB' or 'BGR', got {value!r}")
        elif key == "input_size":
            sizes = [value] if isinstance(value, int) else list(value)
            if len(sizes) not in (1, 2) or not all(
                isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes
            ):
                raise WeightsError(
                    f"metadata 'input_size' must be an int or [height, width], got {value!r}"
                )
        elif key == "class_names" and (
            isinstance(value, str) or not all(isinstance(n, str) for n in value)
        ):
            raise WeightsError("metadata 'class_names' must be a list of strings")
        elif key in ("source", _JSON_KEYS) and not isinstance(value, str):
            raise WeightsError(f"metadata {key!r} must be a string, got {value!r}")


def _encode_metadata(metadata: Mapping[str, Any]) -> dict[str, str]:
    validate_metadata(metadata)
    encoded: dict[str, str] = {"format": "pt"}
    json_keys = []
    for key, value in metadata.items():
        if isinstance(value, str):
            encoded[key] = value
            continue
        if isinstance(value, tuple):
            value = list(value)
        try:
            encoded[key] = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise WeightsError(f"metadata {key!r} is not JSON-serialisable: {exc}") from None
        json_keys.append(key)
    if json_keys:
        encoded[_JSON_KEYS] = json.dumps(json_keys)
    return encoded


def _decode_metadata(raw: Mapping[str, str] | None, path: Path) -> dict[str, Any]:
    raw = dict(raw or {})
    try:
        json_keys = json.loads(raw.pop(_JSON_KEYS, "[]"))
        return {k: json.loads(v) if k in json_keys else v for k, v in raw.items()}
    except json.JSONDecodeError as exc:
        raise WeightsError(f"{path}: metadata is not valid JSON ({exc})") from None


def save_safetensors(
    path: str | os.PathLike[str],
    state_dict: Mapping[str, torch.Tensor],
    metadata: Mapping[str, Any] | None = None,
) -> None:
    """Write ``state_dict`` and ``metadata`` to ``path`` atomically (temp file + replace).

    Tensors are copied to contiguous CPU tensors first: safetensors refuses tensors that
    share storage (tied weights, views), and a state dict may contain either.
    """
    encoded = _encode_metadata(metadata or {})
    tensors = {}
    for key, value in state_dict.items():
        if not isinstance(value, torch.Tensor):
            raise WeightsError(f"{path}: state dict entry {key!r} is not a tensor")
        tensors[key] = value.detach().to("cpu", copy=True).contiguous()
    with atomic_path(path) as tmp:
        try:
            save_file(tensors, str(tmp), metadata=encoded)
        except SafetensorError as err:
            # safetensors reports a failed write (a full disk) in its own exception type:
            # made the OSError it is, so the CLI says it in one line naming the file.
            code = re.search(r"os error (\d+)", str(err))
            if code is None:
                raise
            raise OSError(int(code[1]), os.strerror(int(code[1])), str(path)) from err


# Files users hand to a command that reads weights, known by their suffix: what each is
# and what to do with it, so the error is not "corrupt" for a file that is fine.
_OTHER_FORMATS = {
    ".onnx": "an ONNX model (from `googlenet export`), not weights: give the .safetensors "
             "file it was exported from (the .onnx runs in onnxruntime; its metadata_props "
             "hold the classes and preprocessing)",
    ".pt2": "a torch.export archive (from `googlenet export`), not weights: give the "
            ".safetensors file it was exported from (torch.export.load runs the .pt2)",
    **dict.fromkeys((".pth", ".pt"), "a PyTorch pickle: import it first, `googlenet convert "
                    "FILE OUT.safetensors --from torchvision` (or --from timm)"),
    ".h5": "a Keras HDF5 file: import it first, `googlenet convert FILE OUT.safetensors "
           "--from keras`",
    ".caffemodel": "a Caffe model: import it first, `googlenet convert FILE OUT.safetensors "
                   "--from caffe`",
}


def _safe_open_error(path: Path, exc: Exception) -> WeightsError:
    other = _OTHER_FORMATS.get(path.suffix.lower())
    if other is not None:
        return WeightsError(f"{path}: {other}")
    detail = " ".join(str(exc).split())
    return WeightsError(f"{path}: not a readable safetensors file (truncated or corrupt: {detail})")


def read_safetensors_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return only the metadata of a safetensors file (cheap: reads the header)."""
    path = _existing(path, "safetensors file")
    try:
        with safe_open(str(path), framework="pt") as handle:
            raw = handle.metadata()
    except SafetensorError as exc:
        raise _safe_open_error(path, exc) from None
    return _decode_metadata(raw, path)


def load_safetensors(
    path: str | os.PathLike[str],
    expected: Mapping[str, torch.Tensor] | torch.nn.Module | None = None,
    *,
    keys: Callable[[str], bool] | None = None,
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Load ``(state_dict, metadata)`` from a safetensors file, on the CPU.

    ``keys`` selects which tensors to read (default: all). With ``expected`` (a model or
    its state dict), keys and shapes are checked first, see
    :func:`~googlenet.weights.check.check_state_dict`, and the keys come back in
    ``expected``'s order; otherwise in the file's (sorted) order.
    """
    path = _existing(path, "safetensors file")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            raw = handle.metadata()
            state = {key: handle.get_tensor(key) for key in handle.keys()  # noqa: SIM118
                     if keys is None or keys(key)}
    except SafetensorError as exc:
        raise _safe_open_error(path, exc) from None
    if expected is not None:
        state = check_state_dict(state, expected, source=str(path))
    return state, _decode_metadata(raw, path)


def _existing(path: str | os.PathLike[str], what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: {what} not found")
    return path


def load_torch_state_dict(
    path: str | os.PathLike[str],
    expected: Mapping[str, torch.Tensor] | torch.nn.Module | None = None,
) -> dict[str, torch.Tensor]:
    """Load a ``.pth``/``.pt`` state dict with ``torch.load(weights_only=True)``.

    ``weights_only=True`` refuses arbitrary pickled objects, so an untrusted file cannot run
    code. A checkpoint that wraps the weights as ``{"state_dict": ...}`` or
    ``{"model": ...}`` is unwrapped. Failures become one-line WeightsErrors naming the file.
    """
    path = _existing(path, "PyTorch weights file")
    try:
        # torch.load hands a *.safetensors path to safetensors, whose errors are its own.
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # Raised both for garbage and for files that need unsafe (non-weights) unpickling.
        first = (str(exc).strip().splitlines() or ["unpickling failed"])[0][:160]
        raise WeightsError(f"{path}: not a weights-only PyTorch file ({first})") from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile,
            SafetensorError) as exc:
        detail = " ".join(str(exc).split())[:200]
        raise WeightsError(f"{path}: cannot load (truncated or corrupt: {detail})") from None
    for wrapper in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(wrapper), dict):
            obj = obj[wrapper]
            break
    if not isinstance(obj, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()
    ):
        raise WeightsError(f"{path}: does not contain a state dict of tensors")
    if expected is not None:
        check_state_dict(obj, expected, source=str(path))
    return dict(obj)
