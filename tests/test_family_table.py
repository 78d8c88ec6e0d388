"""The README's family table is ``googlenet list --markdown``'s output, figure for figure."""

from __future__ import annotations

import json
from pathlib import Path

from googlenet import get_model_info
from googlenet.cli import main
from googlenet.family import family_row

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_table_is_the_commands_output(capsys):
    assert main(["list", "--markdown"]) == 0
    table = capsys.readouterr().out.strip()
    assert table.count("\n") == len(json.loads(_list_json(capsys))) + 1
    assert table in README.read_text(), (
        "README's family table differs from `googlenet list --markdown`: paste its output")


def _list_json(capsys) -> str:
    assert main(["list", "--json"]) == 0
    return capsys.readouterr().out


def test_rows_match_the_published_counts():
    # Published figures: torchvision's GoogLeNet (1.50 GMACs) and Inception v3 (5.71),
    # timm's inception_v4 (12.28 GMACs) and inception_resnet_v2 (13.16).
    for name, gmacs in {"googlenet_bn": 1.50, "inception_v3": 5.71, "inception_v4": 12.28,
                        "inception_resnet_v2": 13.16}.items():
        row = family_row(name)
        assert abs(row.macs / 1e9 - gmacs) / gmacs < 0.01, (name, row.macs)
        assert row.params == get_model_info(name).num_params
    assert family_row("googlenet").weights == ("caffe",)
    assert family_row("googlenet_mnist").weights == ()


def test_markdown_and_json_are_exclusive(capsys):
    assert main(["list", "--markdown", "--json"]) == 2
    assert "--json" in capsys.readouterr().err
