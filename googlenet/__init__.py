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
    build_model,
    get_model_info,
    list_models,
)
from .preprocessing import Preprocessing
from .recipe import ModelRecipe, TransferRecipe
from .weights import (
    WeightsMeta,
    create_model,
    load_model,
    read_meta,
    resolve_preprocessing,
    resolve_weights,
)
from .weights.loaded import LoadedModel, resolve_model

__version__ = "0.1.0"

__all__ = [
    "GoogLeNetError", "InceptionNet", "InceptionOutputs", "LoadedModel", "ModelInfo",
    "ModelRecipe", "Preprocessing", "TransferRecipe", "WeightsMeta", "build_model",
    "create_model", "get_model_info", "list_models", "load_model", "read_meta",
    "resolve_model", "resolve_preprocessing", "resolve_weights", "__version__",
]
