"""A recipe (:mod:`googlenet.recipe`) -> a freshly initialised module.

The recipe is pure data in the bottom layer; building it needs the registry and the
transfer model, so the one builder lives here, in ``models/``.
"""

from __future__ import annotations

from torch import nn

from googlenet.models.registry import create_model
from googlenet.models.transfer import TransferModel
from googlenet.recipe import ModelRecipe, Recipe


def build_model(recipe: Recipe) -> nn.Module:
    """A freshly initialised model as ``recipe`` describes it (train mode).

    Pretrained weights come on top: :func:`googlenet.weights.init_from_weights`, or
    :func:`googlenet.weights.load_model` for a file that records its own recipe.
    """
    if isinstance(recipe, ModelRecipe):
        return create_model(recipe.name, **recipe.kwargs())
    return TransferModel(create_model(recipe.backbone.name, **recipe.backbone.kwargs()),
                         recipe)
