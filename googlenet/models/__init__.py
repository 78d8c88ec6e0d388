"""Models of the Inception family: the registry and the model class."""

from .inception_net import InceptionNet, InceptionOutputs
from .registry import MODELS, ModelInfo, create_model, get_model_info, list_models

__all__ = [
    "InceptionNet", "InceptionOutputs", "MODELS", "ModelInfo", "create_model",
    "get_model_info", "list_models",
]
