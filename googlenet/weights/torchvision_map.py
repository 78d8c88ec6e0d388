"""Explicit key maps between torchvision state dicts and ours.

torchvision cannot be imported here and is not needed: its checkpoints are plain state
dicts. Each map below pairs a torchvision *module* (a ``BasicConv2d`` or ``nn.Linear``)
with ours; the part of a key after the module (``conv.weight``, ``bn.running_var``,
``weight``) is the same on both sides, because our ``ConvNormAct`` has the children
``conv`` and ``bn`` like ``BasicConv2d``.

- ``googlenet_bn`` <-> torchvision ``googlenet``: ``conv2``/``conv3`` are our
  ``conv2_reduce``/``conv2``; ``inception3a.branch2.0`` is ``inception_3a.branch_3x3.reduce``;
  ``aux1.fc1``/``aux1.fc2`` are ``aux_4a.fc``/``aux_4a.classifier``.
- ``inception_v3`` <-> torchvision ``inception_v3``: the stem and every branch already have
  torchvision's names; blocks are renamed (``Mixed_5b`` -> ``mixed0``) and ``AuxLogits`` is
  ``aux_mixed7`` (its ``fc`` is our ``classifier``).

Every key goes through the one strict check (:mod:`googlenet.weights.check`): a missing or
unexpected key, or a shape that differs from the model's, raises
:class:`~googlenet.errors.WeightsError` naming torchvision's key, ours and both shapes.

Preprocessing note: torchvision's pretrained ``googlenet`` and ``inception_v3`` run with
``transform_input=True``, which turns ImageNet-normalised input into ``(x - 0.5) / 0.5``.
Our models have no such switch: feed them ``x`` normalised with mean = std = 0.5.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from ..errors import WeightsError
from ..models.inception_net import InceptionNet
from ..models.registry import get_model_info
from ..specs.inception_v3 import TORCHVISION_NAMES
from .check import check_state_dict

__all__ = ["from_torchvision", "to_torchvision", "torchvision_module_map", "SUPPORTED"]

_GOOGLENET_BLOCKS = ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b")
_GOOGLENET_BRANCHES = {
    "branch1": "branch_1x1",
    "branch2.0": "branch_3x3.reduce",
    "branch2.1": "branch_3x3.conv",
    "branch3.0": "branch_5x5.reduce",
    "branch3.1": "branch_5x5.conv",
    "branch4.1": "branch_pool.proj",  # branch4.0 is the max pool (no weights)
}
_GOOGLENET_AUX = {"aux1": "aux_4a", "aux2": "aux_4d"}
_V3_STEM = ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "Conv2d_3b_1x1",
            "Conv2d_4a_3x3")


def _googlenet_map() -> dict[str, str]:
    pairs = {"conv1": "conv1", "conv2": "conv2_reduce", "conv3": "conv2", "fc": "fc"}
    for block in _GOOGLENET_BLOCKS:
        for theirs, ours in _GOOGLENET_BRANCHES.items():
            pairs[f"inception{block}.{theirs}"] = f"inception_{block}.{ours}"
    for theirs, ours in _GOOGLENET_AUX.items():
        pairs.update({f"{theirs}.conv": f"{ours}.conv", f"{theirs}.fc1": f"{ours}.fc",
                      f"{theirs}.fc2": f"{ours}.classifier"})
    return pairs


def _inception_v3_map() -> dict[str, str]:
    # Inside a block every branch has torchvision's name, so whole blocks map.
    pairs = {name: name for name in _V3_STEM}
    pairs.update(TORCHVISION_NAMES)
    pairs.update({"AuxLogits.conv0": "aux_mixed7.conv0", "AuxLogits.conv1": "aux_mixed7.conv1",
                  "AuxLogits.fc": "aux_mixed7.classifier", "fc": "fc"})
    return pairs


_MAPS = {"googlenet_bn": _googlenet_map, "inception_v3": _inception_v3_map}
SUPPORTED: tuple[str, ...] = tuple(_MAPS)
"""Our model names that have a torchvision counterpart."""

_AUX_PREFIXES = {"googlenet_bn": ("aux1.", "aux2."), "inception_v3": ("AuxLogits.",)}


def torchvision_module_map(model_name: str) -> dict[str, str]:
    """torchvision module name -> ours, for every module with weights of ``model_name``."""
    if model_name not in _MAPS:
        raise WeightsError(f"no torchvision key map for model {model_name!r} "
                           f"(supported: {', '.join(SUPPORTED)})")
    return _MAPS[model_name]()


def _rename(key: str, pairs: Mapping[str, str]) -> str | None:
    """Rename ``key`` by its longest mapped module prefix; None if no prefix maps."""
    parts = key.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        ours = pairs.get(".".join(parts[:cut]))
        if ours is not None:
            return ".".join([ours, *parts[cut:]])
    return None


def _reference(model_name: str, num_classes: int, aux: bool) -> dict[str, torch.Size]:
    """Key -> shape of our model, built on the meta device (no memory, no init)."""
    spec = get_model_info(model_name).spec
    with torch.device("meta"):
        model = InceptionNet(spec, num_classes=num_classes, aux_logits=aux)
    return {k: v.shape for k, v in model.state_dict().items()}


def from_torchvision(
    state_dict: Mapping[str, torch.Tensor],
    model_name: str,
    *,
    model: nn.Module | None = None,
    aux_logits: bool | None = None,
    source: str = "torchvision state dict",
) -> dict[str, torch.Tensor]:
    """Translate a torchvision state dict into ours for ``model_name``.

    Shapes are checked against ``model`` when given, otherwise against the registered
    model with the checkpoint's class count. ``aux_logits=None`` keeps the aux heads if the
    checkpoint has them; ``False`` drops them. ``source`` (e.g. the file name) starts every
    error message.
    """
    pairs = torchvision_module_map(model_name)
    aux_prefixes = _AUX_PREFIXES[model_name]
    has_aux = any(k.startswith(aux_prefixes) for k in state_dict)
    keep_aux = has_aux if aux_logits is None else aux_logits
    ours: dict[str, torch.Tensor] = {}
    theirs: dict[str, str] = {}
    for key, value in state_dict.items():
        if not keep_aux and key.startswith(aux_prefixes):
            continue
        new = _rename(key, pairs)
        if new is None:
            raise WeightsError(f"{source}: unexpected key {key!r} (not part of torchvision's "
                               f"{model_name} layout)")
        ours[new], theirs[new] = value, key
    inverse = {o: t for t, o in pairs.items()}

    def name_of(key: str) -> str:
        return theirs.get(key) or _rename(key, inverse) or key

    if model is not None:
        want = {k: v.shape for k, v in model.state_dict().items()}
    else:
        fc = state_dict.get("fc.weight")
        want = _reference(model_name, fc.shape[0] if fc is not None else 1000, keep_aux)
    return check_state_dict(ours, want, source=source, name_of=name_of)


def to_torchvision(
    state_dict: Mapping[str, torch.Tensor], model_name: str, *, source: str = "state dict",
) -> dict[str, torch.Tensor]:
    """Translate our state dict for ``model_name`` into torchvision's key layout.

    The input is checked against the registered model first (aux heads optional), so the
    result loads into torchvision's model of the same configuration.
    """
    pairs = torchvision_module_map(model_name)
    inverse = {ours: tv for tv, ours in pairs.items()}
    spec = get_model_info(model_name).spec
    has_aux = any(k.startswith(tuple(f"{a.name}." for a in spec.aux)) for k in state_dict)
    fc = state_dict.get("fc.weight")
    want = _reference(model_name, fc.shape[0] if fc is not None else 1000, has_aux)
    check_state_dict(state_dict, want, source=source)
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        new = _rename(key, inverse)
        if new is None:  # unreachable after _check unless a map lacks a module
            raise WeightsError(f"{source}: key {key!r} has no torchvision name")
        out[new] = value
    return out
