"""The learner's numbers: receptive fields, the paper's layer count, naive vs reduced
blocks, and the ``summary`` columns and option that show them."""

from __future__ import annotations

import json

import pytest

from googlenet import create_model, list_models
from googlenet.cli import main
from googlenet.cost import model_table
from googlenet.explain.anatomy import (
    branch_scale,
    compare_naive,
    layer_count,
    naive_block,
    receptive_fields,
)
from googlenet.specs.googlenet import GOOGLENET_NAIVE, TABLE1, table1_block

# Receptive fields of the released networks' last feature maps, as published with
# google-research/receptive_field (Araujo, Norris & Sim, "Computing Receptive Fields of
# Convolutional Neural Networks", Distill 2019). Checked for those registered here.
PUBLISHED_RF = {"inception_v3": 1311, "inception_v4": 2071, "inception_resnet_v2": 3039}


def test_googlenet_is_22_layers_deep_27_with_pooling(capsys):
    # Section 5: "22 layers deep when counting only layers with parameters (or 27 layers
    # if we also count pooling)".
    assert layer_count(create_model("googlenet").spec).text() == \
        "22 layers with parameters, 27 counting pooling"
    assert main(["summary", "googlenet"]) == 0
    assert "22 layers with parameters, 27 counting pooling" in capsys.readouterr().out
    assert main(["summary", "googlenet", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["layers_with_params"], out["layers_with_pooling"]) == (22, 27)


@pytest.mark.parametrize("name", sorted(set(PUBLISHED_RF) & set(list_models())))
def test_receptive_field_matches_the_published_one(name):
    model = create_model(name, aux_logits=False)
    last = model.feature_names[-1]
    assert receptive_fields(model)[last].size == (PUBLISHED_RF[name],) * 2


def test_receptive_fields_grow_and_branches_see_their_kernel():
    model = create_model("googlenet", aux_logits=False)
    fields = receptive_fields(model)
    sizes = [fields[n].size[0] for n in model.feature_names]
    assert sizes == sorted(sizes) and sizes[0] == TABLE1[0].patch  # conv1: its 7x7
    block = model.inception_3a
    # 1x1 | 1x1 > 3x3 | 1x1 > 5x5 | 3x3 pool > 1x1: the scales Figure 2 draws.
    assert [branch_scale(block, i).text() for i in range(4)] == ["1", "3", "5", "3"]
    v3 = create_model("inception_v3", aux_logits=False)
    scales = {b.name: branch_scale(v3.mixed4, i).text()
              for i, b in enumerate(v3.mixed4.spec.branches)}
    # 1x1 > 1x7 > 7x1 is a 7x7 view; the double chain two of them.
    assert scales["branch7x7"] == "7" and scales["branch7x7dbl"] == "13"


def test_summary_has_a_receptive_field_column(capsys):
    assert main(["summary", "googlenet", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    model = create_model("googlenet", aux_logits=False)
    fields = receptive_fields(model)
    assert rows["inception_5b"]["receptive_field"] == fields["inception_5b"].text()
    assert rows["conv2"]["receptive_field"] == fields["conv2_norm"].text()
    assert rows["avgpool"]["receptive_field"] == "all"
    assert main(["summary", "inception_v3"]) == 0
    header = next(ln for ln in capsys.readouterr().out.splitlines()
                  if ln.startswith("name ")).split()
    assert header.index("RF") == header.index("params") - 1


def test_naive_block_is_figure_2a():
    row = next(r for r in TABLE1 if r.name == "inception_3a")
    naive_row = next(r for r in GOOGLENET_NAIVE.rows if r.name == "inception_3a")
    # The same ops (module names aside: "branch_3x3.conv" stays where it was built).
    assert naive_block(table1_block(row)).describe() == table1_block(naive_row).describe()
    # A block without reductions is its own naive form.
    assert naive_block(table1_block(naive_row)) == table1_block(naive_row)


def test_compare_naive_agrees_with_the_naive_network(capsys):
    # googlenet_naive is Table 1 built with naive blocks: its blocks, measured in their own
    # network, must cost what compare_naive says each googlenet block would.
    model = create_model("googlenet", aux_logits=False)
    naive_net = {r.name: r for r in model_table(create_model("googlenet_naive"))}
    reduced_net = {r.name: r for r in model_table(model)}
    rows = compare_naive(model, 224)
    assert [r.name for r in rows] == [n for n, _ in model.blocks()]
    for r in rows:
        assert (r.naive_params, r.naive_macs) == (naive_net[r.name].params,
                                                  naive_net[r.name].macs)
        assert (r.params, r.macs) == (reduced_net[r.name].params, reduced_net[r.name].macs)
        assert r.mac_ratio > 1
    assert main(["summary", "googlenet", "--compare", "naive", "--json"]) == 0
    blocks = json.loads(capsys.readouterr().out)["blocks"]
    assert [b["naive_macs"] for b in blocks] == [r.naive_macs for r in rows]
    assert main(["summary", "googlenet_naive", "--compare", "naive"]) == 0
    text = capsys.readouterr().out
    line = next(ln for ln in text.splitlines() if ln.startswith("inception_4a"))
    assert line.split()[-1] == "1.0" and "Figure 2a" in text
