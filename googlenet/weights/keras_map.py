"""Map Keras ``InceptionV3`` and ``InceptionResNetV2`` weights onto our models, by
structure, not by name.

Keras layer names are useless for matching: Keras 2 numbers auto-named layers from
``conv2d_1``, Keras 3 from ``conv2d``, and a session that built other models first shifts
every number. What is stable is the *order*: a weights file lists layers in
``model.layers`` order (see :mod:`googlenet.weights.keras_h5`), and Keras sorts a
functional model's layers by depth, i.e. by the longest path from the layer to the model
output, deepest first; layers at equal depth keep the order their branches are
concatenated in. Because every Inception block ends in one concatenation, blocks never
interleave, so the i-th ``Conv2D`` of the file is the i-th entry of :func:`keras_conv_order`,
and the i-th ``BatchNormalization`` belongs to the i-th of those convolutions that has
one (a BN always sits one step closer to the output than its conv). The released Keras 2
files follow the same order: Keras 3's own legacy loader (``load_weights_from_hdf5_group``)
assigns their layers to ``model.layers`` by position alone.

InceptionResNetV2's residual blocks end in ``x + scale * up``: the "up" projection
(``block35_1_conv``) is a ``Conv2D`` with bias and without BN, one layer from the block's
output, so it comes after every branch convolution of its block; the skip connection only
makes the block's input deeper, never interleaving blocks.

:func:`keras_block_order` computes that order from a block's branch table; the tests in
``tests/weights/`` prove it against live ``keras.applications.InceptionV3`` and
``InceptionResNetV2`` models.

Layouts: conv kernels HWIO -> OIHW, dense ``(in, out)`` -> ``(out, in)``, and Keras'
Inception batch norms have ``scale=False`` (gamma = 1). Load InceptionV3 files into
``inception_v3_keras``: Keras' average pooling leaves the padding out of the mean,
torchvision's ``inception_v3`` counts it, so the same weights give slightly different
outputs there. InceptionResNetV2 files load into ``inception_resnet_v2``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from ..errors import WeightsError
from ..layers import ConvNormAct, InceptionBlock
from ..models.inception_net import InceptionNet
from ..models.registry import create_model
from ..specs.blocks import BlockSpec, Conv, Op, Pool, op_paths
from ..specs.inception_resnet import INCEPTION_RESNET_V2
from ..specs.inception_v3 import INCEPTION_V3_KERAS
from .check import check_state_dict
from .keras_h5 import KerasLayer, layers_of_kind

__all__ = ["KERAS_MODELS", "keras_block_order", "keras_conv_order",
           "keras_layers_to_state_dict", "keras_model_of", "load_keras_weights"]

KERAS_MODELS: dict[str, str] = {
    "inception_v3_keras": "InceptionV3", "inception_resnet_v2": "InceptionResNetV2"}
"""Our models that Keras applications' weight files fill, and the Keras model of each."""

KERAS_BLOCKS: frozenset[BlockSpec] = frozenset(
    row.block for spec in (INCEPTION_V3_KERAS, INCEPTION_RESNET_V2) for row in spec.rows
    if row.block is not None)
"""The branch tables of Keras' InceptionV3 and InceptionResNetV2, the only blocks their
weight files fill."""


def _keras_layers(op: Op) -> int:
    # Keras layers an op becomes: Conv2D + BatchNormalization + Activation; one pooling.
    return 3 if isinstance(op, Conv) else 1 if isinstance(op, Pool) else 0


def keras_block_order(block: BlockSpec) -> tuple[str, ...]:
    """The module paths of ``block``'s convolutions in the order Keras lists them.

    Keras sorts layers by depth to the output, deepest first, ties in creation (branch)
    order. Inside a block the depth of an op is the number of Keras layers from it to
    the block's concatenation: its own and those after it in its branch, plus, for a
    branch ending in a split, the arm and the split's own concatenation (one layer). A
    residual block's projection reads that concatenation, so it comes last.
    """
    entries: list[tuple[int, str]] = []
    for branch, (chain, arms) in zip(block.branches, op_paths(block), strict=True):
        tail = 1 + max(map(_keras_layers, branch.split)) if branch.split else 0
        for i, (op, path) in enumerate(zip(branch.ops, chain, strict=True)):
            if isinstance(op, Conv):
                entries.append((sum(map(_keras_layers, branch.ops[i:])) + tail, path))
        entries += [(_keras_layers(op) + 1, path)
                    for op, path in zip(branch.split, arms, strict=True) if isinstance(op, Conv)]
    order = [path for _, path in sorted(entries, key=lambda e: -e[0])]  # stable: ties
    if block.residual is not None:
        order.append(block.residual.name)
    return tuple(order)


def keras_conv_order(model: nn.Module) -> list[str]:
    """Our conv/norm/act units' names in the order Keras lists the matching ``Conv2D``
    layers (:class:`ConvNormAct` units, with or without BN)."""
    names = getattr(model, "feature_names", None)
    if names is None:
        raise WeightsError(f"Keras weights need an InceptionNet, got {type(model).__name__}")
    order: list[str] = []
    for name in names:
        module = getattr(model, name)
        if isinstance(module, ConvNormAct):
            order.append(name)
        elif isinstance(module, InceptionBlock) and module.spec in KERAS_BLOCKS:
            order.extend(f"{name}.{path}" for path in keras_block_order(module.spec))
        elif any(p.numel() for p in module.parameters()):
            raise WeightsError(f"Keras weights cannot fill module {name!r} "
                               f"({type(module).__name__}); build one of "
                               f"{', '.join(KERAS_MODELS)}")
    return order


def _pair(kind: str, got: Sequence[KerasLayer], modules: Sequence[str],
          ) -> Iterator[tuple[str, KerasLayer]]:
    """``(our module, Keras layer)`` by position; a surplus layer pairs with a module no
    model has, so the strict check reports it as unexpected, by its Keras name."""
    for i, layer in enumerate(got):
        yield (modules[i] if i < len(modules) else f"extra {kind} layer {i}"), layer


def keras_layers_to_state_dict(
    layers: Sequence[KerasLayer], model: nn.Module, *, source: str = "Keras weights",
) -> dict[str, torch.Tensor]:
    """``model``'s complete state dict from Keras InceptionV3 or InceptionResNetV2 layers
    in file order.

    ``layers`` is what :func:`~googlenet.weights.keras_h5.read_keras_h5` returns. A file
    with top fills ``fc``; a "notop" file fits a model built without a classifier
    (``num_classes=0``). Every conv2d / batch-norm / dense layer is paired with its module
    by position (batch norms with the units that have one), and the result goes through
    the one strict check, whose errors name the Keras layer and our key.
    """
    order = keras_conv_order(model)
    others = [layer.name for layer in layers if layer.kind == "other"]
    if others:
        raise WeightsError(f"{source}: layer {others[0]!r} is not a conv2d, batch norm or "
                           "dense layer; not a Keras InceptionV3 or InceptionResNetV2 file")
    with_bn = [n for n in order if model.get_submodule(n).bn is not None]
    pairs = [*_pair("conv2d", layers_of_kind(list(layers), "conv2d"),
                    [f"{n}.conv" for n in order]),
             *_pair("batch-norm", layers_of_kind(list(layers), "batch_norm"),
                    [f"{n}.bn" for n in with_bn]),
             *_pair("dense", layers_of_kind(list(layers), "dense"), [InceptionNet.CLASSIFIER])]
    out: dict[str, torch.Tensor] = {}
    keras_name: dict[str, str] = {}
    for module, layer in pairs:
        for leaf, array in layer.torch_arrays().items():
            key = f"{module}.{leaf}"
            out[key] = torch.as_tensor(array, dtype=torch.float32).clone()
            keras_name[key] = layer.name
    return check_state_dict(out, model, source=source,
                            name_of=lambda key: keras_name.get(key, key))


@functools.cache
def _conv_count(name: str) -> int:
    with torch.device("meta"):  # shapes only: nothing allocated or initialised
        return len(keras_conv_order(create_model(name, num_classes=0)))


def keras_model_of(layers: Sequence[KerasLayer], *, source: str = "Keras weights") -> str:
    """Which of :data:`KERAS_MODELS` a Keras file fills, told by its number of ``Conv2D``
    layers (InceptionV3: 94; InceptionResNetV2: 244, its residual projections included)."""
    convs = len(layers_of_kind(list(layers), "conv2d"))
    for name in KERAS_MODELS:
        if _conv_count(name) == convs:
            return name
    known = ", ".join(f"{keras} ({_conv_count(ours)})" for ours, keras in KERAS_MODELS.items())
    raise WeightsError(f"{source}: {convs} conv layers fit no Keras model we know: {known}; "
                       "give --model")


def load_keras_weights(
    model: nn.Module, layers: Sequence[KerasLayer], *, source: str = "Keras weights",
) -> None:
    """Load Keras InceptionV3 / InceptionResNetV2 layers into ``model`` (strictly: every
    tensor is filled)."""
    model.load_state_dict(keras_layers_to_state_dict(layers, model, source=source))
