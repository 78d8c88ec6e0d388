"""Fill a model's state dict from foreign arrays through an explicit key map, with checks.

Every importer turns its file into ``(source name, our key, array)`` triples; this module
checks each against the model (the key exists, the shape fits) and that nothing the model
needs was left out. Errors name the file, the source layer and our key, in one line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch import nn

from googlenet.errors import WeightsError
from googlenet.weights.check import check_state_dict


def _fit_shape(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """``array`` in ``shape``, allowing only leading 1-dims to be dropped (old Caffe files
    store a bias (n,) as (1, 1, 1, n)); None when it does not fit."""
    if array.shape == shape:
        return array
    extra = array.ndim - len(shape)
    if extra > 0 and all(d == 1 for d in array.shape[:extra]) and array.shape[extra:] == shape:
        return array.reshape(shape)
    return None


def fill_state_dict(
    model: nn.Module,
    entries: Iterable[tuple[str, str, Any]],
    path: str | os.PathLike[str],
) -> dict[str, torch.Tensor]:
    """Build ``model``'s complete state dict from ``(source, key, array)`` triples.

    Raises :class:`WeightsError` naming the file and the source layer when a key is not
    in the model, a shape does not fit or a key is given twice; the completed state dict
    then goes through the one strict check (a model key left without a value). Returns
    the state dict (float32 tensors) and loads it into ``model``.
    """
    own = model.state_dict()
    out: dict[str, torch.Tensor] = {}
    for source, key, value in entries:
        if key not in own:
            raise WeightsError(f"{path}: {source} maps to {key!r}, which the model does not have")
        if key in out:
            raise WeightsError(f"{path}: {source} maps to {key!r}, which was already filled")
        array = np.asarray(value.numpy() if isinstance(value, torch.Tensor) else value)
        want = tuple(own[key].shape)
        fitted = _fit_shape(array, want)
        if fitted is None:
            raise WeightsError(f"{path}: {source} has shape {tuple(array.shape)}, but {key} "
                               f"needs {want} (a different model or variant?)")
        out[key] = torch.from_numpy(np.ascontiguousarray(fitted)).to(own[key].dtype)
    out = check_state_dict(out, own, source=str(path))
    model.load_state_dict(out)
    return out
