"""Transfer learning: a pretrained Inception backbone cut at a named feature plus a new head.

The architecture is a :class:`~googlenet.recipe.TransferRecipe`; fine-tuning is ordinary
training with such a recipe (:func:`finetune`, ``googlenet finetune``).

>>> from googlenet.models import build_model
>>> from googlenet.recipe import ModelRecipe, TransferRecipe
>>> model = build_model(TransferRecipe(ModelRecipe("googlenet_bn", aux_logits=False),
...                                    cut="inception_4e", num_classes=2, input_size=64))
"""

from __future__ import annotations

from googlenet.models.transfer import TransferModel
from googlenet.transfer.finetune import FINETUNE_DEFAULTS, finetune, finetune_base

__all__ = ["FINETUNE_DEFAULTS", "TransferModel", "finetune", "finetune_base"]
