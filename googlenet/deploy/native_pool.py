"""Max pooling by this package's kernel (``kernels/max_pool.c``) for the ``winograd``
inference path: fp32, NHWC, no argmax indices.

PyTorch's CPU max pooling writes int64 indices beside its output even without autograd,
and pooling is bound by memory (BENCHMARKS.md, the winograd section, has the probe). A
NaN in a window gives NaN, as in PyTorch.
"""

from __future__ import annotations

import torch
from torch import nn

from ..specs.blocks import pair
from . import native
from .fuse import ReusedIndexMaxPool2d, pooled_length


def supports(pool: nn.MaxPool2d) -> bool:
    """Whether the kernel computes ``pool``: no dilation, no indices returned, padding at
    most half the window (PyTorch refuses more)."""
    kernel, padding = pair(pool.kernel_size), pair(pool.padding)
    return pair(pool.dilation) == (1, 1) and not pool.return_indices \
        and all(p <= k // 2 for p, k in zip(padding, kernel, strict=True))


def max_pool(x: torch.Tensor, kernel: tuple[int, int], stride: tuple[int, int],
             padding: tuple[int, int], ceil_mode: bool,
             threads: int | None = None) -> torch.Tensor:
    """``F.max_pool2d`` of the fp32 CPU batch ``x`` (dilation 1); returns channels_last
    float32. Raises ValueError for what the kernel cannot read (see
    :func:`~googlenet.deploy.native.check_batch`) or a window PyTorch would refuse."""
    native.check_batch(x, "max_pool input")
    n, c, h, w = x.shape
    if min(*kernel, *stride) < 1 \
            or any(p < 0 or p > k // 2 for p, k in zip(padding, kernel, strict=True)):
        raise ValueError(f"max_pool: kernel {kernel}, stride {stride}, padding {padding}: "
                         "sizes must be positive and padding at most half the kernel")
    oh = pooled_length(h, kernel[0], stride[0], padding[0], ceil_mode)
    ow = pooled_length(w, kernel[1], stride[1], padding[1], ceil_mode)
    if oh < 1 or ow < 1:
        raise ValueError(f"max_pool: a {h}x{w} input has no {kernel} window")
    lib = native.library()
    x = native.as_pixel_major(x)
    y = native.output((n, c, oh, ow))
    lib.max_pool_nhwc(x.data_ptr(), y.data_ptr(), n, h, w, c, x.stride(3), c, *kernel,
                      *stride, *padding, oh, ow, threads or torch.get_num_threads())
    return y


class NativeMaxPool2d(nn.Module):
    """An ``nn.MaxPool2d`` run by :func:`max_pool` for fp32 CPU inference, and as
    itself elsewhere (autograd, CUDA, other dtypes, tracers)."""

    def __init__(self, pool: nn.MaxPool2d) -> None:
        super().__init__()
        if not supports(pool):
            raise ValueError(f"the max pooling kernel cannot compute {pool}")
        self.pool = pool
        self.kernel = pair(pool.kernel_size)
        self.stride = pair(pool.stride or pool.kernel_size)
        self.padding = pair(pool.padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not native.runs_natively(x):
            plain: torch.Tensor = self.pool(x)
            return plain
        return max_pool(x, self.kernel, self.stride, self.padding, self.pool.ceil_mode)


def use_native_pools(model: nn.Module) -> int:
    """Run every max pool of ``model`` that the kernel supports through it, in place,
    including those :func:`~googlenet.deploy.fuse.fuse_for_inference` wrapped to reuse
    their indices; returns how many it replaced."""
    replaced = 0
    for module in list(model.modules()):
        for name, child in module.named_children():
            pool = child.pool if isinstance(child, ReusedIndexMaxPool2d) else child
            if isinstance(pool, nn.MaxPool2d) and supports(pool):
                setattr(module, name, NativeMaxPool2d(pool))
                replaced += 1
    return replaced
