"""Training layers run by this package's C kernels (``googlenet/deploy/kernels``): batch
norm + ReLU fused, forward and backward, for fp32 or bf16 CPU batches
(``--native-kernels``).

Both ops are bound by memory in a training step, and the backward of each reads what
the other wrote (BENCHMARKS.md, the training step by layer type). Fused, the normalised
value before the ReLU is never stored: the backward recomputes the ReLU's mask from the
saved input. The arithmetic is PyTorch's (batch statistics, the biased variance to
normalise and the unbiased one for the running variance, the same momentum), in fp32
with double sums, so the results match PyTorch's ops to rounding
(tests/train/test_train_kernels.py).

Max pooling stays PyTorch's: a kernel without int64 indices, whose backward found each
window's maximum again, was slower over a step than PyTorch's pooling (BENCHMARKS.md).

:func:`use_training_kernels` switches the layers of a model in place; they keep their
parameters, buffers and state-dict keys, and run the PyTorch ops they were made from
wherever the kernels cannot (evaluation mode, CUDA, other dtypes, ``torch.compile``, a
CPU without the kernels).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.profiler import record_function

from ..deploy import native
from ..layers import ConvNormAct

_DTYPES = (torch.float32, torch.bfloat16)


def _kernel_can_take(x: torch.Tensor) -> bool:
    """Whether the kernel runs on ``x``: a 4-d fp32 or bf16 batch it may be handed."""
    return x.dim() == 4 and x.dtype in _DTYPES and native.may_call(x)


def _rows(x: torch.Tensor) -> torch.Tensor:
    """``x`` as the kernels read it: NHWC, pixels a fixed stride apart (a copy if not)."""
    return native.as_pixel_major(x)


def _check(status: int, what: str) -> None:
    if status != 0:
        raise MemoryError(f"{what}: the kernel could not allocate its buffers")


class _BatchNormReLU(torch.autograd.Function):
    """relu(batch_norm(x)) in training mode, by ``kernels/bn_relu.c``: one call each way,
    which also computes the per-channel coefficients and moves the running statistics."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                bn: nn.BatchNorm2d) -> torch.Tensor:
        x = _rows(x)
        n, c, h, w = x.shape
        running_mean, running_var = bn.running_mean, bn.running_var
        assert running_mean is not None and running_var is not None  # checked by the caller
        y = torch.empty_like(x, memory_format=torch.channels_last)
        saved = torch.empty(4, c)  # scale, shift, mean, 1/sqrt(var + eps)
        _check(native.library().bn_relu_forward(
            x.data_ptr(), y.data_ptr(), n * h * w, c, x.stride(3), y.stride(3), _is_bf16(x),
            weight.data_ptr(), bias.data_ptr(), bn.eps, _running_factor(bn),
            running_mean.data_ptr(), running_var.data_ptr(), saved.data_ptr(),
            torch.get_num_threads()), "batch norm")
        ctx.save_for_backward(x, saved)
        return y

    @staticmethod
    def backward(ctx: Any, dy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor,
                                                     torch.Tensor, None]:
        x, saved = ctx.saved_tensors
        dy = _rows(dy.to(x.dtype))
        n, c, h, w = x.shape
        dx = torch.empty_like(x, memory_format=torch.channels_last)
        dweight, dbias = torch.empty(c), torch.empty(c)
        _check(native.library().bn_relu_backward(
            x.data_ptr(), dy.data_ptr(), dx.data_ptr(), n * h * w, c, x.stride(3),
            dy.stride(3), dx.stride(3), _is_bf16(x), saved.data_ptr(), dweight.data_ptr(),
            dbias.data_ptr(), torch.get_num_threads()), "batch norm gradient")
        return dx, dweight, dbias, None


def _is_bf16(x: torch.Tensor) -> int:
    """The kernels' storage flag: 1 for bf16, 0 for fp32."""
    return int(x.dtype == torch.bfloat16)


def _running_factor(bn: nn.BatchNorm2d) -> float:
    """How far ``bn``'s running statistics move in this training forward, as
    ``nn.BatchNorm2d`` decides: the momentum, or 1/batches seen when the momentum is None
    (a cumulative average); counts the batch."""
    assert bn.num_batches_tracked is not None  # TrainingConvNormAct checked tracking
    bn.num_batches_tracked.add_(1)
    return 1.0 / float(bn.num_batches_tracked) if bn.momentum is None else bn.momentum


class TrainingConvNormAct(ConvNormAct):
    """A :class:`~googlenet.layers.ConvNormAct` whose BN + ReLU run fused by the kernels
    in training mode. Its children and their types are unchanged (``bn`` is still an
    ``nn.BatchNorm2d``, ``act`` an ``nn.ReLU``), so BN folding, export and the
    inference paths treat it as the layer it was."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bn = self.bn
        if not (self.training and type(bn) is nn.BatchNorm2d and isinstance(self.act, nn.ReLU)
                and bn.affine and bn.track_running_stats and bn.weight.dtype == torch.float32):
            return super().forward(x)
        y = self.conv(x)
        if _kernel_can_take(y) and y.shape[0] * y.shape[2] * y.shape[3] > 1:
            # Named for the step's profile (train/step_profile.py): a Function's forward
            # is no op of the profiler's own.
            with record_function("googlenet::batch_norm_relu"):
                fused: torch.Tensor = _BatchNormReLU.apply(  # type: ignore[no-untyped-call]  # torch's stub
                    y, bn.weight, bn.bias, bn)
            return fused
        out: torch.Tensor = self.act(bn(y))  # PyTorch's own error for one value per channel
        return out


def use_training_kernels(model: nn.Module) -> int:
    """Run ``model``'s BN + ReLU pairs (:class:`~googlenet.layers.ConvNormAct`) by the
    kernels, in place; returns how many layers now do. Parameters, buffers and state-dict
    keys stay as they were, so an optimizer or EMA copy made before or after trains and
    reads the same weights."""
    swapped = 0
    for module in list(model.modules()):
        if type(module) is ConvNormAct and module.bn is not None \
                and isinstance(module.act, nn.ReLU):
            # The layer keeps its identity (hooks, parents' references); only its
            # forward changes.
            module.__class__ = TrainingConvNormAct
            swapped += 1
    return swapped
