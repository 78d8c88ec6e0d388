"""Classify image files with any googlenet weights file: top-k labels with probabilities.

The weights' metadata says everything: the model to build, the class names (ImageNet's
1000, shipped with the package, when the file has none) and the preprocessing (resize,
center crop, channel order, pixel scale, mean/std), so imported Caffe, Keras and
torchvision weights and fine-tuned models all run the same way.

>>> from googlenet.predict import Predictor
>>> Predictor.from_file("googlenet.safetensors").predict(["cat.jpg"], topk=3)  # doctest: +SKIP
[[('tabby', 0.61), ('tiger cat', 0.22), ('Egyptian cat', 0.09)]]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import nn

from googlenet.data.folder import load_image, pil_to_tensor
from googlenet.data.transforms import center_crop, resize
from googlenet.errors import DataError
from googlenet.weights import Preprocessing, WeightsMeta, load_model

# What Pillow raises on a file that is not a readable image.
_BAD_IMAGE = (OSError, ValueError, SyntaxError)


def read_image(path: str | os.PathLike[str], pre: Preprocessing, channels: int = 3,
               ) -> torch.Tensor:
    """One image file as a uint8 (C, size, size) tensor: shorter side resized to
    ``pre.resize_size``, then the central ``pre.input_size`` crop.

    A missing or corrupt file raises :class:`DataError` naming it.
    """
    try:
        im = load_image(path, channels)
    except FileNotFoundError:
        raise DataError(f"{path}: no such image file") from None
    except _BAD_IMAGE as err:
        raise DataError(f"{path}: cannot read image ({type(err).__name__}: "
                        f"{str(err).splitlines()[0] if str(err) else 'unreadable'})") from None
    x = pil_to_tensor(im)[None]
    return center_crop(resize(x, pre.resize_size), pre.input_size)[0]


class Predictor:
    """A model, its class names and its preprocessing, ready to classify images."""

    def __init__(self, model: nn.Module, meta: WeightsMeta,
                 inference_path: str = "eager") -> None:
        self.model = model.eval()
        # Resolved on the first batch: "auto" becomes the fastest path within tolerance.
        self.inference_path = inference_path
        self._runner: Callable[[torch.Tensor], torch.Tensor] | None = (
            self.model if inference_path == "eager" else None)
        self.meta = meta
        self.preprocessing = meta.preprocessing
        num_classes = int(getattr(model, "num_classes", len(meta.classes)))
        self.classes = list(meta.class_names(num_classes))
        self.in_chans = int(getattr(model, "in_chans", 3))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str],
                  inference_path: str = "eager") -> Predictor:
        """Load a weights file (imported, trained or fine-tuned)."""
        model, meta = load_model(path)
        meta.require_classifier(path)
        return cls(model, meta, inference_path)

    @torch.no_grad()
    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """Class probabilities (N, classes) of a uint8 (N, C, size, size) RGB batch."""
        x = self.preprocessing.normalize(images)
        if self._runner is None:
            from googlenet.deploy import optimize_for_inference

            self._runner, self.inference_path = optimize_for_inference(
                self.model, x, self.inference_path)
        return self._runner(x).float().softmax(1)

    def predict(self, paths: Sequence[str | os.PathLike[str]], topk: int = 5,
                batch_size: int = 16) -> list[list[tuple[str, float]]]:
        """The ``topk`` (label, probability) pairs of each image, most likely first."""
        k = max(1, min(topk, len(self.classes)))
        out: list[list[tuple[str, float]]] = []
        for start in range(0, len(paths), batch_size):
            chunk = paths[start:start + batch_size]
            batch = torch.stack([read_image(p, self.preprocessing, self.in_chans)
                                 for p in chunk])
            probs, idx = self.probabilities(batch).topk(k, 1)
            out += [[(self.classes[int(i)], float(p)) for p, i in zip(row_p, row_i,
                                                                        strict=True)]
                    for row_p, row_i in zip(probs, idx, strict=True)]
        return out


def format_predictions(paths: Sequence[str | os.PathLike[str]],
                       results: Sequence[Sequence[tuple[str, float]]]) -> str:
    """Plain-text report: the file name, then one ``probability  label`` line per class."""
    lines = []
    for path, top in zip(paths, results, strict=True):
        lines.append(str(Path(path)))
        lines += [f"  {prob:7.2%}  {label}" for label, prob in top]
    return "\n".join(lines)
