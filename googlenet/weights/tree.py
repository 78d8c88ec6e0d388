"""Nested training state (optimizer, EMA, RNG, history) as tensors plus a JSON skeleton.

A run's checkpoint is one safetensors file: its weights, and the training state under
``training.`` keys. safetensors holds flat named tensors and string metadata, so the
nested state is split in two: every tensor goes to a key of its own, and the structure
(dicts, lists, numbers, strings) becomes JSON with ``{"@tensor": key}`` in the tensors'
places. No pickle is involved in either direction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from googlenet.errors import WeightsError

TENSOR = "@tensor"
INT_KEYS = "@int_keys"  # a dict whose keys were ints (an optimizer's per-parameter state)


def flatten_tree(tree: Any, prefix: str) -> tuple[Any, dict[str, torch.Tensor]]:
    """``(skeleton, tensors)``: ``tree`` with each tensor replaced by a reference to its
    key in ``tensors`` (keys start with ``prefix``)."""
    tensors: dict[str, torch.Tensor] = {}

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, torch.Tensor):
            tensors[path] = node
            return {TENSOR: path}
        if isinstance(node, Mapping):
            if all(isinstance(k, int) for k in node) and node:
                return {INT_KEYS: [[k, walk(v, f"{path}.{k}")] for k, v in node.items()]}
            if not all(isinstance(k, str) for k in node):
                raise WeightsError(f"training state at {path}: keys must be str or int")
            return {k: walk(v, f"{path}.{k}") for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return [walk(v, f"{path}.{i}") for i, v in enumerate(node)]
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        raise WeightsError(f"training state at {path}: cannot store a {type(node).__name__}")

    return walk(tree, prefix), tensors


def unflatten_tree(skeleton: Any, tensors: Mapping[str, torch.Tensor], source: str) -> Any:
    """The inverse of :func:`flatten_tree`; a dangling reference names ``source``."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {TENSOR}:
                key = node[TENSOR]
                if key not in tensors:
                    raise WeightsError(f"{source}: training state refers to missing tensor "
                                       f"{key!r}")
                return tensors[key]
            if set(node) == {INT_KEYS}:
                return {int(k): walk(v) for k, v in node[INT_KEYS]}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(skeleton)
