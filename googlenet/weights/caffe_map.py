"""The BVLC Caffe GoogLeNet (``bvlc_googlenet.caffemodel``) -> our paper ``googlenet``.

The BVLC release is the paper's network: LRN after pool1 and conv2, real 5x5 branches,
biases and no BN, two auxiliary heads (``loss1`` after 4a, ``loss2`` after 4d). Each
parametrised Caffe layer maps to one of our modules; its two blobs are the weight
(Caffe's conv layout OIHW and InnerProduct layout (out, in) are PyTorch's) and the bias.

Caffe fed the network BGR pixels in 0..255 minus a per-channel mean; that is recorded in
:data:`googlenet.weights.sources.RELEASES` so that ``googlenet predict`` applies it exactly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from googlenet.errors import WeightsError
from googlenet.layers import AuxHead, ConvNormAct
from googlenet.models.inception_net import InceptionNet
from googlenet.specs.googlenet import GOOGLENET, TABLE1, TABLE1_MODULES
from googlenet.weights.caffe import INCEPTION_BRANCH_LAYERS, CaffeLayer, bvlc_googlenet_layers


def _conv(module: str) -> str:
    return f"{module}.{ConvNormAct.CONV}"  # the convolution inside a conv/norm/act unit


_CONV1, _CONV2 = (row for row in TABLE1 if row.type == "conv")
# Caffe layer name -> our module, for the fixed part of the net.
_STEM = {"conv1/7x7_s2": _conv(_CONV1.name), "conv2/3x3_reduce": _conv(_CONV2.reduce_name),
         "conv2/3x3": _conv(_CONV2.name), "loss3/classifier": InceptionNet.CLASSIFIER}
# An Inception module's six layers -> our branch modules: both lists follow Table 1's
# columns (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj).
_BRANCHES = dict(zip(INCEPTION_BRANCH_LAYERS, map(_conv, TABLE1_MODULES.values()), strict=True))
# Aux heads: Caffe's loss1 / loss2 are the paper's heads after 4a / 4d.
AUX_HEADS = dict(zip(("loss1", "loss2"), (aux.name for aux in GOOGLENET.aux), strict=True))
_AUX_PARTS = {"conv": _conv(AuxHead.CONV), "fc": AuxHead.FC,
              "classifier": AuxHead.CLASSIFIER}

def caffe_module_name(layer: str) -> str:
    """Our module for a BVLC layer name.

    ``inception_4e/5x5`` -> ``inception_4e.branch_5x5.conv.conv``.
    """
    if layer in _STEM:
        return _STEM[layer]
    prefix, _, part = layer.partition("/")
    if prefix in AUX_HEADS and part in _AUX_PARTS:
        return f"{AUX_HEADS[prefix]}.{_AUX_PARTS[part]}"
    if prefix.startswith("inception_") and part in _BRANCHES:
        return f"{prefix}.{_BRANCHES[part]}"
    raise KeyError(layer)


def has_aux_heads(layers: Mapping[str, CaffeLayer], path: str | os.PathLike[str]) -> bool:
    """True for train_val files (the release has loss1/loss2), False for deploy-only ones;
    a file with only some of the aux layers is damaged."""
    names = [f"{h}/{p}" for h in AUX_HEADS for p in _AUX_PARTS]
    present = [n for n in names if n in layers]
    if present and len(present) != len(names):
        missing = next(n for n in names if n not in layers)
        raise WeightsError(f"{path}: caffemodel has {present[0]} but no layer {missing!r}")
    return bool(present)


def caffe_entries(
    layers: Mapping[str, CaffeLayer], path: str | os.PathLike[str], *, aux: bool
) -> Iterator[tuple[str, str, object]]:
    """``(source, key, array)`` for every weight of the BVLC GoogLeNet, in net order."""
    expected = bvlc_googlenet_layers(aux_after=None if aux else {})
    for name, type_ in expected:
        layer = _require(layers, name, path)
        if layer.type != type_:
            raise WeightsError(f"{path}: layer {name!r} is a {layer.type}, expected {type_}")
        if len(layer.blobs) != 2:
            raise WeightsError(f"{path}: layer {name!r} has {len(layer.blobs)} blobs, "
                               "expected 2 (weight, bias)")
        module = caffe_module_name(name)
        yield f"layer {name!r} weight", f"{module}.weight", layer.blobs[0]
        yield f"layer {name!r} bias", f"{module}.bias", layer.blobs[1]


def caffe_num_classes(layers: Mapping[str, CaffeLayer], path: str | os.PathLike[str]) -> int:
    """The class count of ``loss3/classifier`` (1000 for the ImageNet release)."""
    _require(layers, "conv1/7x7_s2", path)
    layer = _require(layers, "loss3/classifier", path)
    if not layer.blobs:
        raise WeightsError(f"{path}: layer 'loss3/classifier' has no weights")
    return int(layer.blobs[-1].size)


def _require(layers: Mapping[str, CaffeLayer], name: str, path: str | os.PathLike[str],
             ) -> CaffeLayer:
    layer = layers.get(name)
    if layer is None:
        have = ", ".join(n for n, lay in layers.items() if lay.blobs) or "no weight layers"
        raise WeightsError(f"{path}: no layer {name!r}; not the BVLC GoogLeNet? "
                           f"(file has: {have[:200]})")
    return layer
