"""Integrated gradients: which input pixels the class score depends on.

Sundararajan, Taly & Yan, "Axiomatic Attribution for Deep Networks" (ICML 2017): average
the gradient of the class score along the straight path from a baseline image to the
input, and multiply by the difference of the two. Unlike Grad-CAM it works at the
input's resolution and needs no layer; its *completeness* (the attributions add up to
``score(input) - score(baseline)``) lets the page say how exact the average was.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .gradcam import Heatmap, evaluating
from .render import normalise

# Pixel attributions are heavy-tailed: a few pixels would take the whole colour range.
# Scaling to this quantile of the magnitudes keeps the rest visible.
DISPLAY_QUANTILE = 0.99


@dataclass
class Attribution:
    """Integrated gradients of one image: the per-pixel map and the completeness check."""

    heatmap: Heatmap
    values: torch.Tensor  # (C, H, W) attributions
    score_gap: float  # score(input) - score(baseline)

    @property
    def total(self) -> float:
        """The attributions' sum: equal to ``score_gap`` in the limit of many steps."""
        return float(self.values.sum())

    @property
    def error(self) -> float:
        """How far ``total`` is from ``score_gap``, relative to the gap."""
        return abs(self.total - self.score_gap) / max(abs(self.score_gap), 1e-12)


def integrated_gradients(model: nn.Module, x: torch.Tensor, baseline: torch.Tensor,
                         target: int, steps: int = 32, batch: int = 8) -> Attribution:
    """Integrated gradients of class ``target`` for one normalised image ``x`` (1, C, H, W)
    from ``baseline`` (same shape), with ``steps`` midpoint samples along the path."""
    x, baseline = x.detach(), baseline.detach()
    alphas = (torch.arange(steps, dtype=x.dtype, device=x.device) + 0.5) / steps
    total = torch.zeros_like(x[0])
    with evaluating(model), torch.enable_grad():
        for chunk in torch.split(alphas, batch):
            path = (baseline + chunk.view(-1, 1, 1, 1) * (x - baseline)).requires_grad_(True)
            score = model(path)[:, target].sum()
            (grads,) = torch.autograd.grad(score, path)
            total += grads.sum(0)
        with torch.no_grad():
            ends = model(torch.cat([x, baseline]))[:, target]
    values = (x[0] - baseline[0]) * total / steps
    magnitude = values.abs().sum(0)
    top = float(torch.quantile(magnitude.flatten(), DISPLAY_QUANTILE))
    heat = normalise(magnitude, top if top > 0 else None)
    return Attribution(Heatmap("integrated gradients", "input", target, heat, magnitude),
                       values, float(ends[0] - ends[1]))
