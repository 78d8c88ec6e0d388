"""Make Keras InceptionV3 / InceptionResNetV2 weight files for tests, without downloading
anything.

``write_keras2_style_h5`` writes what the released
``inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5`` looks like (Keras 2 names:
``conv2d_1``, ``batch_normalization_1/beta:0``, ...); ``write_keras3_legacy_h5`` uses Keras
3's own legacy writer (names ``conv2d``, ``conv2d/kernel``). See googlenet/weights/keras_h5.py
for the layouts.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

# Keras 2 numbered auto-named layers from 1, Keras 3 from 0 with no suffix on the first.
_AUTO_NAMED = re.compile(
    r"^(conv2d|batch_normalization|activation|max_pooling2d|average_pooling2d)(?:_(\d+))?$"
)


def import_keras() -> Any:
    """Import Keras 3 on the torch backend (the only backend installed here)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    return keras


def build_inception_v3(seed: int = 0) -> Any:
    """A Keras InceptionV3 with top (weights=None), random BN statistics and betas."""
    return build_application("InceptionV3", seed)


def build_application(app: str, seed: int = 0, **kwargs: Any) -> Any:
    """``keras.applications.<app>`` with top (weights=None), random BN statistics and
    betas; ``kwargs`` go to the constructor (e.g. ``input_shape``).

    Fresh BN layers have mean 0, variance 1 and beta 0, which would hide a swapped
    mean/variance in an importer; random values do not.
    """
    keras = import_keras()
    keras.utils.set_random_seed(seed)
    model = getattr(keras.applications, app)(weights=None, include_top=True, **kwargs)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0.0, 0.5, n).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, n).astype("float32"))
            layer.beta.assign(rng.normal(0.0, 0.5, n).astype("float32"))
    return model


def notop(model: Any, last: str = "mixed10") -> Any:
    """The include_top=False network (up to ``last``: InceptionV3's ``mixed10``,
    InceptionResNetV2's ``conv_7b_ac``), sharing ``model``'s weights."""
    keras = import_keras()
    return keras.Model(model.input, model.get_layer(last).output)


def keras2_name(name: str) -> str:
    """Map a Keras 3 layer name to the Keras 2 name of the same layer."""
    if name == "input_layer":
        return "input_1"
    match = _AUTO_NAMED.match(name)
    if not match:
        return name  # mixed0..mixed10, avg_pool, predictions are named explicitly
    return f"{match.group(1)}_{int(match.group(2) or 0) + 1}"


def write_keras2_style_h5(model: Any, path: Path) -> None:
    """Write ``model`` in the legacy layout with Keras 2 names, like the released file."""
    import h5py

    with h5py.File(path, "w") as handle:
        names = [keras2_name(layer.name) for layer in model.layers]
        handle.attrs["layer_names"] = np.array([n.encode() for n in names])
        handle.attrs["backend"] = b"tensorflow"
        handle.attrs["keras_version"] = b"2.0.8"
        for layer, name in zip(model.layers, names, strict=True):
            group = handle.create_group(name)
            weight_names = [f"{name}/{w.path.rsplit('/', 1)[-1]}:0" for w in layer.weights]
            group.attrs["weight_names"] = np.array([w.encode() for w in weight_names])
            for weight_name, variable in zip(weight_names, layer.weights, strict=True):
                group.create_dataset(weight_name, data=np.asarray(variable.numpy()))


def write_keras3_legacy_h5(model: Any, path: Path) -> None:
    """Write ``model`` with Keras 3's own legacy-HDF5 writer."""
    import h5py

    import_keras()
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, model)
