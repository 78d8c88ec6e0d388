"""The training loss of the Inception family: main loss plus weighted auxiliary losses.

The paper (section 5) adds the auxiliary classifiers' losses "with a discount weight
(the losses of the auxiliary classifiers were weighted by 0.3)". The weighting lives here,
not in the model: ``loss = main + aux_weight * sum(aux_i)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..data import soft_target_cross_entropy
from ..models.inception_net import InceptionOutputs


def classification_loss(
    logits: torch.Tensor, targets: torch.Tensor, label_smoothing: float = 0.0
) -> torch.Tensor:
    """Mean cross-entropy; ``targets`` are class indices (B,) or soft targets (B, K).

    Soft targets (from mixup/cutmix) already carry their smoothing.
    """
    if targets.ndim == 2:
        return soft_target_cross_entropy(logits, targets)
    return F.cross_entropy(logits.float(), targets, label_smoothing=label_smoothing)


@dataclass
class LossParts:
    """The total loss to back-propagate and its parts (for logging)."""

    total: torch.Tensor
    main: torch.Tensor
    aux: dict[str, torch.Tensor]


def inception_loss(
    outputs: InceptionOutputs | torch.Tensor,
    targets: torch.Tensor,
    aux_weight: float = 0.3,
    label_smoothing: float = 0.0,
) -> LossParts:
    """``main + aux_weight * sum(aux)``; a plain logits tensor means no aux heads."""
    if isinstance(outputs, torch.Tensor):
        outputs = InceptionOutputs(outputs)
    main = classification_loss(outputs.logits, targets, label_smoothing)
    aux = {name: classification_loss(logits, targets, label_smoothing)
           for name, logits in outputs.aux.items()}
    total = main
    if aux and aux_weight:
        total = main + aux_weight * torch.stack(list(aux.values())).sum()
    return LossParts(total, main, aux)
