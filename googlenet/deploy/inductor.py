"""Inductor compilation of a frozen inference module, shared by the compiled paths
(:mod:`googlenet.deploy.optimize`) and the compiled int8 graph
(:mod:`googlenet.deploy.quantize`)."""

from __future__ import annotations

import torch
from torch import nn


def compile_frozen(module: nn.Module) -> nn.Module:
    """``torch.compile`` with Inductor freezing: weights become constants, so Inductor
    pre-packs them and folds conv+bias+ReLU chains (and int8 quantize/dequantize pairs).

    Freezing is switched on globally: passed as ``options={"freezing": True}`` it does
    not reach the pass that pre-packs int8 convolutions in torch 2.13 (the compile then
    fails on ``onednn.qconv_prepack``). It only affects graphs run without autograd.
    """
    torch._inductor.config.freezing = True
    # Every compiled InceptionNet shares one `forward` code object, so Dynamo's per-code
    # cache (8 entries) fills after a few paths x batch sizes and falls back to eager.
    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 64)
    # torch types compile()'s result as a callable; for a module it is an OptimizedModule.
    compiled: nn.Module = torch.compile(module, dynamic=False)  # type: ignore[assignment]  # see above
    return compiled
