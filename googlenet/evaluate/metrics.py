"""Classification metrics from class probabilities: top-k, per-class, confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .crops import views_label
from .tta import TTA


def reports_top5(num_classes: int) -> bool:
    """Whether top-5 accuracy means anything: with 5 classes or fewer every target is in
    the top 5, so it would read 1.0 whatever the model does; it is reported as None."""
    return num_classes > 5


def top5_text(value: float | None, template: str = " top-5 {:.4f}") -> str:
    """``template`` filled with a top-5 accuracy, or "" where none is reported."""
    return "" if value is None else template.format(value)


def topk_accuracy(probs: torch.Tensor, targets: torch.Tensor, k: int) -> float:
    """Fraction of rows whose target is among the ``k`` largest scores."""
    k = min(k, probs.shape[1])
    top = probs.topk(k, dim=1).indices
    return float((top == targets[:, None]).any(1).float().mean())


def confusion_matrix(preds: torch.Tensor, targets: torch.Tensor, num_classes: int
                     ) -> torch.Tensor:
    """``cm[t, p]`` = how many images of class t were predicted as p (int64)."""
    flat = targets.long() * num_classes + preds.long()
    return torch.bincount(flat, minlength=num_classes**2).view(num_classes, num_classes)


def per_class_accuracy(cm: torch.Tensor) -> list[float | None]:
    """Recall per class (None for a class with no images)."""
    totals = cm.sum(1)
    return [float(cm[i, i] / totals[i]) if totals[i] else None for i in range(cm.shape[0])]


@dataclass
class EvalReport:
    """The result of an evaluation."""

    top1: float
    top5: float | None  # None with 5 classes or fewer (see reports_top5)
    count: int
    classes: list[str]
    per_class: dict[str, float | None]
    confusion: list[list[int]]
    crops: int = 1
    checkpoints: tuple[str, ...] = ()
    inference_path: str = "eager"
    tta: dict[str, Any] | None = None  # TTA.as_dict() when flip + translate TTA was used

    @property
    def views(self) -> str:
        """How each image was seen, for reports: "1 crop(s)", or the TTA's description."""
        tta = TTA(self.tta["shift"], self.tta["fill"]) if self.tta else None
        return views_label(self.crops, tta)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (top5 is None where not reported)."""
        return dict(self.__dict__, checkpoints=list(self.checkpoints))


def summarize(probs: torch.Tensor, targets: torch.Tensor, classes: list[str],
              crops: int = 1, checkpoints: tuple[str, ...] = ()) -> EvalReport:
    """All metrics of averaged class probabilities ``probs`` (N, K) against ``targets``."""
    cm = confusion_matrix(probs.argmax(1), targets, len(classes))
    per = per_class_accuracy(cm)
    top5 = topk_accuracy(probs, targets, 5) if reports_top5(probs.shape[1]) else None
    return EvalReport(topk_accuracy(probs, targets, 1), top5,
                      int(targets.numel()), list(classes), dict(zip(classes, per, strict=True)),
                      cm.tolist(), crops, checkpoints)
