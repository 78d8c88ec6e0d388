"""State-dict keys are a public format: every registered model, built with its aux heads,
has exactly the keys, shapes and key order recorded in ``state_dict_keys.json``.

Weights files, torchvision/Keras/Caffe key maps and users' checkpoints all depend on these
names. A change that moves a key must be deliberate: regenerate the file with
``python -m tests.models.test_state_dict_keys`` and say why in the commit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import googlenet

SNAPSHOT = Path(__file__).with_name("state_dict_keys.json")


def state_dict_layout(name: str) -> list[tuple[str, list[int]]]:
    """``(key, shape)`` of ``name`` with aux heads, in state-dict order (meta device: no
    memory, no initialisation cost)."""
    with torch.device("meta"):
        model = googlenet.create_model(name)
    return [(key, list(value.shape)) for key, value in model.state_dict().items()]


def _recorded() -> dict[str, list[tuple[str, list[int]]]]:
    data = json.loads(SNAPSHOT.read_text())
    return {name: [(k, shape) for k, shape in rows] for name, rows in data.items()}


def test_every_registered_model_is_recorded():
    assert sorted(_recorded()) == googlenet.list_models()


@pytest.mark.parametrize("name", googlenet.list_models())
def test_keys_shapes_and_order_are_unchanged(name):
    want = _recorded()[name]
    got = state_dict_layout(name)
    missing = [k for k, _ in want if k not in dict(got)]
    extra = [k for k, _ in got if k not in dict(want)]
    assert not missing and not extra, f"{name}: missing {missing[:3]}, unexpected {extra[:3]}"
    assert got == want


def _write() -> None:
    layouts = {name: state_dict_layout(name) for name in googlenet.list_models()}
    # One key per line, so that a deliberate change reads as a small diff.
    lines = ["{"]
    for i, (name, rows) in enumerate(layouts.items()):
        lines.append(f"  {json.dumps(name)}: [")
        lines += [f"    {json.dumps([k, s])}{',' if j < len(rows) - 1 else ''}"
                  for j, (k, s) in enumerate(rows)]
        lines.append("  ]" + ("," if i < len(layouts) - 1 else ""))
    lines.append("}")
    SNAPSHOT.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    _write()
