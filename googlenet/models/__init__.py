"""Models of the Inception family: the registry, the model class, and the builder of a
recipe (a registry model or a backbone cut with a new head)."""

from .inception_net import InceptionNet, InceptionOutputs
from .recipe import build_model
from .registry import MODELS, ModelInfo, create_model, get_model_info, list_models
from .transfer import TransferModel

__all__ = [
    "InceptionNet", "InceptionOutputs", "MODELS", "ModelInfo", "TransferModel", "build_model",
    "create_model", "get_model_info", "list_models",
]
