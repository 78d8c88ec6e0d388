"""The one metadata schema of googlenet weights files.

Every ``.safetensors`` file the package writes (``convert``, ``train``, ``finetune``) says
enough about itself to rebuild and run its model with no other file:

- ``googlenet.format``: :data:`FORMAT`;
- ``recipe``: what was built (:mod:`googlenet.recipe`): a registry model with its
  arguments, or a backbone cut with a new head;
- ``class_names``: one name per output (empty for a backbone without a classifier);
- ``source``: where the weights came from ("torchvision:googlenet-1378be20.pth",
  "googlenet train: runs/fmnist");
- the preprocessing (:class:`~googlenet.preprocessing.Preprocessing`) as the
  standard keys of :mod:`googlenet.weights.safetensors_io`: ``mean``, ``std``, ``scale``,
  ``channel_order``, ``input_size``, ``resize_size``;
- ``training`` (checkpoints of a run only): :class:`TrainingInfo`. A run's ``last``
  checkpoint also holds the training state (optimizer, EMA, RNG, history) as tensors under
  ``training.`` keys (see :mod:`googlenet.weights.loader`), so one file, written
  atomically, is one resumable checkpoint.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from googlenet.errors import GoogLeNetError, WeightsError
from googlenet.preprocessing import Preprocessing
from googlenet.recipe import ModelRecipe, Recipe, recipe_from_dict
from googlenet.weights.imagenet import imagenet_class_names

FORMAT = "googlenet-weights/2"
FORMAT_KEY = "googlenet.format"
_PRE_KEYS = ("mean", "std", "scale", "channel_order", "input_size", "resize_size")


@dataclass(frozen=True)
class TrainingInfo:
    """Where in a training run a checkpoint was written, and what it scored.

    ``metrics`` is the epoch's row of ``metrics.csv`` (empty for a checkpoint saved
    mid-epoch); ``best`` is the run's best row so far, so ``last`` always says which
    checkpoint ``best.safetensors`` must hold.
    """

    run: str
    epoch: int
    step: int
    metrics: dict[str, float] = field(default_factory=dict)
    best: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


@dataclass(frozen=True)
class WeightsMeta:
    """The metadata of a googlenet weights file (see the module docstring)."""

    recipe: Recipe
    classes: tuple[str, ...]
    preprocessing: Preprocessing
    source: str = ""
    training: TrainingInfo | None = None

    @property
    def model(self) -> str:
        """The registry name of the model (a transfer model's backbone)."""
        return self.recipe.model_name

    @property
    def headless(self) -> bool:
        """A backbone without a classifier (a Keras "notop" file): no class scores."""
        return isinstance(self.recipe, ModelRecipe) and self.recipe.num_classes == 0

    def require_classifier(self, path: str | os.PathLike[str]) -> None:
        """Refuse a backbone without a trained classifier where class scores are needed."""
        if self.headless:
            raise WeightsError(f"{path}: {self.model} backbone without a classifier "
                               f"({self.source}); fine-tune it first (`googlenet finetune`)")

    def class_names(self, num_classes: int) -> tuple[str, ...]:
        """The stored names when they fit ``num_classes`` outputs, else the defaults
        (ImageNet's for 1000, ``class_0``... otherwise)."""
        if len(self.classes) == num_classes:
            return self.classes
        return default_class_names(num_classes)

    def replace(self, **changes: Any) -> WeightsMeta:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_metadata(self) -> dict[str, Any]:
        """The metadata map for :func:`~googlenet.weights.safetensors_io.save_safetensors`."""
        out: dict[str, Any] = {FORMAT_KEY: FORMAT, "recipe": self.recipe.to_dict(),
                               "class_names": list(self.classes), "source": self.source,
                               **self.preprocessing.to_dict()}
        if self.training is not None:
            out["training"] = self.training.to_dict()
        return out

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any], path: str | os.PathLike[str]) -> WeightsMeta:
        """Parse a decoded metadata map; a foreign or damaged one is a one-line error."""
        if meta.get(FORMAT_KEY) != FORMAT:
            if FORMAT_KEY in meta:
                raise WeightsError(f"{path}: written by a newer googlenet "
                                   f"({meta[FORMAT_KEY]}); upgrade the package")
            raise WeightsError(f"{path}: no googlenet metadata (recipe, preprocessing); "
                               "convert foreign weights with `googlenet convert` first")
        try:
            training = meta.get("training")
            out = cls(recipe=recipe_from_dict(meta["recipe"], f"{path}: recipe"),
                      classes=tuple(str(c) for c in meta["class_names"]),
                      preprocessing=Preprocessing.from_dict(meta, str(path)),
                      source=str(meta.get("source", "")),
                      training=TrainingInfo(**training) if training else None)
        except (KeyError, TypeError, ValueError) as err:
            if isinstance(err, GoogLeNetError):
                raise
            raise WeightsError(f"{path}: damaged weights metadata ({err!r})") from None
        # Names for another class count would be silently replaced by class_0...: refuse.
        count = out.recipe.num_classes
        if out.classes and count is not None and len(out.classes) != count:
            raise WeightsError(f"{path}: {len(out.classes)} class names for a "
                               f"{count}-class model")
        return out


def default_class_names(num_classes: int) -> tuple[str, ...]:
    """ImageNet's names for 1000 classes, else ``class_0``, ``class_1``, ..."""
    if num_classes == 1000:
        return tuple(imagenet_class_names())
    return tuple(f"class_{i}" for i in range(num_classes))
