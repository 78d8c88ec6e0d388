"""Every registered model exports to ONNX, and onnxruntime computes its logits.

Each model is exported at its minimum input size (a fixed-size model at its own) with
trained-scale logits, and checked on a batch of 2 against eager (1e-4). The ONNX
exporter's time grows with the graph, not the input (7 to 27 s a model on 2 cores), so
these are slow (``make test-all``). The default suite exports the GoogLeNets and
BN-Inception in tests/transfer/test_weights_matrix.py, and here Inception-v4 with one
block of each kind, which keeps every width of the full network.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

import googlenet
from googlenet.deploy import check_onnx, export_onnx
from googlenet.models import create_model
from googlenet.models.inception_net import InceptionNet
from googlenet.specs import INCEPTION_V4
from tests.deploy.nets import randomise_bn, trained_scale_logits

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning",
                                        "ignore::UserWarning")


def _exports(model: torch.nn.Module, size: int, path: Path) -> None:
    model.eval()
    randomise_bn(model)
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(2, model.in_chans, size, size, generator=gen)
    trained_scale_logits(model, x)
    assert check_onnx(model, export_onnx(model, path, x[:1]), x, atol=1e-4) <= 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("name", googlenet.list_models())
def test_every_model_exports_to_onnx(name, tmp_path):
    info = googlenet.get_model_info(name)
    size = info.input_size if info.spec.fixed_input_size else info.min_input_size
    _exports(create_model(name), size, tmp_path / f"{name}.onnx")


def test_each_inception_v4_block_kind_exports(tmp_path):
    # Every block after the first of its kind reads and writes the same widths, so
    # dropping them leaves each layer as it is in the full network.
    kinds: set[object] = set()
    rows = [r for r in INCEPTION_V4.rows
            if r.block is None or (r.block not in kinds and not kinds.add(r.block))]
    model = InceptionNet(replace(INCEPTION_V4, rows=tuple(rows)), min_input_size=75)
    assert len(rows) < len(INCEPTION_V4.rows)
    assert kinds == {r.block for r in INCEPTION_V4.rows if r.block is not None}
    _exports(model, 75, tmp_path / "v4_kinds.onnx")
