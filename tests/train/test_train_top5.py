"""Top-5 accuracy is not reported with 5 classes or fewer (it would always read 1.0)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch

from googlenet.cli import main
from googlenet.evaluate import runner as eval_runner
from googlenet.evaluate.metrics import reports_top5, summarize, top5_text
from googlenet.train import fit, inputs


def test_summarize_leaves_top5_out_for_five_classes_or_fewer():
    targets = torch.tensor([0, 1, 2, 3, 4, 0])
    probs = torch.eye(5)[targets]
    report = summarize(probs, targets, [f"c{i}" for i in range(5)])
    assert report.top1 == 1.0 and report.top5 is None
    assert json.loads(json.dumps(report.as_dict()))["top5"] is None
    six = summarize(torch.eye(6)[targets], targets, [f"c{i}" for i in range(6)])
    assert six.top5 == 1.0
    assert [reports_top5(k) for k in (2, 5, 6, 1000)] == [False, False, True, True]
    assert top5_text(None) == "" and top5_text(0.5) == " top-5 0.5000"


@pytest.fixture
def three_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The synthetic set with 3 classes, for training and for ``googlenet eval``."""
    real = inputs.dataset_kwargs

    def kwargs(name: str, input_size: int, in_chans: int) -> dict[str, Any]:
        return {**real(name, input_size, in_chans), "num_classes": 3}

    monkeypatch.setattr(inputs, "dataset_kwargs", kwargs)
    monkeypatch.setattr(eval_runner, "dataset_kwargs", kwargs)


def test_a_three_class_run_reports_no_top5(three_classes, tiny_config, tmp_path, capsys):
    result = fit(tiny_config(epochs=1, report=True, lr=1e-3))  # 0.01 diverged on 3 classes
    log = capsys.readouterr().out
    assert "val loss" in log and "top5" not in log
    assert "val_top5" not in result.final  # no column at all: it would always read 1.0
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert "val_top5" not in metrics[-1]
    report = (result.run_dir / "report.md").read_text()
    assert "top-5" not in report and "val_top5" not in report
    out = tmp_path / "ev"
    assert main(["eval", str(result.run_dir / "best.safetensors"), "--dataset", "synthetic",
                 "--limit", "16", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "top-1" in printed and "top-5" not in printed
    assert json.loads((out / "eval-synthetic-test-1crop.json").read_text())["top5"] is None
