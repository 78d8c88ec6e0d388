"""The one strict state-dict check: every key present, nothing extra, every shape equal.

Loaders (:mod:`googlenet.weights.loader`) and importers (torchvision, Keras, Caffe) all
end here, so a weights file that does not fit its model always fails the same way: one
line naming the file, the first key that is wrong (in the model's order, so the earliest
layer), and both shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import nn

from googlenet.errors import WeightsError

# BatchNorm's step counter is bookkeeping, not a weight: no foreign format has it, and a
# file without it loads with the counter at 0.
OPTIONAL_SUFFIXES = ("num_batches_tracked",)

Expected = Mapping[str, torch.Tensor] | Mapping[str, torch.Size] | nn.Module


def _shapes(expected: Expected) -> dict[str, tuple[int, ...]]:
    if isinstance(expected, nn.Module):
        expected = expected.state_dict()
    return {k: tuple(v.shape if isinstance(v, torch.Tensor) else v)
            for k, v in expected.items()}


def _more(items: list[str]) -> str:
    return f" (and {len(items) - 1} more)" if len(items) > 1 else ""


def check_state_dict(
    state: Mapping[str, torch.Tensor],
    expected: Expected,
    *,
    source: str,
    name_of: Callable[[str], str] | None = None,
) -> dict[str, torch.Tensor]:
    """Check ``state`` against ``expected`` (a model, its state dict, or key -> shape) and
    return it in ``expected``'s key order, with absent BN counters filled with 0.

    Raises :class:`WeightsError` on the first missing key, unexpected key, shape
    mismatch, or weight that is not floating point or holds NaN/inf, prefixed by
    ``source`` (the file). ``name_of`` gives the file's own name for one of our keys (a
    torchvision or Keras name), for messages that the user can find in their file.
    """
    want = _shapes(expected)
    name = name_of or str

    def said(key: str) -> str:
        theirs = name(key)
        return repr(key) if theirs == key else f"{theirs!r} (ours: {key})"

    missing = [k for k in want if k not in state and not k.endswith(OPTIONAL_SUFFIXES)]
    if missing:
        raise WeightsError(f"{source}: missing key {said(missing[0])}{_more(missing)}, "
                           f"shape {want[missing[0]]}")
    unexpected = [k for k in state if k not in want]
    if unexpected:
        raise WeightsError(f"{source}: unexpected key {said(unexpected[0])}"
                           f"{_more(unexpected)}")
    out: dict[str, torch.Tensor] = {}
    for key, shape in want.items():
        if key not in state:
            out[key] = torch.tensor(0, dtype=torch.long)
            continue
        got = tuple(state[key].shape)
        if got != shape:
            raise WeightsError(f"{source}: shape mismatch for {said(key)}: file has {got}, "
                               f"model expects {shape}")
        if not key.endswith(OPTIONAL_SUFFIXES):
            _check_values(state[key], f"{source}: tensor {said(key)}")
        out[key] = state[key]
    return out


def _check_values(tensor: torch.Tensor, where: str) -> None:
    """A weight must be floating point and finite: one NaN weight makes every answer NaN
    on the eager path and a confident wrong one on the fused paths, and integer weights
    give flat scores; neither is a model to run."""
    if not tensor.is_floating_point():
        raise WeightsError(f"{where} is {str(tensor.dtype).removeprefix('torch.')}, not "
                           "floating point")
    if not bool(torch.isfinite(tensor).all()):
        raise WeightsError(f"{where} holds NaN or infinite values")


def load_strict(model: nn.Module, state: Mapping[str, torch.Tensor], *, source: str) -> None:
    """:func:`check_state_dict`, then load ``state`` into ``model``."""
    model.load_state_dict(check_state_dict(state, model, source=source))
