"""BN-Inception and Inception-v4 in the commands that take a registry model by name:
``info``, ``summary`` (each family's own table, with branch costs) and ``train``. The
commands that read weights files (predict, eval, export, bench, finetune) take them in
tests/transfer/test_weights_matrix.py."""

from __future__ import annotations

import json
import re

import pytest

from googlenet import get_model_info
from googlenet.cli import main
from googlenet.models.builder import BLOCK_TABLES
from googlenet.weights import read_meta
from googlenet.weights.sources import releases_for
from tests.transfer.image_folders import make_image_folder

NEW = ("bn_inception", "inception_v4")


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("name", NEW)
def test_info_lists_the_timm_release(capsys, name):
    info = _json(capsys, "info", name)
    (timm,) = [r for r in info["pretrained"] if r["source"] == "timm"]
    assert timm["preprocessing"] == releases_for("timm", name)[0].preprocessing.to_dict()
    assert info["num_params"] == {"bn_inception": 11_295_240, "inception_v4": 42_679_816}[name]


def test_summary_prints_figure_5_with_its_deviations(capsys):
    assert main(["summary", "bn_inception"]) == 0
    out = capsys.readouterr().out
    assert "Figure 5" in out and "dbl #3x3" in out and "Table 1" not in out
    lines = out.splitlines()
    row = next(i for i, ln in enumerate(lines) if ln.startswith("inception (3c)"))
    # The row, then the columns that did not fit in 100 on an indented line under it.
    line, under = lines[row], lines[row + 1]
    assert "stride 2" in line and line.endswith("*")
    assert under.startswith("    ") and "max + pass through" in under
    # The note wraps at 100 columns: each deviation starts an indented "  name: " line.
    note = out.split("departs from", 1)[1]
    assert note.split()[:2] == ["Figure", "5:"]
    assert re.findall(r"^  (\w+): ", note, re.M) == [
        "conv1", "inception_3c", "inception_4c", "inception_4d", "inception_4e"]


@pytest.mark.parametrize("name", NEW)
def test_summary_branches_add_up_to_their_blocks(capsys, name):
    rows = _json(capsys, "summary", name, "--branches")["rows"]
    blocks = [r for r in rows if "branch_costs" in r]
    spec = get_model_info(name).spec
    assert len(blocks) == sum(r.type in BLOCK_TABLES for r in spec.rows)
    for r in blocks:
        assert sum(b["params"] for b in r["branch_costs"]) == r["params"]
        assert sum(b["macs"] for b in r["branch_costs"]) == r["macs"]
    assert sum(r["params"] for r in rows) == _json(capsys, "info", name)["num_params"]
    if name == "inception_v4":
        assert {r["stage"] for r in rows} >= {"stem", "7 x Inception-B", "Reduction-B"}


@pytest.mark.parametrize("name", NEW)
def test_train_runs_and_writes_its_checkpoint(tmp_path, name):
    # A quarter of the widths and four small images (a synthetic set would render a
    # whole chunk at 224 or 299 first): the loop, not the learning.
    data = make_image_folder(tmp_path / "data", {"train": 2, "test": 1}, size=32)
    assert main(["train", "--model", name, "--width", "0.25", "--dataset", "folder",
                 "--data", str(data), "--epochs", "1", "--batch-size", "2", "--output",
                 str(tmp_path), "--name", "run", "--progress", "false", "--report",
                 "false"]) == 0
    meta = read_meta(tmp_path / "run" / "best.safetensors")
    assert meta.model == name and meta.recipe.width == 0.25 and len(meta.classes) == 2
