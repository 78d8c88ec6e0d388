"""Evaluation: multi-crop testing, flip + translate TTA, ensembles, top-k / per-class
metrics, confusion."""

from __future__ import annotations

from .crops import (
    CROP_SCHEMES,
    check_views,
    crop_views,
    mirror_crops,
    one_crop,
    paper_crops,
    scales_for,
    ten_crops,
)
from .metrics import EvalReport, confusion_matrix, per_class_accuracy, summarize, topk_accuracy
from .runner import (
    Member,
    build_eval_dataset,
    crop_probs,
    evaluate_checkpoints,
    load_models,
    predict_dataset,
)
from .tta import TTA, TTA_FILLS, shifted_center_crop, tta_views

__all__ = [
    "CROP_SCHEMES", "TTA", "TTA_FILLS", "EvalReport", "Member", "build_eval_dataset",
    "check_views", "confusion_matrix", "crop_probs", "crop_views", "evaluate_checkpoints",
    "load_models", "mirror_crops", "one_crop", "paper_crops", "per_class_accuracy",
    "predict_dataset", "scales_for", "shifted_center_crop", "summarize", "ten_crops",
    "topk_accuracy", "tta_views",
]
