"""Read Keras weight files (HDF5) into an ordered list of layers with numpy arrays.

Two layouts exist and both are read:

**Legacy HDF5** (Keras 1/2 ``model.save_weights("x.h5")``; Keras 3 still writes it through
``keras.src.legacy.saving.legacy_h5_format.save_weights_to_hdf5_group``). This is the
layout of ``inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5``::

    /                      attrs: layer_names = [b"input_1", b"conv2d_1",
                                  b"batch_normalization_1", b"activation_1", ...,
                                  b"mixed0", ..., b"mixed10"]   (model.layers order)
                                  backend, keras_version
    /conv2d_1              attrs: weight_names = [b"conv2d_1/kernel:0"]
    /conv2d_1/conv2d_1/kernel:0                 (3, 3, 3, 32) float32, HWIO
    /batch_normalization_1 attrs: weight_names = [b"batch_normalization_1/beta:0",
                                  b"batch_normalization_1/moving_mean:0",
                                  b"batch_normalization_1/moving_variance:0"]
    /activation_1          attrs: weight_names = []

Keras 2 weight names end in ``:0``; Keras 3 writes ``conv2d/kernel``. Numeric suffixes also
differ (Keras 2 starts at ``conv2d_1``, Keras 3 at ``conv2d``), so importers must match
layers by order and structure, never by name. Keras splits an attribute that is too big
for an HDF5 object header into ``layer_names0``, ``layer_names1``, ...; that is handled.
Whole-model files (``model.save("x.h5")``) keep the same layout under ``/model_weights``.
A nested model (``Sequential([backbone, Dense(...)])``) is one group whose weight names
carry the inner layer names; it is split into layers named ``backbone/conv2d`` etc.

**Keras 3 ``.weights.h5``** (``keras.Model.save_weights``, which in Keras 3 only accepts a
``.weights.h5`` name)::

    /layers/conv2d_5/vars       attrs: name = "conv2d_7"   (the layer's real name)
    /layers/conv2d_5/vars/0     kernel
    /layers/batch_normalization_5/vars/{0,1,2}   beta, moving_mean, moving_variance

Here group names are the layer *class* in snake_case plus a counter in ``model.layers``
order, and variables are numbered, not named. The order *between* classes is not stored,
so layers come back sorted by class then counter (nested models' layers in place of the
nested model, named ``outer/inner``): order within one kind (all conv2d, all
batch_norm) matches ``model.layers`` in both layouts, and that is what importers should use.
Batch-norm variables are told apart by count: 4 = gamma, beta, mean, variance; 3 = beta,
mean, variance (``scale=False``, as in Keras' Inception models; assumes ``center=True``).

Facts for importers: conv kernels are HWIO (PyTorch wants OIHW), dense kernels are
``(in, out)`` (PyTorch wants ``(out, in)``), Keras BatchNormalization's default epsilon is
1e-3 (PyTorch's is 1e-5), and Keras Inception models use ``scale=False`` (gamma = 1) and
convolutions without bias. :meth:`KerasLayer.torch_arrays` does the layout changes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from googlenet.errors import WeightsError

__all__ = ["KerasKind", "KerasLayer", "keras_weights_layout", "layers_of_kind", "read_keras_h5"]

KerasKind = Literal["conv2d", "batch_norm", "dense", "other"]

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_BN_ROLES = {"gamma", "beta", "moving_mean", "moving_variance"}
_SUFFIX = re.compile(r"^(.*?)(?:_(\d+))?$")
_KERAS3_BN_ROLES = {
    4: ("gamma", "beta", "moving_mean", "moving_variance"),
    3: ("beta", "moving_mean", "moving_variance"),
    2: ("moving_mean", "moving_variance"),
}


@dataclass(frozen=True)
class KerasLayer:
    """One Keras layer that has weights.

    ``weights`` maps a role (``kernel``, ``bias``, ``gamma``, ``beta``, ``moving_mean``,
    ``moving_variance``; for ``kind == "other"`` the stored weight basename) to the array in
    Keras layout, in file order.
    """

    name: str
    kind: KerasKind
    weights: dict[str, np.ndarray]

    def torch_arrays(self) -> dict[str, np.ndarray]:
        """Return the weights under PyTorch names and layouts (``weight``, ``running_mean``...).

        Conv kernels HWIO -> OIHW, dense kernels (in, out) -> (out, in). A batch norm
        without ``gamma`` gets ``weight`` = ones, since Keras' ``scale=False`` means gamma 1.
        """
        w = self.weights
        if self.kind == "conv2d":
            out = {"weight": np.ascontiguousarray(w["kernel"].transpose(3, 2, 0, 1))}
        elif self.kind == "dense":
            out = {"weight": np.ascontiguousarray(w["kernel"].T)}
        elif self.kind == "batch_norm":
            mean = w["moving_mean"]
            return {
                "weight": w.get("gamma", np.ones_like(mean)),
                "bias": w.get("beta", np.zeros_like(mean)),
                "running_mean": mean,
                "running_var": w["moving_variance"],
            }
        else:
            raise WeightsError(f"Keras layer {self.name!r} of unknown kind has no PyTorch layout")
        if "bias" in w:
            out["bias"] = w["bias"]
        return out


def layers_of_kind(layers: list[KerasLayer], kind: KerasKind) -> list[KerasLayer]:
    """Return the layers of one kind, in ``model.layers`` order (valid for both layouts)."""
    return [layer for layer in layers if layer.kind == kind]


def _infer_kind(weights: dict[str, np.ndarray]) -> KerasKind:
    roles = set(weights)
    if "kernel" in roles and roles <= {"kernel", "bias"}:
        ndim = weights["kernel"].ndim
        if ndim == 4:
            return "conv2d"
        if ndim == 2:
            return "dense"
    if {"moving_mean", "moving_variance"} <= roles <= _BN_ROLES:
        return "batch_norm"
    return "other"


def _role(weight_name: str) -> str:
    # "conv2d_1/kernel:0" (Keras 2) and "conv2d/kernel" (Keras 3) both mean "kernel".
    return re.sub(r":\d+$", "", weight_name.rsplit("/", 1)[-1])


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _text_list(value: Any) -> list[str]:
    return [
        v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in np.asarray(value).ravel()
    ]


def _chunked_attr(obj: Any, name: str) -> list[str] | None:
    # Keras' save_attributes_to_hdf5_group splits big attributes into name0, name1, ...
    if name in obj.attrs:
        return _text_list(obj.attrs[name])
    if f"{name}0" not in obj.attrs:
        return None
    values: list[str] = []
    chunk = 0
    while f"{name}{chunk}" in obj.attrs:
        values += _text_list(obj.attrs[f"{name}{chunk}"])
        chunk += 1
    return values


def _read_array(dataset: Any, path: Path, where: str) -> np.ndarray:
    try:
        return np.asarray(dataset[()])
    except (OSError, RuntimeError, ValueError) as exc:
        raise WeightsError(
            f"{path}: cannot read {where} (truncated or corrupt file: {_one_line(exc)})"
        ) from None


def _read_legacy(root: Any, layer_names: list[str], path: Path) -> list[KerasLayer]:
    layers = []
    for name in layer_names:
        group = root.get(name)
        if group is None:
            raise WeightsError(f"{path}: layer {name!r} is in layer_names but has no group")
        weight_names = _chunked_attr(group, "weight_names")
        if weight_names is None:
            raise WeightsError(f"{path}: layer {name!r} has no weight_names attribute")
        # A nested model is one "layer" whose weight names carry several owner prefixes
        # ("backbone/conv2d/kernel", "backbone/batch_normalization/beta"): split it.
        owners: dict[str, dict[str, np.ndarray]] = {}
        for weight_name in weight_names:
            dataset = group.get(weight_name)
            if dataset is None:
                raise WeightsError(
                    f"{path}: layer {name!r} is missing weight {weight_name!r} "
                    "listed in its weight_names"
                )
            owner = weight_name.rsplit("/", 1)[0] if "/" in weight_name else ""
            weights = owners.setdefault(owner, {})
            role = _role(weight_name)
            if role in weights:
                raise WeightsError(f"{path}: layer {name!r} has weight {role!r} twice")
            weights[role] = _read_array(dataset, path, f"{name}/{weight_name}")
        for owner, weights in owners.items():
            full_name = name if len(owners) == 1 else f"{name}/{owner.rsplit('/', 1)[-1]}"
            layers.append(KerasLayer(full_name, _infer_kind(weights), weights))
    return layers


def _keras3_sort_key(key: str) -> tuple[str, int]:
    match = _SUFFIX.match(key)
    assert match is not None  # the pattern matches every string
    return match.group(1), int(match.group(2) or 0)


def _read_keras3(layers_group: Any, path: Path, prefix: str = "") -> list[KerasLayer]:
    layers = []
    for key in sorted(layers_group, key=_keras3_sort_key):
        layer_group = layers_group[key]
        vars_group = layer_group.get("vars")
        name = vars_group.attrs.get("name", key) if vars_group is not None else key
        name = prefix + (name.decode("utf-8") if isinstance(name, bytes) else str(name))
        if "layers" in layer_group:  # a nested model: its layers in place of it
            layers += _read_keras3(layer_group["layers"], path, prefix=f"{name}/")
        if vars_group is None or len(vars_group) == 0:
            continue
        indices = sorted(vars_group, key=lambda k: int(k) if k.isdigit() else 1 << 30)
        where = f"{layers_group.name}/{key}/vars"
        arrays = [_read_array(vars_group[i], path, f"{where}/{i}") for i in indices]
        class_name = _keras3_sort_key(key)[0]
        if class_name == "batch_normalization" and len(arrays) in _KERAS3_BN_ROLES:
            roles = _KERAS3_BN_ROLES[len(arrays)]
        elif class_name in ("conv2d", "dense") and len(arrays) <= 2:
            roles = ("kernel", "bias")[: len(arrays)]
        else:
            roles = tuple(indices)
        weights = dict(zip(roles, arrays, strict=True))
        known = class_name in ("conv2d", "dense", "batch_normalization")
        kind: KerasKind = _infer_kind(weights) if known else "other"
        layers.append(KerasLayer(name, kind, weights))
    return layers


def _open(path: Path) -> Any:
    try:
        import h5py  # optional: the keras extra
    except ImportError:
        raise WeightsError(
            f"{path}: reading Keras weights needs h5py (pip install 'googlenet[keras]')"
        ) from None
    if not path.is_file():
        raise WeightsError(f"{path}: Keras weights file not found")
    with open(path, "rb") as handle:
        head = handle.read(8)
    # HDF5 allows a user block before the signature (at 512, 1024, ...); h5py.is_hdf5 knows.
    if head != _HDF5_SIGNATURE and not h5py.is_hdf5(path):
        raise WeightsError(f"{path}: not an HDF5 file")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise WeightsError(
            f"{path}: cannot open HDF5 file (truncated or corrupt: {_one_line(exc)})"
        ) from None


def keras_weights_layout(path: str | os.PathLike[str]) -> Literal["legacy", "keras3"]:
    """Say which Keras layout an HDF5 weights file uses; WeightsError if neither."""
    path = Path(path)
    with _open(path) as handle:
        return _layout(handle, path)[0]


def _has_layer_names(group: Any) -> bool:
    return "layer_names" in group.attrs or "layer_names0" in group.attrs


def _layout(handle: Any, path: Path) -> tuple[Literal["legacy", "keras3"], Any]:
    if _has_layer_names(handle):
        return "legacy", handle
    if "model_weights" in handle and _has_layer_names(handle["model_weights"]):
        return "legacy", handle["model_weights"]
    # Keras 2.13-era .weights.h5 files call the "layers" group
    # "_layer_checkpoint_dependencies" (Keras 3's H5IOStore reads both).
    for name in ("layers", "_layer_checkpoint_dependencies"):
        if name in handle:
            return "keras3", handle[name]
    raise WeightsError(f"{path}: HDF5 file has no layer_names attribute; not a Keras weights file")


def read_keras_h5(path: str | os.PathLike[str]) -> list[KerasLayer]:
    """Read a Keras HDF5 weights file (legacy ``.h5`` or Keras 3 ``.weights.h5``).

    Returns the layers that have weights, in ``model.layers`` order for legacy files and in
    class-then-counter order for ``.weights.h5`` (see the module docstring), each with its
    kind inferred from its weight names and its arrays in Keras layout.
    """
    path = Path(path)
    with _open(path) as handle:
        layout, root = _layout(handle, path)
        if layout == "keras3":
            return _read_keras3(root, path)
        layer_names = _chunked_attr(root, "layer_names")
        assert layer_names is not None  # _layout checked it
        return _read_legacy(root, layer_names, path)
