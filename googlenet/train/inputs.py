"""What a run feeds the model: datasets, per-epoch index shards, augmentation, input prep.

Images stay uint8 until the batch is on the device; :class:`BatchAugment` (training) or
:func:`prepare_eval` (evaluation) turns them into normalised float batches there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
from torch.utils.data import Dataset

from googlenet.data.base import dataset_len

from ..data import BatchAugment, build_dataset, eval_transform, make_loader, shard_indices
from ..data.loaders import Loader
from ..data.registry import dataset_kwargs, has_split
from ..data.split import split_dataset
from ..data.transforms import to_float
from ..errors import ConfigError
from ..preprocessing import Preprocessing
from .config import TrainConfig
from .distributed import DistInfo


@dataclass
class RunData:
    """The datasets of a run and how to turn their batches into model inputs.

    ``pre`` is the run's preprocessing (RGB pixels in 0..1: what every checkpoint of the
    run records); ``eval_label`` says what the per-epoch evaluation measures, so that
    reports never call training images "validation".
    """

    train: Dataset[Any]
    eval: Dataset[Any]
    classes: list[str]
    in_chans: int
    pre: Preprocessing
    augment: BatchAugment
    eval_label: str = "test split"
    eval_is_train: bool = False

    @property
    def input_size(self) -> int:
        return self.pre.input_size

    @property
    def mean(self) -> tuple[float, ...]:
        return self.pre.mean

    @property
    def std(self) -> tuple[float, ...]:
        return self.pre.std

    def num_train(self, cfg: TrainConfig) -> int:
        n = dataset_len(self.train)
        return min(n, cfg.train_limit) if cfg.train_limit else n

def _channels(ds: Dataset[Any]) -> int:
    return int(ds[0][0].shape[0])


def _norm(values: tuple[float, ...], channels: int) -> tuple[float, ...]:
    # A model's 3-channel statistics do not apply to 1-channel data (and vice versa).
    return values if len(values) == channels else (0.5,) * channels


def _eval_data(cfg: TrainConfig, train: Dataset[Any], kwargs: dict[str, Any]
               ) -> tuple[Dataset[Any], Dataset[Any], str, bool]:
    """``(train, eval, label, eval_is_train)`` for the run's evaluation."""
    if cfg.val_split > 0:
        train, held = split_dataset(train, cfg.val_split, cfg.seed)
        return train, held, (f"validation ({cfg.val_split:.0%} of the training images, "
                             f"held out, seed {cfg.seed})"), False
    if has_split(cfg.dataset, cfg.eval_split, cfg.data):
        return (train, build_dataset(cfg.dataset, cfg.eval_split, cfg.data, **kwargs),
                f"{cfg.eval_split} split", False)
    return train, train, "training images (no held-out split)", True


def build_run_data(cfg: TrainConfig, pre: Preprocessing, in_chans: int) -> RunData:
    """Load the datasets ``cfg`` names for a model that takes ``pre`` and ``in_chans``
    channels, and derive the augmentation."""
    size = pre.input_size
    kwargs = dataset_kwargs(cfg.dataset, size, in_chans)
    train, evals, label, on_train = _eval_data(
        cfg, build_dataset(cfg.dataset, "train", cfg.data, **kwargs), kwargs)
    chans = _channels(train)
    # Training feeds images at the input size itself, so evaluation does too.
    pre = replace(pre, mean=_norm(pre.mean, chans), std=_norm(pre.std, chans),
                  resize_size=size)
    augment = BatchAugment(
        size=size if int(train[0][0].shape[-1]) != size else None,
        random_resized_crop=cfg.random_resized_crop, scale=(cfg.crop_scale_min, 1.0),
        hflip=cfg.hflip, width_shift_range=cfg.shift, height_shift_range=cfg.shift,
        translate=cfg.translate, cutout=cfg.cutout, rotation_range=cfg.rotation,
        shear_range=cfg.shear, zoom_range=cfg.zoom,
        fill_mode=cfg.fill_mode, mean=pre.mean, std=pre.std,
    )
    classes = list(getattr(train, "classes", [str(i) for i in range(10)]))
    if len(classes) < 2:  # every prediction would be right: accuracy 1.0 that means nothing
        raise ConfigError(f"{cfg.data or cfg.dataset}: {len(classes)} class "
                          f"({', '.join(classes)}); a classifier needs at least 2 classes "
                          "(one sub-folder per class)")
    return RunData(train, evals, classes, chans, pre, augment, label, on_train)


def epoch_indices(data: RunData, cfg: TrainConfig, epoch: int, dist: DistInfo) -> torch.Tensor:
    """This rank's training-image indices for ``epoch``, in batch order: a shard of one
    seeded permutation per epoch."""
    return shard_indices(data.num_train(cfg), dist.rank, dist.world_size, shuffle=True,
                         seed=cfg.seed, epoch=epoch, drop_last=True)


def train_loader(data: RunData, cfg: TrainConfig, indices: torch.Tensor,
                 batch_size: int) -> Loader:
    """The batches of ``indices`` (from :func:`epoch_indices`), in order."""
    return make_loader(data.train, batch_size, shuffle=False, drop_last=True,
                       num_workers=cfg.workers, indices=indices)


class AlternatingFlip:
    """airbench's alternating flip: each training image gets one random bit from the
    run's seed; it is mirrored in the epochs where the bit differs from the epoch's
    parity. Every image is seen both ways in every two epochs, where coin tosses leave a
    quarter of them the same way twice (Jordan 2024, 'airbench')."""

    def __init__(self, num_images: int, seed: int) -> None:
        g = torch.Generator().manual_seed(seed * 7_919 + 1)
        self.bits = torch.rand(num_images, generator=g) < 0.5

    def mask(self, indices: torch.Tensor, epoch: int) -> torch.Tensor:
        """Which of the images ``indices`` to mirror in ``epoch`` (0-based)."""
        return self.bits[indices] ^ bool(epoch % 2)


def steps_per_epoch(data: RunData, cfg: TrainConfig, dist: DistInfo) -> int:
    """Optimizer steps per epoch (the same on every rank). Batches are full (the last
    partial one is dropped), so a batch larger than the training set is refused."""
    images = data.num_train(cfg)
    if cfg.batch_size > images:
        raise ConfigError(f"--batch-size {cfg.batch_size} is larger than the {images} "
                          "training images; use a smaller batch")
    return (images // dist.world_size) // (cfg.batch_size // dist.world_size)


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


def whitening_sample(data: RunData, cfg: TrainConfig, count: int = 5_000) -> torch.Tensor:
    """The first ``count`` training images as the model sees them (normalised, at its
    input size): what :func:`googlenet.train.whiten.whiten_stem` measures."""
    n = min(count, data.num_train(cfg))
    images, _ = next(iter(make_loader(data.train, n, indices=torch.arange(n))))
    return prepare_eval(images, data.input_size, data.mean, data.std)
