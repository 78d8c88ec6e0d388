"""``googlenet explain``: the page's content for every registered family, random weights
said out loud, a backbone without classifier, one-line errors, and no network needed."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from html_pages import parse
from PIL import Image

from googlenet import get_model_info, list_models
from googlenet.cli import main
from googlenet.explain.html import render_explain_page
from googlenet.explain.page import ExplainOptions, explain_image
from googlenet.weights.loaded import resolve_model

FAST = ExplainOptions(topk=3, maps=2, ig_steps=1)


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("photos") / "photo.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)).save(path)
    return path


@pytest.mark.parametrize("name", list_models())
def test_every_family_is_explained_block_by_block(name, photo):
    info = get_model_info(name)
    size = info.input_size if info.spec.fixed_input_size else max(info.min_input_size, 32)
    subject = resolve_model(name).at_input_size(size)
    item = explain_image(subject, photo, FAST)
    blocks = [b for b, _ in subject.features.blocks()]
    assert [v.name for v in item.blocks] == blocks
    for view in item.blocks:
        for what in ("channels", "macs", "params", "energy"):
            assert sum(view.shares(what)) == pytest.approx(1.0)
        # Each branch's feature name is the model's name for that branch (what
        # forward_intermediates reads: tests/models/test_named_features.py).
        widths = subject.features.branch_info()
        assert [widths[view.feature(b)] for b in view.branches] == \
            [b.channels for b in view.branches]
    if info.num_classes:
        assert len(item.top) == FAST.topk and item.cams[0].layer == blocks[-1]
    else:  # FaceNet's form returns an embedding: no class to explain, blocks still shown
        assert not item.top and not item.cams
    html = render_explain_page(subject, [item], "<svg></svg>", FAST)
    page = parse(html)
    assert page.attribute("block", "data-block") == blocks and 'id="random-weights"' in html


def test_cli_page_for_googlenet_is_self_contained(photo, tmp_path, capsys):
    out = tmp_path / "page"
    assert main(["explain", str(photo), str(photo), "--model", "googlenet", "--input-size",
                 "64", "--layer", "inception_4c.branch_5x5", "--layer", "inception_3a",
                 "--maps", "2", "--ig-steps", "1", "--out", str(out)]) == 0
    html = (out / "explain.html").read_text()
    page = parse(html)
    assert len(page.attribute("image", "data-image")) == 2
    assert len(page.attribute("block", "data-block")) == 2 * 9
    # Self-contained: every image is inline, nothing is fetched.
    assert page.refs and all(r.startswith("data:image/png;base64,") for r in page.refs)
    assert not re.search(r"(src|href)=\"(https?:)?//", html) and "<script" not in html
    for caption in ("Grad-CAM at inception_5b", "Grad-CAM at inception_4c.branch_5x5",
                    "Grad-CAM at inception_3a", "integrated gradients on the pixels"):
        assert caption in html
    assert "22 layers with parameters, 27 counting pooling" in html
    assert str(out / "explain.html") in capsys.readouterr().out


def test_a_backbone_without_classifier_shows_its_blocks(photo):
    # as a Keras "notop" file
    subject = replace(resolve_model("googlenet_mnist").at_input_size(28), classes=())
    item = explain_image(subject, photo, FAST)
    assert item.blocks and not item.cams and item.attribution is None
    assert "no classifier" in render_explain_page(subject, [item], "", FAST)


def test_explain_errors_are_one_line(photo, tmp_path, capsys):
    args = ["explain", str(photo), "--model", "googlenet_mnist", "--out", str(tmp_path)]
    assert main([*args, "--layer", "inception_3a.branch_9x9"]) == 2
    assert "branches of inception_3a" in capsys.readouterr().err
    assert main(["explain", str(tmp_path / "missing.png"), "--model", "googlenet"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["explain", str(photo), "--model", "inception_a_net", "--input-size", "64"]) == 2
    assert "exactly 28x28" in capsys.readouterr().err
    (tmp_path / "taken").write_text("")
    assert main(["explain", str(photo), "--model", "googlenet", "--out",
                 str(tmp_path / "taken")]) == 2
    assert "cannot make the output folder" in capsys.readouterr().err
