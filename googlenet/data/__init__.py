"""Datasets, loaders and batch augmentation for GoogLeNet (no torchvision needed).

Every dataset yields ``(uint8 CHW tensor, int label)`` and has ``.classes`` and
``.num_classes``; in-memory ones also expose ``.images`` (N, C, H, W) uint8 and
``.targets`` int64 for :class:`TensorBatchLoader`. Augmentation runs on whole uint8
batches and normalises to float at the end.
"""

from __future__ import annotations

from googlenet.data.augment import BatchAugment, sample_crop_boxes
from googlenet.data.base import TensorImageDataset
from googlenet.data.cifar import CIFARDataset, SafeUnpickler, read_cifar_batch, safe_load_pickle
from googlenet.data.download import RESOURCES, FileSpec, download_file, download_idx_dataset
from googlenet.data.folder import IMAGE_EXTENSIONS, ImageFolderDataset, load_image
from googlenet.data.idx import IDXDataset, find_idx_dataset, read_idx, search_dirs
from googlenet.data.loaders import TensorBatchLoader, collate_uint8, make_loader, shard_indices
from googlenet.data.mix import cutmix, mixup, smooth_targets, soft_target_cross_entropy
from googlenet.data.registry import (
    build_dataset,
    default_dataset,
    default_dataset_name,
    list_datasets,
)
from googlenet.data.synthetic import SyntheticDataset, synthetic_classes, synthetic_images
from googlenet.data.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    Normalize,
    center_crop,
    eval_transform,
    five_crop,
    hflip,
    resize,
    ten_crop,
    to_channels,
    to_float,
    vflip,
)

__all__ = [
    "IMAGENET_MEAN", "IMAGENET_STD", "IMAGE_EXTENSIONS", "RESOURCES",
    "BatchAugment", "CIFARDataset", "FileSpec", "IDXDataset", "ImageFolderDataset",
    "Normalize", "SafeUnpickler", "SyntheticDataset", "TensorBatchLoader",
    "TensorImageDataset",
    "build_dataset", "center_crop", "collate_uint8", "cutmix",
    "default_dataset", "default_dataset_name", "download_file", "download_idx_dataset",
    "eval_transform", "find_idx_dataset", "five_crop", "hflip", "list_datasets",
    "load_image", "make_loader", "mixup", "read_cifar_batch", "read_idx", "resize",
    "safe_load_pickle", "sample_crop_boxes", "search_dirs", "shard_indices",
    "smooth_targets", "soft_target_cross_entropy", "synthetic_classes", "synthetic_images",
    "ten_crop", "to_channels", "to_float", "vflip",
]
