"""googlenet: GoogLeNet (Inception v1) and its successors, built from the paper's tables.

>>> import googlenet
>>> model = googlenet.create_model("googlenet_bn", num_classes=10)
>>> model = googlenet.create_model("googlenet_bn", pretrained=True)  # doctest: +SKIP
>>> googlenet.list_models("googlenet*")[:2]
['googlenet', 'googlenet_bn']
"""

from __future__ import annotations

from .errors import GoogLeNetError
from .models import (
    InceptionNet,
    InceptionOutputs,
    ModelInfo,
    get_model_info,
    list_models,
)
from .recipe import ModelRecipe, TransferRecipe, build_model
from .weights import Preprocessing, WeightsMeta, load_model, read_meta, resolve_preprocessing
from .weights.hub import create_model, resolve_weights

__version__ = "0.1.0"

__all__ = [
    "GoogLeNetError", "InceptionNet", "InceptionOutputs", "ModelInfo", "ModelRecipe",
    "Preprocessing", "TransferRecipe", "WeightsMeta", "build_model", "create_model",
    "get_model_info", "list_models", "load_model", "read_meta", "resolve_preprocessing",
    "resolve_weights", "__version__",
]
