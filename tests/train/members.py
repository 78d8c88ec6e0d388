"""An ensemble member around any callable, for evaluation tests with hand-made read-outs."""

from __future__ import annotations

from collections.abc import Callable

import torch

from googlenet.evaluate import Member
from googlenet.weights import WeightsMeta
from googlenet.weights.loaded import LoadedModel


def member(run: Callable[[torch.Tensor], torch.Tensor], meta: WeightsMeta,
           source: str = "custom") -> Member:
    """``run`` (normalised images -> logits) as a member fed as ``meta`` says; the loaded
    network is a placeholder, since ``run`` is what the evaluation calls."""
    pre = meta.preprocessing
    network = run if isinstance(run, torch.nn.Module) else torch.nn.Identity()
    loaded = LoadedModel(network, pre, meta.classes, pre.channels, meta.model, source, meta)
    return Member(loaded, run)
