"""Evaluate one checkpoint or an ensemble, with 1, 2 (mirrored), 10 or 144 crops per image,
or flip + translate test-time augmentation (``tta``, see tta.py).

Each model sees the views at its own input size and its own mean/std; the softmax is
averaged over views, then over models (the paper averages "over multiple crops and over
all the individual classifiers").
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from ..data import build_dataset, make_loader
from ..data.base import dataset_len
from ..data.registry import dataset_kwargs
from ..deploy import needs_calibration, optimize_for_inference
from ..deploy.calibration import CALIBRATION_BATCH, CALIBRATION_IMAGES, in_batches, spread
from ..errors import WeightsError
from ..preprocessing import Preprocessing
from ..progress import ProgressBar
from ..weights.loaded import LoadedModel, resolve_model
from .crops import check_views, crop_views, load_size, view_count, views_label
from .metrics import EvalReport, summarize
from .tta import TTA

Logits = Callable[[torch.Tensor], torch.Tensor]
"""Normalised float images -> logits: a network, or an inference path's runner."""


@dataclass(frozen=True)
class Member:
    """One model of an evaluated ensemble: the loaded model and what runs it.

    ``run`` is the network itself on the "eager" path, else the runner of the inference
    path named by ``inference_path``.
    """

    loaded: LoadedModel
    run: Logits
    inference_path: str = "eager"


def load_models(models: Sequence[LoadedModel | str | os.PathLike[str]],
                    device: torch.device, inference_path: str = "eager",
                    calibration: Dataset[Any] | None = None) -> list[Member]:
    """Each model (a :class:`LoadedModel`, or any source
    :func:`~googlenet.weights.loaded.resolve_model` takes) with its runner; an ensemble
    must agree on its class names, and each needs a classifier.

    ``inference_path`` is one of :data:`googlenet.deploy.PATHS` or "auto" (the fastest
    path that meets its tolerance on this machine, see :func:`optimize_for_inference`).
    A path that calibrates (int8) does so on images of ``calibration``, prepared as each
    model's inputs.
    """
    members = []
    for source in models:
        loaded = (source.to(device) if isinstance(source, LoadedModel)
                  else resolve_model(source, device=device))
        loaded.require_classifier()
        if inference_path == "eager":
            members.append(Member(loaded, loaded.network))
            continue
        size = loaded.input_size
        example = torch.zeros(2, loaded.in_chans, size, size, device=device)
        batches = (calibration_batches(calibration, loaded.preprocessing, device)
                   if calibration is not None else None)
        runner, used = optimize_for_inference(loaded.network, example, inference_path,
                                              calibration=batches)
        members.append(Member(loaded, runner, used))
    first = members[0].loaded
    for other in (m.loaded for m in members[1:]):
        if other.classes != first.classes:
            raise WeightsError(f"{other.source}: its classes differ from {first.source}'s; "
                               f"an ensemble needs the same classes in the same order")
    return members


def calibration_batches(dataset: Dataset[Any], pre: Preprocessing, device: torch.device,
                        images: int = CALIBRATION_IMAGES, batch: int = CALIBRATION_BATCH,
                        ) -> list[torch.Tensor]:
    """Up to ``images`` images of ``dataset``, evenly spread
    (:func:`~googlenet.deploy.calibration.spread`), as the 1-crop inputs ``pre`` makes,
    in batches: what int8 calibrates on."""
    idx = spread(range(dataset_len(dataset)), images)
    views = crop_views([dataset[i][0] for i in idx], pre.input_size, 1, pre.resize_size)[0]
    return [pre.normalize(b.to(device)) for b in in_batches(views, batch)]


def build_eval_dataset(name: str, split: str, root: str | os.PathLike[str] | None,
                       pres: Sequence[Preprocessing], crops: int = 1) -> Dataset[Any]:
    """The dataset ``name`` prepared for models with these preprocessings and this crop
    scheme.

    Image folders are read at their own aspect ratio with the shorter side at the
    largest size the crops need (256 for 1 or 10 crops of an ImageNet model, 352 for 144),
    so 1-crop is the standard resize-256/center-224 and the 144-crop squares exist.
    """
    first = pres[0]
    in_chans = first.channels
    if name != "folder":
        return build_dataset(name, split, root, **dataset_kwargs(name, first.input_size,
                                                                  in_chans))
    side = max(load_size(p.input_size, crops, p.resize_size) for p in pres)
    return build_dataset(name, split, root, channels=in_chans, shorter_side=side)


@torch.no_grad()
def crop_probs(model: Logits, images: torch.Tensor | Sequence[torch.Tensor],
               pre: Preprocessing, crops: int, chunk: int = 1024,
               tta: TTA | None = None) -> torch.Tensor:
    """Softmax averaged over the views (``crops``, or ``tta``'s) of a uint8 batch (or a
    list of uint8 images of different sizes), fed to ``model`` as ``pre`` says:
    (B, num_classes)."""
    views = crop_views(images, pre.input_size, crops, pre.resize_size, tta)  # (K, B, C, S, S)
    k, b = views.shape[:2]
    flat = views.reshape(k * b, *views.shape[2:])
    out = []
    for lo in range(0, flat.shape[0], chunk):
        x = pre.normalize(flat[lo:lo + chunk])
        out.append(F.softmax(model(x).float(), dim=1))
    return torch.cat(out).view(k, b, -1).mean(0)


@torch.no_grad()
def predict_dataset(models: Sequence[Member], dataset: Dataset[Any], crops: int = 1,
                    batch_size: int = 256, device: torch.device | None = None,
                    limit: int | None = None, tta: TTA | None = None,
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Ensemble-averaged probabilities (N, K) and the targets (N,) over ``dataset``, each
    image seen as ``crops`` crops or, with ``tta``, as its flipped and shifted views.

    A progress bar with an ETA is drawn on stderr when it is a terminal."""
    device = device or torch.device("cpu")
    check_views(crops, tta)
    n = dataset_len(dataset)
    n = min(n, limit) if limit else n
    probs, targets = [], []
    # Many views multiply the memory per image: shrink the batch to keep it bounded.
    bs = max(1, batch_size // max(1, view_count(crops, tta) // 10))
    loader = make_loader(dataset, bs, indices=torch.arange(n), ragged=True)
    with ProgressBar(math.ceil(n / bs), f"eval {views_label(crops, tta)}") as bar:
        for images, y in loader:
            images = (images.to(device) if isinstance(images, torch.Tensor)
                      else [im.to(device) for im in images])
            p = torch.stack([crop_probs(m.run, images, m.loaded.preprocessing, crops, tta=tta)
                             for m in models]).mean(0)
            probs.append(p.cpu())
            targets.append(y)
            bar.update(len(y))
    return torch.cat(probs), torch.cat(targets)


def evaluate_checkpoints(paths: Sequence[LoadedModel | str | os.PathLike[str]],
                         dataset: Dataset[Any],
                         crops: int = 1, batch_size: int = 256,
                         device: torch.device | None = None, inference_path: str = "eager",
                         limit: int | None = None, tta: TTA | None = None) -> EvalReport:
    """Top-1/top-5, per-class accuracy and the confusion matrix of a checkpoint or an
    ensemble of checkpoints (loaded models, or sources of
    :func:`~googlenet.weights.loaded.resolve_model`) on ``dataset``, with ``crops`` crops
    or ``tta`` views per image."""
    return evaluate_predictions(paths, dataset, crops, batch_size, device, inference_path,
                                limit, tta)[0]


def evaluate_predictions(paths: Sequence[LoadedModel | str | os.PathLike[str]],
                         dataset: Dataset[Any],
                         crops: int = 1, batch_size: int = 256,
                         device: torch.device | None = None, inference_path: str = "eager",
                         limit: int | None = None, tta: TTA | None = None,
                         ) -> tuple[EvalReport, torch.Tensor, torch.Tensor]:
    """:func:`evaluate_checkpoints`, and the probabilities (N, K) and targets (N,) of the
    first N images of ``dataset`` it measured them on (what a report shows per image)."""
    device = device or torch.device("cpu")
    check_views(crops, tta)  # before any file is read
    if needs_calibration(inference_path):
        n = min(CALIBRATION_IMAGES, dataset_len(dataset))
        print(f"{inference_path}: calibrating on {n} of the evaluated images",
              file=sys.stderr)
    models = load_models(paths, device, inference_path, calibration=dataset)
    first = models[0].loaded
    classes = list(first.classes)
    n_data = len(getattr(dataset, "classes", classes))
    if n_data != len(classes):
        raise WeightsError(f"{first.source}: the model has {len(classes)} classes, the "
                           f"dataset {n_data}")
    probs, targets = predict_dataset(models, dataset, crops, batch_size, device, limit, tta)
    report = summarize(probs, targets, classes, crops,
                       tuple(m.loaded.source for m in models))
    report.inference_path = models[0].inference_path
    report.tta = tta.as_dict() if tta is not None else None
    return report, probs, targets
