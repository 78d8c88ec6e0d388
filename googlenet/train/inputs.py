"""What a run feeds the model: datasets, per-epoch index shards, augmentation, input prep.

Images stay uint8 until the batch is on the device; :class:`BatchAugment` (training) or
:func:`prepare_eval` (evaluation) turns them into normalised float batches there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from ..data import BatchAugment, build_dataset, eval_transform, make_loader, shard_indices
from ..data.transforms import to_float
from ..models import get_model_info
from .config import TrainConfig
from .distributed import DistInfo


@dataclass
class CustomModel:
    """Train a model the caller builds instead of ``cfg.model`` (transfer learning).

    ``build(class_names)`` returns the model; ``input_size``/``mean``/``std`` replace the
    registry's (they come from the pretrained weights); ``augment`` adds
    :class:`BatchAugment` fields the config has no flag for (``shear_range``,
    ``zoom_range``, ``fill_mode``). A model with a ``checkpoint_meta()`` method adds its
    dict to the checkpoint metadata, so the checkpoint can rebuild it.
    """

    build: Callable[[list[str]], nn.Module]
    input_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    augment: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunData:
    """The datasets of a run and how to turn their batches into model inputs."""

    train: Dataset
    eval: Dataset
    classes: list[str]
    in_chans: int
    input_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    augment: BatchAugment

    def num_train(self, cfg: TrainConfig) -> int:
        n = len(self.train)  # type: ignore[arg-type]
        return min(n, cfg.train_limit) if cfg.train_limit else n

    def num_eval(self, cfg: TrainConfig) -> int:
        n = len(self.eval)  # type: ignore[arg-type]
        return min(n, cfg.eval_limit) if cfg.eval_limit else n


def _channels(ds: Dataset) -> int:
    return int(ds[0][0].shape[0])  # type: ignore[index]


def _norm(values: tuple[float, ...], channels: int) -> tuple[float, ...]:
    # A model's 3-channel statistics do not apply to 1-channel data (and vice versa).
    return values if len(values) in (1, channels) else (0.5,)


def dataset_kwargs(name: str, input_size: int, in_chans: int) -> dict[str, Any]:
    """What :func:`build_dataset` needs to fit a model: the synthetic set is drawn at the
    model's size and channel count, folders are resized to it."""
    if name == "synthetic":
        return {"image_size": input_size, "channels": in_chans}
    if name == "folder":
        return {"size": input_size}
    return {}


def build_run_data(cfg: TrainConfig, custom: CustomModel | None = None) -> RunData:
    """Load the datasets ``cfg`` names and derive the augmentation."""
    info = get_model_info(cfg.model)
    size = custom.input_size if custom else info.input_size
    kwargs = dataset_kwargs(cfg.dataset, size, info.in_chans)
    train = build_dataset(cfg.dataset, "train", cfg.data, **kwargs)
    evals = build_dataset(cfg.dataset, cfg.eval_split, cfg.data, **kwargs)
    chans = _channels(train)
    mean, std = (custom.mean, custom.std) if custom else (info.mean, info.std)
    mean, std = _norm(mean, chans), _norm(std, chans)
    augment = BatchAugment(
        size=size if int(train[0][0].shape[-1]) != size else None,  # type: ignore[index]
        random_resized_crop=cfg.random_resized_crop, scale=(cfg.crop_scale_min, 1.0),
        hflip=cfg.hflip, width_shift_range=cfg.shift, height_shift_range=cfg.shift,
        rotation_range=cfg.rotation, fill_mode="constant", mean=mean, std=std,
    )
    if custom and custom.augment:
        augment = replace(augment, **custom.augment)
    classes = list(getattr(train, "classes", [str(i) for i in range(10)]))
    return RunData(train, evals, classes, chans, size, mean, std, augment)


def train_loader(data: RunData, cfg: TrainConfig, epoch: int, dist: DistInfo,
                 batch_size: int) -> object:
    """This rank's batches for ``epoch``: a shard of one seeded permutation per epoch."""
    idx = shard_indices(data.num_train(cfg), dist.rank, dist.world_size, shuffle=True,
                        seed=cfg.seed, epoch=epoch, drop_last=True)
    return make_loader(data.train, batch_size, shuffle=False, drop_last=True,
                       num_workers=cfg.workers, indices=idx)


def steps_per_epoch(data: RunData, cfg: TrainConfig, dist: DistInfo) -> int:
    """Optimizer steps per epoch (the same on every rank)."""
    per_rank = data.num_train(cfg) // dist.world_size
    return max(1, per_rank // (cfg.batch_size // dist.world_size))


def prepare_eval(images: torch.Tensor, size: int, mean: tuple[float, ...],
                 std: tuple[float, ...]) -> torch.Tensor:
    """uint8 batch -> normalised float model input; other sizes are resized and
    center-cropped (the standard single-crop evaluation)."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return to_float(images, mean, std)
    return eval_transform(images, size, resize_size=size, mean=mean, std=std)


def batch_seed(seed: int, epoch: int, batch: int, rank: int) -> int:
    """One seed per (run, epoch, batch, rank): the augmentation and dropout of every step
    are fixed by its position alone, so a run resumed mid-epoch replays them exactly."""
    return (((seed * 1_000_003 + epoch) * 1_000_003 + batch) * 1_009 + rank) % (2**62)
