"""``googlenet summary``: each family's own table, per-branch costs, aux heads, big inputs
refused in one line, and output piped into a reader that stops early."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from googlenet.cli import main
from googlenet.models import list_models


def _json(capsys, *argv: str) -> dict:
    assert main(["summary", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _text(capsys, *argv: str) -> str:
    assert main(["summary", *argv]) == 0
    return capsys.readouterr().out


def test_naive_table1_has_no_reduce_widths(capsys):
    rows = {r["name"]: r for r in _json(capsys, "googlenet_naive")["rows"]}
    assert rows["inception_3a"]["n3x3_reduce"] is None and rows["inception_3a"]["n3x3"] == 128
    assert rows["inception_3a"]["depth"] == 1 and rows["conv2"]["n3x3_reduce"] == 64
    out = _text(capsys, "googlenet_naive")
    line = next(ln for ln in out.splitlines() if ln.startswith("inception (3a)"))
    # the output size moved under the row to fit 100 columns: depth, then #1x1 ...
    assert line.split()[3:7] == ["64", "128", "32", "32"]  # #1x1, #3x3, #5x5, pool proj


def test_inception_v3_renders_its_stages_and_blocks(capsys):
    out = _text(capsys, "inception_v3")
    assert "stages and blocks" in out and "Table 1" not in out and "#1x1" not in out
    lines = out.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("mixed0 "))
    assert "Inception A (Figure 5)" in lines[at] and "1x1 48 > 5x5 64" in lines[at + 1]
    rows = {r["name"]: r for r in _json(capsys, "inception_v3")["rows"]}
    assert rows["mixed9"]["branches"].count("(1x3 384 | 3x1 384)") == 2
    assert sum(r["macs"] for r in rows.values()) == 5_713_216_096


def test_small_models_render_their_family_table(capsys):
    rows = {r["name"]: r for r in _json(capsys, "inception_a_net")["rows"]}
    assert rows["incep1"]["type"] == "InceptionA" and rows["incep1"]["output_size"] == "12x12x88"
    rows = {r["name"]: r for r in _json(capsys, "googlenet_mnist")["rows"]}
    assert rows["inception_3a"]["n1x1"] == 64 and rows["inception_3a"]["output_size"] == "14x14x256"


def test_branches_add_up_to_their_block(capsys):
    for name in ("googlenet", "inception_v3"):
        rows = _json(capsys, name, "--branches")["rows"]
        blocks = [r for r in rows if "branch_costs" in r]
        assert len(blocks) == {"googlenet": 9, "inception_v3": 11}[name]
        for r in blocks:
            assert sum(b["params"] for b in r["branch_costs"]) == r["params"]
            assert sum(b["macs"] for b in r["branch_costs"]) == r["macs"]
    out = _text(capsys, "googlenet", "--branches")
    assert "  branch_3x3: 1x1 96 > 3x3 128" in out


def test_aux_heads_are_rows_on_request(capsys):
    plain = [r["name"] for r in _json(capsys, "googlenet")["rows"]]
    rows = _json(capsys, "googlenet", "--aux")["rows"]
    names = [r["name"] for r in rows]
    assert "aux_4a" not in plain
    assert names.index("aux_4a") == names.index("inception_4a") + 1
    assert names.index("aux_4d") == names.index("inception_4d") + 1
    aux = rows[names.index("aux_4a")]
    # 1x1 conv 512->128, FC 2048->1024, FC 1024->1000, with biases
    assert aux["params"] == 3_188_840 and aux["output_size"] == "1x1x1000"
    v3 = [r["name"] for r in _json(capsys, "inception_v3", "--aux")["rows"]]
    assert v3.index("aux_mixed7") == v3.index("mixed7") + 1


def test_input_too_big_for_memory_is_one_line(capsys):
    assert main(["summary", "googlenet_bn", "--input-size", "100000"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--input-size 100000" in err and "at most" in err


def test_output_into_a_closed_pipe_is_quiet():
    cmd = [sys.executable, "-m", "googlenet", "summary", "googlenet"]
    head = subprocess.run(" ".join(cmd) + " | head -3", shell=True, capture_output=True,
                          text=True, check=True)
    assert len(head.stdout.splitlines()) == 3 and head.stderr == ""
    # Close the reading end before the command writes: the write must fail with EPIPE.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert err == "" and proc.returncode == 141


@pytest.mark.parametrize("name", ["googlenet_bn", "inception_v3"])
def test_layers_view_is_still_there(capsys, name):
    layers = _json(capsys, name, "--layers")["layers"]
    assert layers[-1]["name"] == "fc" and all(r["flops"] == 2 * r["macs"] for r in layers)


def test_a_family_adds_its_table_as_data():
    from dataclasses import replace

    from googlenet.cost import model_table, render_table
    from googlenet.models.inception_net import InceptionNet
    from googlenet.specs import INCEPTION_A_NET, Column, TableLayout

    layout = TableLayout("a made-up family's table", (
        Column("layer", "name"), Column("fig.", "figure"), Column("out", "output_size")))
    rows = tuple(replace(r, cells={**r.cells, "figure": "Fig. 1"}) if r.block else r
                 for r in INCEPTION_A_NET.rows)
    model = InceptionNet(replace(INCEPTION_A_NET, rows=rows, table=layout))
    table = model_table(model, branches=True)
    incep1 = next(r for r in table if r.name == "incep1")
    assert incep1.cells == {"name": "incep1", "figure": "Fig. 1", "output_size": "12x12x88"}
    assert [b.name for b in incep1.branches][-1] == "branch_pool"
    text = render_table(table, layout, 28)
    assert text.splitlines()[0].split() == ["layer", "fig.", "out", "params", "MACs"]
    assert "  branch_3x3dbl: 1x1 16 > 3x3 24 > 3x3 24" in text


@pytest.mark.parametrize("name", list_models())
def test_every_summary_fits_100_columns(capsys, name):
    """A wide column (Inception v3's branches) moves under its row instead of pushing the
    table past 100 columns; the prose lines wrap too."""
    out = _text(capsys, name)
    widest = max(out.splitlines(), key=len)
    assert len(widest) <= 100, widest


def test_v3_branches_print_under_their_block(capsys):
    lines = _text(capsys, "inception_v3").splitlines()
    row = next(i for i, ln in enumerate(lines) if ln.startswith("mixed0 "))
    assert lines[row + 1].startswith("    branches: 1x1 64 | 1x1 48 > 5x5 64")
    assert "branches" not in lines[3]  # out of the header: it is the column that moved
