"""ONNX (checked by onnxruntime) and torch.export programs: logits only, no aux heads."""

import pytest
import torch

from googlenet.deploy import check_onnx, export_onnx, export_program, load_program
from googlenet.errors import WeightsError
from googlenet.models import create_model

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def paper_model():
    # The paper's network exercises the LRN rewrite; 64x64 keeps the export fast.
    torch.manual_seed(0)
    return create_model("googlenet").eval()


def test_onnx_matches_eager_in_onnxruntime(paper_model, tmp_path):
    path = export_onnx(paper_model, tmp_path / "g.onnx", torch.randn(1, 3, 64, 64))
    diff = check_onnx(paper_model, path, torch.randn(3, 3, 64, 64), atol=1e-3)
    # Untrained logits reach ~100; 1e-3 absolute there is 1e-5 relative.
    assert diff <= 1e-3
    graph = onnx.load(str(path)).graph
    assert [o.name for o in graph.output] == ["logits"]
    assert not any("aux" in init.name for init in graph.initializer)
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_program_loads_and_runs_any_batch(paper_model, tmp_path):
    path = export_program(paper_model, tmp_path / "g.pt2", torch.randn(1, 3, 64, 64))
    program = load_program(path)
    x = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        out, ref = program(x), paper_model(x)
    assert isinstance(out, torch.Tensor) and out.shape == (3, 1000)
    assert (out - ref).abs().max().item() <= 1e-3
    assert not any("aux" in k for k in program.state_dict())


def test_unfused_program_keeps_module_names(tmp_path):
    model = create_model("inception_a_net").eval()
    path = export_program(model, tmp_path / "a.pt2", torch.randn(2, 1, 28, 28), fuse=False)
    keys = load_program(path).state_dict()
    assert "incep1.branch_1x1.conv.weight" in keys


def test_loading_a_bad_program_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.pt2"
    bad.write_bytes(b"not a zip")
    with pytest.raises(WeightsError, match="bad.pt2"):
        load_program(bad)
