"""Classify image files with any googlenet model: top-k labels with probabilities.

The model is a :class:`~googlenet.weights.loaded.LoadedModel`: a weights file, a release
name, or a registry name (fresh weights). A weights file's metadata says everything: the
model to build, the class names (ImageNet's 1000, shipped with the package, when the file
has none) and the preprocessing (resize, center crop, channel order, pixel scale,
mean/std), so imported Caffe, Keras and torchvision weights and fine-tuned models all run
the same way.

Inputs are files and folders (every image under a folder, recursively, in sorted order).
A file that cannot be read is skipped and reported in :attr:`Predictions.skipped`; it
never stops the rest.

>>> from googlenet.predict import Predictor
>>> result = Predictor.from_file("g.safetensors").predict(["cat.jpg"], topk=3)  # doctest: +SKIP
>>> result.top  # doctest: +SKIP
[[('tabby', 0.61), ('tiger cat', 0.22), ('Egyptian cat', 0.09)]]
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from googlenet.atomic import atomic_path, writable_file
from googlenet.data.folder import (
    BAD_IMAGE_ERRORS,
    IMAGE_EXTENSIONS,
    image_files,
    load_image,
    pil_to_tensor,
)
from googlenet.data.transforms import center_crop, resize
from googlenet.deploy import PATHS, needs_calibration, optimize_for_inference
from googlenet.deploy.calibration import CALIBRATION_IMAGES, in_batches, spread
from googlenet.deploy.fuse import check_float32
from googlenet.errors import DataError, UnreadableImageError
from googlenet.progress import ProgressBar
from googlenet.weights import Preprocessing, WeightsMeta
from googlenet.weights.loaded import LoadedModel, resolve_model

PathLike = str | os.PathLike[str]


def collect_images(inputs: Sequence[PathLike]) -> list[Path]:
    """The image files ``inputs`` name: a file as given (whatever its extension: the
    user named it), a folder as every image file under it, recursively and sorted
    (extensions of :data:`googlenet.data.folder.IMAGE_EXTENSIONS`).

    A missing path or a folder without images raises :class:`DataError` naming it, before
    any work is done.
    """
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = image_files(path)
            if not found:
                raise DataError(f"{path}: no image files in this folder (looked for "
                                f"{', '.join(IMAGE_EXTENSIONS)}, in sub-folders too)")
            files += found
        elif path.exists():
            files.append(path)
        else:
            raise DataError(f"{path}: no such file or folder")
    if not files:
        raise DataError("no images given")
    return files


def read_image(path: PathLike, pre: Preprocessing, channels: int = 3) -> torch.Tensor:
    """One image file as a uint8 (C, size, size) tensor: shorter side resized to
    ``pre.resize_size``, then the central ``pre.input_size`` crop.

    A missing or unreadable file raises :class:`UnreadableImageError` naming it.
    """
    try:
        im = load_image(path, channels)
    except FileNotFoundError:
        raise UnreadableImageError(path, "no such image file") from None
    except BAD_IMAGE_ERRORS as err:
        detail = str(err).splitlines()[0] if str(err) else "unreadable"
        raise UnreadableImageError(
            path, f"cannot read image ({type(err).__name__}: {detail})") from None
    x = pil_to_tensor(im)[None]
    return center_crop(resize(x, pre.resize_size), pre.input_size)[0]


def read_images(paths: Sequence[PathLike], pre: Preprocessing, channels: int = 3,
                ) -> tuple[list[Path], list[torch.Tensor], list[tuple[Path, str]]]:
    """:func:`read_image` over ``paths``: the files read, their tensors, and the
    (path, reason) of each file skipped because it could not be read."""
    read: list[Path] = []
    tensors: list[torch.Tensor] = []
    skipped: list[tuple[Path, str]] = []
    for path in paths:
        try:
            tensors.append(read_image(path, pre, channels))
            read.append(Path(path))
        except UnreadableImageError as err:
            skipped.append((Path(path), err.reason))
    return read, tensors, skipped


@dataclass
class Predictions:
    """What :meth:`Predictor.predict` returns.

    ``images[i]``'s top-k (label, probability) pairs, most likely first, are ``top[i]``;
    ``skipped`` holds the (path, reason) of each file that could not be read.
    """

    images: list[Path] = field(default_factory=list)
    top: list[list[tuple[str, float]]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)


class Predictor:
    """A loaded model (network, class names, preprocessing) ready to classify images.

    ``calibration``: image files or folders that paths needing calibration (int8, see
    :func:`googlenet.deploy.needs_calibration`) calibrate on; without them, the first
    :meth:`predict` call's own images are used. Either way they are preprocessed exactly
    as the inputs, and at most :data:`CALIBRATION_IMAGES` of them, evenly spread, are read.
    """

    def __init__(self, loaded: LoadedModel, inference_path: str = "eager",
                 calibration: Sequence[PathLike] | None = None) -> None:
        loaded.require_classifier()
        check_float32(loaded.network)
        self.loaded = loaded
        # Resolved on the first batch: "auto" becomes the path with the shortest time
        # per batch at that batch size (deploy.optimize.auto_path).
        self.inference_path = inference_path
        self._runner: Callable[[torch.Tensor], torch.Tensor] | None = (
            self.model if inference_path == "eager" else None)
        self._batch = 0  # the batch size a compiled runner was specialised to
        self.calibration = list(calibration) if calibration is not None else None
        self.calibration_skipped: list[tuple[Path, str]] = []

    @classmethod
    def from_file(cls, source: PathLike, inference_path: str = "eager",
                  calibration: Sequence[PathLike] | None = None) -> Predictor:
        """Load a model: a weights file (imported, trained or fine-tuned), a release
        name, or a registry name (fresh weights), by
        :func:`~googlenet.weights.loaded.resolve_model`."""
        return cls(resolve_model(source), inference_path, calibration)

    @property
    def model(self) -> nn.Module:
        """The network (eval mode)."""
        return self.loaded.network

    @property
    def meta(self) -> WeightsMeta | None:
        """The weights' metadata (None for fresh weights)."""
        return self.loaded.meta

    @property
    def preprocessing(self) -> Preprocessing:
        return self.loaded.preprocessing

    @property
    def classes(self) -> tuple[str, ...]:
        return self.loaded.classes

    @property
    def in_chans(self) -> int:
        return self.loaded.in_chans

    def calibration_batches(self, sources: Sequence[PathLike],
                            batch_size: int = 32) -> list[torch.Tensor]:
        """Up to :data:`CALIBRATION_IMAGES` of the images ``sources`` name, evenly spread,
        as normalised float batches: what the model gets as input. Unreadable files are
        skipped (see :attr:`calibration_skipped`); none readable raises
        :class:`DataError`."""
        picked = spread(collect_images(sources), CALIBRATION_IMAGES)
        _, tensors, self.calibration_skipped = read_images(picked, self.preprocessing,
                                                           self.in_chans)
        if not tensors:
            raise DataError(f"no calibration image could be read "
                            f"({_skips(self.calibration_skipped)})")
        return [self.preprocessing.normalize(b)
                for b in in_batches(torch.stack(tensors), batch_size)]

    def _run(self, x: torch.Tensor, inputs: Sequence[PathLike],
             more_batches: bool = True) -> torch.Tensor:
        """Logits of the normalised batch ``x``; builds the runner on the first call.
        ``more_batches``: whether batches are to follow, so that "auto" may pick a path
        whose build (an ONNX export: seconds) pays back over them; for one batch, the
        export would cost more than it saves."""
        if self._runner is None:
            calibration = None
            if needs_calibration(self.inference_path):
                sources = self.calibration if self.calibration is not None else inputs
                calibration = self.calibration_batches(sources) if sources else [x]
            self._runner, self.inference_path = optimize_for_inference(
                self.model, x, self.inference_path, calibration=calibration,
                allow_export=more_batches)
            self._batch = x.shape[0]
        n = x.shape[0]
        if n < self._batch and PATHS[self.inference_path].compiled:
            # A compiled runner is specialised to one batch size: padding the last, short
            # batch costs a little arithmetic, a recompile costs seconds to minutes.
            x = torch.cat([x, x[-1:].expand(self._batch - n, *x.shape[1:])])
        return self._runner(x)[:n]

    @torch.no_grad()
    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """Class probabilities (N, classes) of a uint8 (N, C, size, size) RGB batch.

        A path that needs calibration and has no ``calibration`` sources calibrates on
        this batch. Calls are taken to come as a stream: "auto" resolves on the first
        one, export costs allowed (:func:`~googlenet.deploy.auto_path`)."""
        return self._run(self.preprocessing.normalize(images), ()).float().softmax(1)

    @torch.no_grad()
    def predict(self, paths: Sequence[PathLike], topk: int = 5,
                batch_size: int = 16) -> Predictions:
        """The ``topk`` (label, probability) pairs of each image under ``paths`` (files
        and folders, see :func:`collect_images`), most likely first.

        Unreadable files are skipped and listed in the result's ``skipped``; a missing
        path or an empty folder raises :class:`DataError` before anything runs. A
        progress bar with an ETA is drawn on stderr when it is a terminal.

        "auto" resolves on the first batch, at its size; a path built by an ONNX export
        only when more than one batch (of the ones to come) is to run.
        """
        files = collect_images(paths)
        k = max(1, min(topk, len(self.classes)))
        result = Predictions()
        with ProgressBar(math.ceil(len(files) / batch_size), "predict") as bar:
            for start in range(0, len(files), batch_size):
                read, tensors, skipped = read_images(files[start:start + batch_size],
                                                     self.preprocessing, self.in_chans)
                result.skipped += skipped
                if tensors:
                    if self._runner is None:  # int8 calibrates and compiles: a minute
                        bar.note(f"preparing the {self.inference_path} path")
                    x = self.preprocessing.normalize(torch.stack(tensors))
                    more = len(files) > batch_size  # this call's batches, from the first
                    probs, idx = self._run(x, files, more).float().softmax(1).topk(k, 1)
                    result.images += read
                    result.top += [[(self.classes[int(i)], float(p))
                                    for p, i in zip(row_p, row_i, strict=True)]
                                   for row_p, row_i in zip(probs, idx, strict=True)]
                bar.update(len(read))
        return result


def _skips(skipped: Sequence[tuple[Path, str]]) -> str:
    """The first skip as ``a.jpg: reason``, with how many files were skipped in all."""
    path, reason = skipped[0]
    count = f"{len(skipped)} files skipped, the first " if len(skipped) > 1 else ""
    return f"{count}{path}: {reason}"


def nothing_read_error(result: Predictions) -> DataError:
    """The one-line error for a run in which no image could be read."""
    return DataError(f"no image could be read ({_skips(result.skipped)})")


def format_predictions(paths: Sequence[PathLike],
                       results: Sequence[Sequence[tuple[str, float]]]) -> str:
    """Plain-text report: the file name, then one ``probability  label`` line per class."""
    lines = []
    for path, top in zip(paths, results, strict=True):
        lines.append(str(Path(path)))
        lines += [f"  {prob:7.2%}  {label}" for label, prob in top]
    return "\n".join(lines)


def csv_header(k: int) -> list[str]:
    """``image,label_1,prob_1,...,label_k,prob_k``."""
    return ["image"] + [f"{col}_{rank}" for rank in range(1, k + 1)
                        for col in ("label", "prob")]


def write_csv(path: PathLike, result: Predictions) -> Path:
    """One row per image read: its path, then label and probability for each rank
    (:func:`csv_header`). Written atomically: an existing file is replaced only by a
    complete one."""
    dest = writable_file(path, "predictions.csv")
    k = max((len(top) for top in result.top), default=0)
    with atomic_path(dest) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(csv_header(k))
        for image, top in zip(result.images, result.top, strict=True):
            writer.writerow([str(image)] + [v for label, prob in top
                                            for v in (label, f"{prob:.6g}")])
    return dest
