"""Mixup, CutMix and label smoothing: soft targets and the loss that consumes them.

Both mixers pair each image with another from the same batch (a seeded permutation) and
return the mixed batch with soft targets of shape (B, num_classes) that sum to 1, so
the trainer needs one loss, :func:`soft_target_cross_entropy`, for all three.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from googlenet.errors import DataError


def smooth_targets(targets: torch.Tensor, num_classes: int, smoothing: float = 0.0) -> torch.Tensor:
    """One-hot targets with label smoothing: ``1 - s + s/K`` on the label, ``s/K`` elsewhere."""
    if not 0.0 <= smoothing < 1.0:
        raise DataError(f"label smoothing must be in [0, 1), got {smoothing}")
    onehot = F.one_hot(targets.long(), num_classes).float()
    return onehot * (1.0 - smoothing) + smoothing / num_classes


def soft_target_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy against soft targets (B, K); integer targets (B,) also work."""
    if targets.ndim == 1:
        return F.cross_entropy(logits, targets)
    return -(targets * F.log_softmax(logits.float(), dim=-1)).sum(-1).mean()


def _beta(alpha: float, g: torch.Generator) -> float:
    # torch's Beta sampler cannot take a Generator; seed numpy from it instead so the
    # draw stays reproducible from the one generator the caller passes.
    seed = int(torch.randint(0, 2**62, (1,), generator=g))
    return float(np.random.default_rng(seed).beta(alpha, alpha))


def mixup(
    x: torch.Tensor, targets: torch.Tensor, num_classes: int, alpha: float = 0.2,
    smoothing: float = 0.0, generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mixup (Zhang et al. 2018): ``lam * x + (1 - lam) * x[perm]`` with lam ~ Beta(a, a).

    Returns the mixed float batch and soft targets (B, num_classes) summing to 1.
    """
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    lam = _beta(alpha, g)
    perm = torch.randperm(x.shape[0], generator=g).to(x.device)
    y = smooth_targets(targets, num_classes, smoothing)
    return lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm]


def cutmix(
    x: torch.Tensor, targets: torch.Tensor, num_classes: int, alpha: float = 1.0,
    smoothing: float = 0.0, generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """CutMix (Yun et al. 2019): paste a box from a paired image; targets weighted by the
    pasted area actually used (after clipping the box to the image)."""
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    lam = _beta(alpha, g)
    perm = torch.randperm(x.shape[0], generator=g).to(x.device)
    h, w = x.shape[-2:]
    cut = (1 - lam) ** 0.5
    ch, cw = int(h * cut), int(w * cut)
    cy, cx = (int(v) for v in torch.randint(0, 1 << 30, (2,), generator=g))
    cy, cx = cy % h, cx % w
    top, bottom = max(cy - ch // 2, 0), min(cy + ch - ch // 2, h)
    left, right = max(cx - cw // 2, 0), min(cx + cw - cw // 2, w)
    out = x.clone()
    out[..., top:bottom, left:right] = x[perm][..., top:bottom, left:right]
    lam = 1 - (bottom - top) * (right - left) / (h * w)
    y = smooth_targets(targets, num_classes, smoothing)
    return out, lam * y + (1 - lam) * y[perm]
