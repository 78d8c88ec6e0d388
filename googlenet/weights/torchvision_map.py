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
from ..layers import AuxHead, InceptionV3Aux
from ..models.inception_net import InceptionNet
from ..models.registry import get_model_info
from ..specs.googlenet import GOOGLENET_BN, TABLE1_MODULES
from ..specs.inception_v3 import INCEPTION_V3, TORCHVISION_NAMES
from .check import check_state_dict

__all__ = ["from_torchvision", "to_torchvision", "torchvision_module_map", "SUPPORTED"]

# torchvision's Inception children, by the Table 1 column (Row field) that sizes them.
_GOOGLENET_BRANCHES = {
    "branch1": "n1x1",
    "branch2.0": "n3x3_reduce",
    "branch2.1": "n3x3",
    "branch3.0": "n5x5_reduce",
    "branch3.1": "n5x5",
    "branch4.1": "pool_proj",  # branch4.0 is the max pool (no weights)
}
_AUX_PARTS = {"conv": AuxHead.CONV, "fc1": AuxHead.FC, "fc2": AuxHead.CLASSIFIER}


def _googlenet_map() -> dict[str, str]:
    spec = GOOGLENET_BN
    # torchvision numbers its stem convolutions conv1..conv3: our conv1, and conv2 with
    # its "#3x3 reduce" column in front.
    stem = [name for row in spec.rows if row.type == "conv"
            for name in ([row.reduce_name] if row.n3x3_reduce else []) + [row.name]]
    pairs = {f"conv{i}": name for i, name in enumerate(stem, 1)}
    pairs["fc"] = InceptionNet.CLASSIFIER
    for row in (r for r in spec.rows if r.type == "inception"):
        theirs = row.name.replace("_", "")  # inception_3a -> inception3a
        for child, column in _GOOGLENET_BRANCHES.items():
            pairs[f"{theirs}.{child}"] = f"{row.name}.{TABLE1_MODULES[column]}"
    for i, aux in enumerate(spec.aux, 1):
        pairs.update({f"aux{i}.{t}": f"{aux.name}.{o}" for t, o in _AUX_PARTS.items()})
    return pairs


def _inception_v3_map() -> dict[str, str]:
    # The stem and every branch inside a block have torchvision's names, so whole
    # blocks map.
    pairs = {r.name: r.name for r in INCEPTION_V3.rows if r.type == "conv"}
    pairs.update(TORCHVISION_NAMES)
    aux = INCEPTION_V3.aux[0].name
    pairs.update({
        f"AuxLogits.{InceptionV3Aux.CONV0}": f"{aux}.{InceptionV3Aux.CONV0}",
        f"AuxLogits.{InceptionV3Aux.CONV1}": f"{aux}.{InceptionV3Aux.CONV1}",
        "AuxLogits.fc": f"{aux}.{InceptionV3Aux.CLASSIFIER}",
        "fc": InceptionNet.CLASSIFIER,
    })
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


def reference_shapes(model_name: str, num_classes: int, aux: bool) -> dict[str, torch.Size]:
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
        want = reference_shapes(model_name, fc.shape[0] if fc is not None else 1000, keep_aux)
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
    want = reference_shapes(model_name, fc.shape[0] if fc is not None else 1000, has_aux)
    check_state_dict(state_dict, want, source=source)
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        new = _rename(key, inverse)
        if new is None:  # unreachable after _check unless a map lacks a module
            raise WeightsError(f"{source}: key {key!r} has no torchvision name")
        out[new] = value
    return out
