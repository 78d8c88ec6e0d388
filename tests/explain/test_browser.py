"""The explain page in a real browser (headless Chromium): it renders, it is not blank,
and its DOM holds a section for every block of the model, for every image."""

from __future__ import annotations

import numpy as np
import pytest
from html_pages import parse
from PIL import Image

from googlenet import create_model
from googlenet.cli import main

pytestmark = pytest.mark.browser


def test_explain_page_renders_with_a_section_per_block(browser, tmp_path):
    rng = np.random.default_rng(1)
    photo = tmp_path / "photo.png"
    Image.fromarray(rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)).save(photo)
    assert main(["explain", str(photo), "--model", "googlenet", "--input-size", "64",
                 "--maps", "2", "--ig-steps", "1", "--out", str(tmp_path / "out")]) == 0
    page = tmp_path / "out" / "explain.html"
    shot = browser.screenshot(page, tmp_path / "explain.png")
    browser.assert_not_blank(shot)
    dom = parse(browser.dom(page))
    blocks = [name for name, _ in create_model("googlenet").blocks()]
    assert dom.attribute("image", "data-image") == [str(photo)]
    assert dom.attribute("block", "data-block") == blocks
    assert all(r.startswith("data:image/png;base64,") for r in dom.refs)
