"""``googlenet diagram``: an SVG drawn from the spec, for every registered model, that
names every block and aux head and expands the block asked for."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from googlenet import create_model, get_model_info, list_models
from googlenet.cli import main
from googlenet.explain.diagram import block_svg, model_svg
from googlenet.models import build_model
from googlenet.recipe import ModelRecipe, TransferRecipe
from googlenet.specs.blocks import BlockSpec, Branch, Conv, Residual

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> tuple[set[str], dict[str, set[str]]]:
    """The drawn texts, and the data-name of the groups of each class."""
    root = ET.fromstring(svg)
    texts = {t.text or "" for t in root.iter(f"{SVG}text")}
    groups: dict[str, set[str]] = {}
    for g in root.iter(f"{SVG}g"):
        for cls in (g.get("class") or "").split():
            groups.setdefault(cls, set()).add(g.get("data-name", ""))
    return texts, groups


def test_googlenet_diagram_names_nine_blocks_and_both_aux_heads(tmp_path, capsys):
    out = tmp_path / "googlenet.svg"
    assert main(["diagram", "googlenet", "--out", str(out)]) == 0
    texts, groups = _parse(out.read_text())
    model = create_model("googlenet")
    blocks = {name for name, _ in model.blocks()}
    assert len(blocks) == 9  # the paper's nine Inception modules, 3a .. 5b
    assert blocks <= texts and groups["block"] == blocks
    assert {a.name for a in model.spec.aux} == {"aux_4a", "aux_4d"} == groups["aux"] <= texts
    # The first block expanded as Figure 2b: its four branches and their kernels.
    assert groups["branch"] == {"branch_1x1", "branch_3x3", "branch_5x5", "branch_pool"}
    assert {"1x1 conv 96", "3x3 conv 128", "5x5 conv 32", "3x3 max pool"} <= texts
    assert "filter concatenation 28x28x256" in texts


@pytest.mark.parametrize("name", list_models())
def test_every_model_draws_its_blocks(name):
    model = create_model(name)
    blocks = [b for b, _ in model.blocks()]
    last = blocks[-1]
    texts, groups = _parse(model_svg(model, get_model_info(name).input_size, block=last))
    assert set(blocks) <= texts and groups["block"] == set(blocks)
    assert groups["branch"] == {b.name for b in getattr(model, last).spec.branches}
    assert groups.get("aux", set()) == set(model.aux_after)


def test_a_residual_block_draws_its_identity_path():
    spec = BlockSpec((Branch("branch_0", (Conv(32, 1, name="branch_0"),)),
                      Branch("branch_1", (Conv(32, 1, name="branch_1.0"),
                                          Conv(32, 3, name="branch_1.1")))),
                     residual=Residual(0.17), label="Inception-ResNet A")
    from googlenet.layers import InceptionBlock

    texts, _ = _parse(block_svg(InceptionBlock(256, spec), "block35", (256, 35, 35),
                                (256, 35, 35)))
    assert {"identity", "x + 0.17 x (1x1 linear conv) > ReLU"} <= texts


def test_a_fine_tuned_model_draws_its_backbone_and_new_head(tmp_path):
    model = build_model(TransferRecipe(ModelRecipe("googlenet_mnist", width=0.25),
                                       "inception_4b", num_classes=3, hidden=64))
    texts, groups = _parse(model_svg(model, 28))
    assert "inception_4b" in groups["block"] and "inception_4c" not in texts
    assert any(t.startswith("new head: global avg pool > flatten > FC 64") for t in texts)


def test_diagram_errors_are_one_line(tmp_path, capsys):
    assert main(["diagram", "googlenet", "--block", "pool3", "--out",
                 str(tmp_path / "x.svg")]) == 2
    err = capsys.readouterr().err.strip()
    assert "not a block" in err and "inception_3a" in err and len(err.splitlines()) == 1
    assert main(["diagram", "googlenet", "--out", str(tmp_path / "no" / "x.svg")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["diagram", "googlenet", "--block", "mixed7", "--out", "-"]) == 2


def test_v3_aux_head_draws_both_its_pools():
    """Inception v3's side head starts with a 5x5/3 average pool and pools globally before
    its classifier (torchvision's InceptionAux); the diagram says both."""
    model = create_model("inception_v3", aux_logits=True)
    texts, _ = _parse(model_svg(model, 299))
    head = next(t for t in texts if "conv 768" in t)
    assert head.startswith("5x5/3 avg pool > 1x1 conv 128 > 5x5 conv 768 > global avg pool")
