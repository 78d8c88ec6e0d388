"""Explicit key maps from timm and Cadene (``pretrainedmodels``) state dicts to ours.

timm cannot be imported here (it needs torchvision) and is not needed: its checkpoints,
and those of Cadene's ``pretrainedmodels`` that timm's Inception ports grew from, are plain
state dicts. Each map is computed from our specs, one conv/norm/act unit
(:class:`~googlenet.layers.ConvNormAct`) or classifier at a time, and every file goes
through the one strict check (:func:`~googlenet.weights.check.check_state_dict`), whose
errors name the file's key and ours.

- ``inception_v4`` <- timm's and Cadene's ``inception_v4``: a ``features`` sequence in
  Figure 9's order (``features.0`` .. ``features.21``: the three stem convolutions, then one
  entry per block) whose blocks name their convolutions by position
  (:func:`timm_op_names`); a unit is ``<module>.conv`` / ``<module>.bn`` as ours; the
  classifier is ``last_linear``. Cadene's file (timm's first) has TF-slim's 1001 classes,
  class 0 being "background": that row is dropped, as timm's ``label_offset=1`` and
  ``pretrainedmodels.inceptionv4(pretrained="imagenet")`` drop it.
- ``bn_inception`` <- Cadene's ``bninception`` (the Caffe model): one flat name per Caffe
  layer, ``inception_3a_double_3x3_1`` (a convolution with bias) and
  ``inception_3a_double_3x3_1_bn``; the stem keeps Caffe's ``conv1_7x7_s2``,
  ``conv2_3x3_reduce`` and ``conv2_3x3``.
- ``inception_v3`` <- timm's ``inception_v3.tf_in1k`` (once ``tf_inception_v3``, with 1001
  classes): torchvision's layout, mapped by
  :func:`~googlenet.weights.torchvision_map.from_torchvision`.
- ``inception_resnet_v2`` <- timm's ``inception_resnet_v2.tf_in1k`` and Cadene's
  ``inceptionresnetv2``: the stem and ``conv2d_7b`` are TF-slim's scopes lower-cased
  without the kernel (``conv2d_1a``), the residual blocks sit in one ``nn.Sequential`` per
  stage (``repeat`` / ``repeat_1`` / ``repeat_2``) but the linear last one (``block8``),
  their branches are named as ours, and each block's residual projection ``conv2d`` is a
  bare ``nn.Conv2d`` with bias (:attr:`_Layout.bare`). The classifier is ``classif`` in
  timm and ``last_linear`` in Cadene's file, which has TF-slim's 1001 classes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

import torch
from torch import nn

from ..errors import SpecError, WeightsError
from ..layers import ConvNormAct
from ..models.inception_net import InceptionNet
from ..specs.blocks import BlockSpec, Conv, op_paths
from ..specs.bn_inception import (
    BN_INCEPTION,
    BRANCH_DOUBLE_3X3,
    CONV_1,
    CONV_2,
    figure5_block,
)
from ..specs.googlenet import BRANCH_1X1, BRANCH_3X3, BRANCH_POOL, CONV, PROJ, REDUCE
from ..specs.inception_resnet import INCEPTION_RESNET_V2, TF_SLIM_NAMES, V2_STAGES
from ..specs.inception_v4 import INCEPTION_V4
from .check import check_state_dict
from .torchvision_map import from_torchvision, reference_shapes

__all__ = ["SUPPORTED", "from_timm", "timm_key_map", "timm_model", "timm_op_names"]


@dataclass(frozen=True)
class _Layout:
    """How a file names our units: ``units`` maps each conv/norm/act module of ours to its
    module there, whose convolution and batch norm are ``conv`` / ``bn`` formatted with
    it, except the ``bare`` units, a plain ``nn.Conv2d`` there (``<module>.weight``);
    ``classifiers``: the classifier's names, the first one a file has is its own;
    ``background``: the file may carry TF-slim's extra class 0 first."""

    units: Mapping[str, str]
    conv: str = "{}.conv"
    bn: str = "{}.bn"
    classifiers: tuple[str, ...] = ("last_linear",)
    background: bool = False
    bare: frozenset[str] = field(default_factory=frozenset)

    def classifier(self, state: Mapping[str, torch.Tensor]) -> str:
        """The classifier's name in ``state`` (the first of :attr:`classifiers` if none)."""
        return next((c for c in self.classifiers if f"{c}.weight" in state),
                    self.classifiers[0])


def timm_op_names(block: BlockSpec) -> dict[str, str]:
    """timm's name for each convolution of ``block``, from its place in the table.

    Branch ``i`` is ``branch{i}``: a one-op branch is the op itself; a longer one an
    ``nn.Sequential`` (``branch{i}.{j}``, pools counted); a branch ending in a split
    numbers its ops ``branch{i}_{j}`` and the arms ``branch{i}_{n}a`` / ``b``. A block of
    one-op branches only (the stem's Mixed_3a and Mixed_5a) names them by kind: ``conv``.
    """
    plain = all(len(b.ops) == 1 and not b.split for b in block.branches)
    names: dict[str, str] = {}
    for i, (branch, (chain, arms)) in enumerate(zip(block.branches, op_paths(block),
                                                    strict=True)):
        for j, (op, path) in enumerate(zip(branch.ops, chain, strict=True)):
            if isinstance(op, Conv):
                names[path] = ("conv" if plain else f"branch{i}_{j}" if branch.split
                               else f"branch{i}" if len(branch.ops) == 1 else f"branch{i}.{j}")
        names.update({path: f"branch{i}_{len(branch.ops)}{'ab'[k]}"
                      for k, path in enumerate(arms)})
    if len(set(names.values())) != len(names):
        raise SpecError(f"block {block.label}: timm's naming gives two convolutions one name")
    return names


def _inception_v4() -> _Layout:
    units: dict[str, str] = {}
    for i, row in enumerate(r for r in INCEPTION_V4.rows if not r.is_head):
        if row.block is None:
            units[row.name] = f"features.{i}"
        else:
            units.update({f"{row.name}.{ours}": f"features.{i}.{theirs}"
                          for ours, theirs in timm_op_names(row.block).items()})
    return _Layout(units, background=True)


# The Caffe layer of each convolution inside a Figure 5 module, after "inception_3a_".
_FIGURE5_LAYERS = {
    BRANCH_1X1: "1x1",
    f"{BRANCH_3X3}.{REDUCE}": "3x3_reduce",
    f"{BRANCH_3X3}.{CONV}": "3x3",
    f"{BRANCH_DOUBLE_3X3}.{REDUCE}": "double_3x3_reduce",
    f"{BRANCH_DOUBLE_3X3}.{CONV_1}": "double_3x3_1",
    f"{BRANCH_DOUBLE_3X3}.{CONV_2}": "double_3x3_2",
    f"{BRANCH_POOL}.{PROJ}": "pool_proj",
}


def _bn_inception() -> _Layout:
    units: dict[str, str] = {}
    for row in BN_INCEPTION.rows:
        if row.type == "conv" and row.patch is not None:
            # Caffe's stem names: <row>/<k>x<k>[_s<stride>], the reduce <row>/<k>x<k>_reduce.
            kernel = f"{row.name}_{row.patch}x{row.patch}"
            if row.n3x3_reduce:
                units[row.reduce_name] = f"{kernel}_reduce"
            units[row.name] = kernel + (f"_s{row.stride}" if (row.stride or 1) > 1 else "")
        elif row.type == "bn_inception":
            paths = [p for chain, arms in op_paths(figure5_block(row)) for p in (*chain, *arms)]
            units.update({f"{row.name}.{p}": f"{row.name}_{_FIGURE5_LAYERS[p]}"
                          for p in paths if p in _FIGURE5_LAYERS})
    return _Layout(units, conv="{}", bn="{}_bn")


# timm's / Cadene's module of each stage's residual blocks (an nn.Sequential), by the
# block table the stage repeats; the linear last block (TF-slim's block8 with
# activation_fn=None) is one module outside them, and each block's projection is a bare
# nn.Conv2d called "conv2d".
_IRV2_STAGES = {V2_STAGES.a: "repeat", V2_STAGES.b: "repeat_1", V2_STAGES.c: "repeat_2"}
_IRV2_LINEAR_LAST = "block8"
_IRV2_PROJECTION = "conv2d"


def _irv2_conv_name(name: str) -> str:
    """timm's name of a convolution row: TF-slim's scope lower-cased without the kernel
    (``Conv2d_1a_3x3`` -> ``conv2d_1a``; our ``conv_7b``, TF-slim's ``Conv2d_7b_1x1`` ->
    ``conv2d_7b``)."""
    slim = {ours: theirs for theirs, ours in TF_SLIM_NAMES.items()}
    return slim.get(name, name).lower().rsplit("_", 1)[0]


def _inception_resnet_v2() -> _Layout:
    units: dict[str, str] = {}
    bare: set[str] = set()
    placed: Counter[str] = Counter()
    for row in INCEPTION_RESNET_V2.rows:
        if row.type == "conv":
            units[row.name] = _irv2_conv_name(row.name)
        if row.block is None:
            continue
        module = row.name  # mixed_5b, mixed_6a, mixed_7a: the same names there
        if row.block in _IRV2_STAGES:
            stage = _IRV2_STAGES[row.block]
            module = f"{stage}.{placed[stage]}"
            placed[stage] += 1
        elif row.block.residual is not None:
            module = _IRV2_LINEAR_LAST
        units.update({f"{row.name}.{ours}": f"{module}.{theirs}"
                      for ours, theirs in timm_op_names(row.block).items()})
        if row.block.residual is not None:
            ours = f"{row.name}.{row.block.residual.name}"
            units[ours] = f"{module}.{_IRV2_PROJECTION}"
            bare.add(ours)
    return _Layout(units, classifiers=("classif", "last_linear"), background=True,
                   bare=frozenset(bare))


_LAYOUTS: dict[str, Callable[[], _Layout]] = {
    "inception_v4": _inception_v4,
    "bn_inception": _bn_inception,
    "inception_resnet_v2": _inception_resnet_v2,
}
# timm's Inception v3 is torchvision's layout (see the module docstring).
_TORCHVISION_LAYOUT = ("inception_v3",)
SUPPORTED: tuple[str, ...] = (*_LAYOUTS, *_TORCHVISION_LAYOUT)
"""Our model names that a timm or Cadene state dict fills."""


@cache
def _layout(model_name: str) -> _Layout:
    if model_name not in _LAYOUTS:
        raise WeightsError(f"no timm key map for model {model_name!r} "
                           f"(supported: {', '.join(SUPPORTED)})")
    return _LAYOUTS[model_name]()


def timm_key_map(model_name: str, keys: Iterable[str], classifier: str | None = None,
                 ) -> dict[str, str]:
    """Our state-dict key -> the timm / Cadene file's, for each of ``keys``; ``classifier``
    is the file's classifier name (default: the layout's first)."""
    layout = _layout(model_name)
    out: dict[str, str] = {}
    for key in keys:
        module, _, leaf = key.rpartition(".")
        unit, _, part = module.rpartition(".")
        pattern = {ConvNormAct.CONV: layout.conv, ConvNormAct.BN: layout.bn}.get(part)
        if unit in layout.bare:
            pattern = "{}" if part == ConvNormAct.CONV else None
        if module == InceptionNet.CLASSIFIER:
            out[key] = f"{classifier or layout.classifiers[0]}.{leaf}"
        elif pattern is not None and unit in layout.units:
            out[key] = f"{pattern.format(layout.units[unit])}.{leaf}"
        else:
            raise WeightsError(f"{model_name}: no timm name for {key!r}")
    return out


def _without_background(state: Mapping[str, torch.Tensor], classifier: str,
                        ) -> dict[str, torch.Tensor]:
    """``state`` without TF-slim's class 0 ("background") when its classifier has the
    1001 classes of a TF-origin file, as timm's ``label_offset=1`` dropped it."""
    out = dict(state)
    weight, bias = f"{classifier}.weight", f"{classifier}.bias"
    if weight in out and out[weight].shape[0] == 1001:
        out[weight] = out[weight][1:]
        if bias in out:
            out[bias] = out[bias][1:]
    return out


def from_timm(
    state_dict: Mapping[str, torch.Tensor], model_name: str, *,
    model: nn.Module | None = None, source: str = "timm state dict",
) -> dict[str, torch.Tensor]:
    """Translate a timm / Cadene state dict into ours for ``model_name``.

    Shapes are checked against ``model`` when given, otherwise against the registered
    model with the file's class count; ``source`` (the file) starts every error message.
    """
    if model_name in _TORCHVISION_LAYOUT:  # a TF port: it may have TF-slim's 1001 classes
        return from_torchvision(_without_background(state_dict, InceptionNet.CLASSIFIER),
                                model_name, model=model, aux_logits=False, source=source)
    layout = _layout(model_name)
    classifier = layout.classifier(state_dict)
    state = _without_background(state_dict, classifier) if layout.background \
        else dict(state_dict)
    if model is not None:
        want = {k: v.shape for k, v in model.state_dict().items()}
    else:
        fc = state.get(f"{classifier}.weight")
        want = reference_shapes(model_name, fc.shape[0] if fc is not None else 1000, False)
    pairs = timm_key_map(model_name, want, classifier)
    inverse = {theirs: ours for ours, theirs in pairs.items()}
    unknown = [k for k in state if k not in inverse]
    if unknown:
        raise WeightsError(f"{source}: unexpected key {unknown[0]!r} (not part of the timm / "
                           f"Cadene {model_name} layout)")
    ours = {inverse[k]: v for k, v in state.items()}
    return check_state_dict(ours, want, source=source, name_of=lambda k: pairs.get(k, k))


def timm_model(state: Mapping[str, torch.Tensor], path: str) -> str:
    """Which of :data:`SUPPORTED` a state dict is, from its key names (a layout's last
    unit; torchvision's block names for Inception v3)."""
    for name in _LAYOUTS:
        layout = _layout(name)
        last = list(layout.units.values())[-1]
        if f"{layout.conv.format(last)}.weight" in state:
            return name
    if any(k.startswith("Mixed_7c.") for k in state):
        return "inception_v3"
    first = next(iter(state), "nothing")
    raise WeightsError(f"{path}: not a timm / Cadene {', '.join(SUPPORTED)} state dict "
                       f"(first key {first!r}); give --model to say which")
