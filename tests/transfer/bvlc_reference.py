"""An independent BVLC GoogLeNet forward pass, read off Caffe's deploy.prototxt.

Plain functions driven by the caffemodel's blobs by Caffe layer name, sharing no code with
the package's model: padding per layer as in the prototxt, max pooling with Caffe's
output-size rule (ceil, then drop a window that would start in the padding), LRN written
out (local_size 5, alpha 1e-4, beta 0.75, k 1), concat order 1x1, 3x3, 5x5, pool_proj,
7x7 average pool, and the aux heads (5x5/3 average pool, 1x1 conv, fc, classifier).
Also used to make full-size BVLC GoogLeNet caffemodels with random weights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F

# deploy.prototxt's Inception modules: input channels, 1x1, 3x3 reduce, 3x3, 5x5 reduce,
# 5x5, pool proj.
MODULES = {
    "3a": (192, 64, 96, 128, 16, 32, 32), "3b": (256, 128, 128, 192, 32, 96, 64),
    "4a": (480, 192, 96, 208, 16, 48, 64), "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64), "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128), "5a": (832, 256, 160, 320, 32, 128, 128),
    "5b": (832, 384, 192, 384, 48, 128, 128),
}
AUX = {"loss1": ("4a", 512), "loss2": ("4d", 528)}


def bvlc_shapes(num_classes: int = 1000, aux: bool = True) -> dict[str, tuple[int, ...]]:
    """Weight shape of every parametrised layer (biases are (out,))."""
    shapes: dict[str, tuple[int, ...]] = {
        "conv1/7x7_s2": (64, 3, 7, 7), "conv2/3x3_reduce": (64, 64, 1, 1),
        "conv2/3x3": (192, 64, 3, 3),
    }
    for block, (cin, n1, r3, n3, r5, n5, pp) in MODULES.items():
        p = f"inception_{block}/"
        shapes |= {p + "1x1": (n1, cin, 1, 1), p + "3x3_reduce": (r3, cin, 1, 1),
                   p + "3x3": (n3, r3, 3, 3), p + "5x5_reduce": (r5, cin, 1, 1),
                   p + "5x5": (n5, r5, 5, 5), p + "pool_proj": (pp, cin, 1, 1)}
        for head, (after, channels) in AUX.items():
            if aux and after == block:
                shapes |= {f"{head}/conv": (128, channels, 1, 1), f"{head}/fc": (1024, 2048),
                           f"{head}/classifier": (num_classes, 1024)}
    shapes["loss3/classifier"] = (num_classes, 1024)
    return shapes


def random_bvlc_layers(
    seed: int = 0, num_classes: int = 1000, aux: bool = True
) -> dict[str, tuple[str, list[np.ndarray]]]:
    """``{name: (type, [weight, bias])}`` with He-scaled random weights, for the writer."""
    rng = np.random.default_rng(seed)
    layers: dict[str, tuple[str, list[np.ndarray]]] = {"data": ("Input", [])}
    for name, shape in bvlc_shapes(num_classes, aux).items():
        fan_in = int(np.prod(shape[1:]))
        # Classifiers small so logits stay O(1) while the LRN sees large activations.
        std = 0.01 if "classifier" in name else math.sqrt(2.0 / fan_in)
        weight = (rng.standard_normal(shape) * std).astype(np.float32)
        bias = (rng.standard_normal(shape[0]) * 0.1).astype(np.float32)
        layers[name] = ("Convolution" if len(shape) == 4 else "InnerProduct", [weight, bias])
    return layers


def _max_pool(x: torch.Tensor, k: int, s: int, pad: int = 0) -> torch.Tensor:
    """Caffe's PoolingLayer MAX: out = ceil((h + 2p - k) / s) + 1, minus one if the last
    window would start inside the padding; padded cells never win."""
    h = x.shape[-1]
    out = math.ceil((h + 2 * pad - k) / s) + 1
    if pad and (out - 1) * s >= h + pad:
        out -= 1
    extra = (out - 1) * s + k - (h + 2 * pad)
    x = F.pad(x, (pad, pad + max(extra, 0), pad, pad + max(extra, 0)), value=-math.inf)
    return F.max_pool2d(x, k, s)


def _lrn(x: torch.Tensor, size: int = 5, alpha: float = 1e-4, beta: float = 0.75) -> torch.Tensor:
    sq = F.pad(x * x, (0, 0, 0, 0, size // 2, size // 2))
    window = sum(sq[:, i:i + x.shape[1]] for i in range(size))
    return x / (1.0 + alpha / size * window) ** beta


def bvlc_forward(
    blobs: Mapping[str, list[np.ndarray]], x: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Logits of ``loss3`` (and ``loss1``/``loss2`` when their layers exist) for a batch
    already in Caffe's input form (BGR, 0..255 minus the mean). Computes in float64."""
    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.asarray(a, dtype=np.float64))

    def conv(name: str, y: torch.Tensor, stride: int = 1, pad: int = 0) -> torch.Tensor:
        w, b = blobs[name]
        return F.relu(F.conv2d(y, t(w), t(b).reshape(-1), stride=stride, padding=pad))

    def fc(name: str, y: torch.Tensor) -> torch.Tensor:
        w, b = blobs[name]
        return F.linear(y, t(w).reshape(t(b).numel(), -1), t(b).reshape(-1))

    y = _lrn(_max_pool(conv("conv1/7x7_s2", x.double(), 2, 3), 3, 2))
    y = _max_pool(_lrn(conv("conv2/3x3", conv("conv2/3x3_reduce", y), pad=1)), 3, 2)
    out: dict[str, torch.Tensor] = {}
    for block in MODULES:
        p = f"inception_{block}/"
        y = torch.cat([
            conv(p + "1x1", y),
            conv(p + "3x3", conv(p + "3x3_reduce", y), pad=1),
            conv(p + "5x5", conv(p + "5x5_reduce", y), pad=2),
            conv(p + "pool_proj", _max_pool(y, 3, 1, pad=1)),
        ], 1)
        for head, (after, _) in AUX.items():
            if after == block and f"{head}/conv" in blobs:
                a = conv(f"{head}/conv", F.avg_pool2d(y, 5, 3)).flatten(1)
                out[head] = fc(f"{head}/classifier", F.relu(fc(f"{head}/fc", a)))
        if block in ("3b", "4e"):
            y = _max_pool(y, 3, 2)
    y = F.avg_pool2d(y, 7, 1).flatten(1)
    out["loss3"] = fc("loss3/classifier", y)
    return out
