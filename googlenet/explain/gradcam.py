"""Grad-CAM: where the network looks for a class, read at any named feature.

Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based
Localization" (ICCV 2017): weight each channel of a feature map by the spatial mean of
the class score's gradient with respect to it, sum over channels, keep the positive part.
The feature is any name :meth:`~googlenet.models.features.NamedFeatures.forward_with_features`
reads: a block (``inception_4e``), a branch (``inception_4e.branch_5x5``), a stem layer.
Works for every model with named features, frozen backbones included (the gradient
flows from the input, which is made to require it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..models.features import NamedFeatures
from .render import normalise


@dataclass
class Heatmap:
    """One attribution map of one image.

    ``heat`` is (H, W) in [0, 1] at the input's size; ``cells`` is the map at the
    feature's own resolution (Grad-CAM) or the input's (pixel methods), unscaled.
    """

    method: str
    layer: str
    target: int
    heat: torch.Tensor
    cells: torch.Tensor

    def peak(self) -> tuple[int, int]:
        """(row, column) of the hottest input pixel."""
        flat = int(self.heat.argmax())
        return divmod(flat, self.heat.shape[1])


@contextlib.contextmanager
def evaluating(model: nn.Module) -> Iterator[None]:
    """Eval mode (no dropout, BN running statistics) for the block, restored after."""
    was = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was)


def _targets(logits: torch.Tensor, target: int | Sequence[int] | None) -> torch.Tensor:
    if target is None:
        return logits.argmax(1)
    if isinstance(target, int):
        return torch.full((logits.shape[0],), target, dtype=torch.long, device=logits.device)
    return torch.as_tensor(list(target), dtype=torch.long, device=logits.device)


def grad_cam(model: NamedFeatures, x: torch.Tensor, layer: str,
             target: int | Sequence[int] | None = None) -> list[Heatmap]:
    """Grad-CAM of each image of the normalised batch ``x`` at feature ``layer``, for
    class ``target`` (one for all, one per image, or None: each image's top class)."""
    assert isinstance(model, nn.Module)
    x = x.detach().clone().requires_grad_(True)
    with evaluating(model), torch.enable_grad():
        logits, feats = model.forward_with_features(x, [layer])
        acts = feats[layer]
        classes = _targets(logits, target)
        score = logits.gather(1, classes[:, None]).sum()
        (grads,) = torch.autograd.grad(score, acts)
    weights = grads.detach().mean((2, 3), keepdim=True)
    cams = F.relu((weights * acts.detach()).sum(1))  # (N, h, w)
    up = F.interpolate(cams[:, None], size=x.shape[-2:], mode="bilinear",
                       align_corners=False)[:, 0]
    return [Heatmap("Grad-CAM", layer, int(c), normalise(u), cam)
            for c, u, cam in zip(classes.tolist(), up, cams, strict=True)]
