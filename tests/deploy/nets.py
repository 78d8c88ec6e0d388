"""Untrained models made to behave like trained ones for exactness checks: BN with
statistics worth folding, and logits of a trained model's scale."""

from __future__ import annotations

import torch
from torch import nn


def randomise_bn(model: nn.Module) -> None:
    """Fresh BN is the identity in eval mode: give it statistics worth folding, with a
    gain near 1 so that 60 layers of it do not blow the logits up to 1e3."""
    gen = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            gain = 0.9 + 0.2 * torch.rand(n, generator=gen)
            m.weight.data.copy_(gain * (m.running_var + m.eps).sqrt())
            m.bias.data.copy_(torch.rand(n, generator=gen) - 0.5)


def trained_scale_logits(model: nn.Module, x: torch.Tensor) -> None:
    """Kaiming-initialised GoogLeNets give logits near 100 before training, where fp32
    rounding alone reaches 1e-4; trained ones give ~10: scale the classifier to that (a
    model without one, FaceNet's, returns its BN'd embedding, already near 1)."""
    if not isinstance(model.fc, nn.Linear):
        return
    with torch.no_grad():
        scale = 10.0 / model(x).abs().max().item()
        model.fc.weight.mul_(scale)
        model.fc.bias.mul_(scale)
