"""Weights: one metadata schema, one loader, one strict check; importers and file readers.

>>> from googlenet.weights import load_model, read_meta, resolve_preprocessing
>>> model, meta = load_model("bvlc_googlenet.safetensors")   # doctest: +SKIP

The importers' submodules are imported explicitly (``from googlenet.weights import
caffe``) so that optional dependencies such as h5py are only needed by the code that
reads those files.
"""

from googlenet.preprocessing import Preprocessing, as_rgb
from googlenet.weights.check import check_state_dict, load_strict
from googlenet.weights.hub import create_model, resolve_weights
from googlenet.weights.loader import (
    init_from_weights,
    load_model,
    load_state_dict,
    load_training_state,
    read_meta,
    recipe_from_weights,
    resolve_preprocessing,
    save_weights,
)
from googlenet.weights.meta import FORMAT, TrainingInfo, WeightsMeta, default_class_names

__all__ = [
    "FORMAT", "Preprocessing", "TrainingInfo", "WeightsMeta", "as_rgb", "check_state_dict",
    "create_model", "default_class_names", "init_from_weights", "load_model", "load_state_dict",
    "load_strict", "load_training_state", "read_meta", "recipe_from_weights",
    "resolve_preprocessing", "resolve_weights", "save_weights",
]
