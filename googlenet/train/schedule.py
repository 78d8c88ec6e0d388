"""Optimizers and learning-rate schedules.

A schedule is a pure function of the global step, applied by setting each parameter
group's ``lr`` before the step. Nothing but the step count needs saving, so a resumed run
continues on exactly the same curve.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ..errors import ConfigError
from .config import TrainConfig

_BN = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


def param_groups(model: nn.Module, weight_decay: float, bn_bias_lr: float = 1.0,
                 ) -> list[dict[str, Any]]:
    """Weight decay on conv/linear weights only: biases and BN parameters (1-d) are exempt,
    as decaying a BN scale only fights the normalisation. BN biases form a third group
    whose ``lr_scale`` (``bn_bias_lr``) :func:`set_lr` applies: airbench trains them 64x
    faster than the weights.

    Frozen parameters are included: they get no gradient, and every optimizer here skips
    a parameter without one (no update, no decay, no state), so a fine-tuning run's second
    phase only has to set ``requires_grad`` on the blocks it opens."""
    bn_bias = {id(m.bias) for m in model.modules()
               if isinstance(m, _BN) and m.bias is not None}
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    fast: list[nn.Parameter] = []
    for p in model.parameters():
        (decay if p.ndim > 1 else fast if id(p) in bn_bias else no_decay).append(p)
    groups: list[dict[str, Any]] = [{"params": decay, "weight_decay": weight_decay},
                                    {"params": no_decay, "weight_decay": 0.0}]
    if bn_bias_lr == 1.0:  # two groups, as before the option: older runs still resume
        groups[1]["params"] += fast
    else:
        groups.append({"params": fast, "weight_decay": 0.0, "lr_scale": bn_bias_lr})
    return groups


def set_bn_momentum(model: nn.Module, momentum: float) -> None:
    """Every BN layer's running-statistics momentum (PyTorch's convention)."""
    for m in model.modules():
        if isinstance(m, _BN):
            m.momentum = momentum


def build_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """SGD (momentum, the paper's choice), RMSprop or AdamW over ``model``'s parameters."""
    groups = param_groups(model, cfg.weight_decay, cfg.bn_bias_lr)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov)
    if cfg.optimizer == "rmsprop":
        # TF-style epsilon: Inception v2/v3 trained with RMSprop decay 0.9, eps 1.0.
        return torch.optim.RMSprop(groups, lr=cfg.lr, alpha=0.9, eps=1e-3,
                                   momentum=cfg.momentum)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr)
    raise ConfigError(f"unknown optimizer {cfg.optimizer!r}")


def lr_at(step: int, steps_per_epoch: int, cfg: TrainConfig) -> float:
    """The learning rate for global ``step`` (0-based) of a run of ``cfg.epochs`` epochs;
    a fine-tuning run's second phase (``unfreeze_epochs``) runs at ``cfg.phase2_lr``."""
    total = max(1, cfg.epochs * steps_per_epoch)
    if cfg.unfreeze_epochs and step >= total:
        return cfg.phase2_lr
    epoch = step / steps_per_epoch
    if cfg.schedule == "onecycle":
        return _one_cycle(step, total, cfg.lr)
    warm = cfg.warmup_epochs
    if warm > 0 and epoch < warm:
        return cfg.lr * (epoch + 1 / steps_per_epoch) / warm
    if cfg.schedule == "paper":
        # "decreasing the learning rate by 4% every 8 epochs" (section 6).
        return cfg.lr * cfg.step_gamma ** math.floor(epoch / cfg.step_epochs)
    if cfg.schedule == "cosine":
        start = warm * steps_per_epoch
        t = min(1.0, (step - start) / max(1, total - start))
        floor = cfg.lr * cfg.min_lr_ratio
        return floor + (cfg.lr - floor) * 0.5 * (1 + math.cos(math.pi * t))
    return cfg.lr


def _one_cycle(step: int, total: int, peak: float, pct: float = 0.3) -> float:
    """Smith's one-cycle: cosine up from peak/25 over ``pct`` of the run, then cosine down
    to peak/1e4 (the defaults of ``torch.optim.lr_scheduler.OneCycleLR``)."""
    up = max(1, int(pct * total))
    start, end = peak / 25, peak / 1e4
    if step < up:
        t = step / up
        return start + (peak - start) * 0.5 * (1 - math.cos(math.pi * t))
    t = min(1.0, (step - up) / max(1, total - up))
    return end + (peak - end) * 0.5 * (1 + math.cos(math.pi * t))


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate (times the group's ``lr_scale``)."""
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
