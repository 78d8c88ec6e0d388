"""Evaluation: multi-crop testing, ensembles, top-k / per-class metrics, confusion."""

from __future__ import annotations

from .crops import (
    CROP_SCHEMES,
    crop_views,
    mirror_crops,
    one_crop,
    paper_crops,
    scales_for,
    ten_crops,
)
from .metrics import EvalReport, confusion_matrix, per_class_accuracy, summarize, topk_accuracy
from .runner import (
    LoadedModel,
    build_eval_dataset,
    crop_probs,
    evaluate_checkpoints,
    load_models,
    predict_dataset,
)

__all__ = [
    "CROP_SCHEMES", "EvalReport", "LoadedModel", "build_eval_dataset", "confusion_matrix",
    "crop_probs", "crop_views", "evaluate_checkpoints", "load_models", "mirror_crops", "one_crop",
    "paper_crops", "per_class_accuracy", "predict_dataset", "scales_for", "summarize",
    "ten_crops", "topk_accuracy",
]
