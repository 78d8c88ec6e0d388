"""Map Keras ``InceptionV3`` weights onto our Inception v3, by structure, not by name.

Keras layer names are useless for matching: Keras 2 numbers auto-named layers from
``conv2d_1``, Keras 3 from ``conv2d``, and a session that built other models first shifts
every number. What is stable is the *order*: a weights file lists layers in
``model.layers`` order (see :mod:`googlenet.weights.keras_h5`), and Keras sorts a
functional model's layers by depth, i.e. by the longest path from the layer to the model
output, deepest first; layers at equal depth keep the order their branches are
concatenated in. Because every Inception block ends in one concatenation, blocks never
interleave, so the i-th ``Conv2D`` of the file is the i-th entry of :func:`keras_conv_order`,
and the i-th ``BatchNormalization`` belongs to the same convolution (a BN always sits one
step closer to the output than its conv). The released Keras 2 files follow the same order:
Keras 3's own legacy loader (``load_weights_from_hdf5_group``) assigns their layers to
``model.layers`` by position alone.

:func:`keras_block_order` computes that order from a block's branch table; the test
``tests/weights/test_keras_map.py`` proves it against a live ``keras.applications.InceptionV3``.

Layouts: conv kernels HWIO -> OIHW, dense ``(in, out)`` -> ``(out, in)``, and Keras'
Inception batch norms have ``scale=False`` (gamma = 1). Load into ``inception_v3_keras``:
Keras' average pooling leaves the padding out of the mean, torchvision's ``inception_v3``
counts it, so the same weights give slightly different outputs there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import nn

from ..errors import WeightsError
from ..layers import ConvNormAct, InceptionBlock
from ..models.inception_net import InceptionNet
from ..specs.blocks import BlockSpec, Conv, Op, Pool, op_paths
from ..specs.inception_v3 import INCEPTION_V3_KERAS
from .check import check_state_dict
from .keras_h5 import KerasLayer, layers_of_kind

__all__ = ["keras_block_order", "keras_conv_order", "keras_layers_to_state_dict",
           "load_keras_weights"]

KERAS_BLOCKS: frozenset[BlockSpec] = frozenset(
    row.block for row in INCEPTION_V3_KERAS.rows if row.block is not None)
"""The branch tables of Keras' InceptionV3, the only blocks its weight files fill."""


def _keras_layers(op: Op) -> int:
    # Keras layers an op becomes: Conv2D + BatchNormalization + Activation; one pooling.
    return 3 if isinstance(op, Conv) else 1 if isinstance(op, Pool) else 0


def keras_block_order(block: BlockSpec) -> tuple[str, ...]:
    """The module paths of ``block``'s convolutions in the order Keras lists them.

    Keras sorts layers by depth to the output, deepest first, ties in creation (branch)
    order. Inside a block the depth of an op is the number of Keras layers from it to
    the block's concatenation: its own and those after it in its branch, plus, for a
    branch ending in a split, the arm and the split's own concatenation (one layer).
    """
    entries: list[tuple[int, str]] = []
    for branch, (chain, arms) in zip(block.branches, op_paths(block), strict=True):
        tail = 1 + max(map(_keras_layers, branch.split)) if branch.split else 0
        for i, (op, path) in enumerate(zip(branch.ops, chain, strict=True)):
            if isinstance(op, Conv):
                entries.append((sum(map(_keras_layers, branch.ops[i:])) + tail, path))
        entries += [(_keras_layers(op) + 1, path)
                    for op, path in zip(branch.split, arms, strict=True) if isinstance(op, Conv)]
    return tuple(path for _, path in sorted(entries, key=lambda e: -e[0]))  # stable: ties


def keras_conv_order(model: nn.Module) -> list[str]:
    """Our conv/BN module names in the order Keras lists the matching layers."""
    names = getattr(model, "feature_names", None)
    if names is None:
        raise WeightsError(f"Keras InceptionV3 weights need an InceptionNet, got "
                           f"{type(model).__name__}")
    order: list[str] = []
    for name in names:
        module = getattr(model, name)
        if isinstance(module, ConvNormAct):
            order.append(name)
        elif isinstance(module, InceptionBlock) and module.spec in KERAS_BLOCKS:
            order.extend(f"{name}.{path}" for path in keras_block_order(module.spec))
        elif any(p.numel() for p in module.parameters()):
            raise WeightsError(f"Keras InceptionV3 weights cannot fill module {name!r} "
                               f"({type(module).__name__}); build inception_v3_keras")
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
    """``model``'s complete state dict from Keras InceptionV3 layers in file order.

    ``layers`` is what :func:`~googlenet.weights.keras_h5.read_keras_h5` returns. A file
    with top fills ``fc``; a "notop" file fits a model built without a classifier
    (``num_classes=0``). Every conv2d / batch-norm / dense layer is paired with its module
    by position, and the result goes through the one strict check, whose errors name the
    Keras layer and our key.
    """
    order = keras_conv_order(model)
    others = [layer.name for layer in layers if layer.kind == "other"]
    if others:
        raise WeightsError(f"{source}: layer {others[0]!r} is not a conv2d, batch norm or "
                           "dense layer; not a Keras InceptionV3 file")
    pairs = [*_pair("conv2d", layers_of_kind(list(layers), "conv2d"),
                    [f"{n}.conv" for n in order]),
             *_pair("batch-norm", layers_of_kind(list(layers), "batch_norm"),
                    [f"{n}.bn" for n in order]),
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


def load_keras_weights(
    model: nn.Module, layers: Sequence[KerasLayer], *, source: str = "Keras weights",
) -> None:
    """Load Keras InceptionV3 layers into ``model`` (strictly: every tensor is filled)."""
    model.load_state_dict(keras_layers_to_state_dict(layers, model, source=source))
