"""The documentation site as a reader gets it: the pages `make docs` built into site/.

Offline: no page references an http(s) resource (scripts, styles, images, fonts); every
image loads (inline data or a file of the site); every tutorial has its notebook. In
headless Chromium (marker ``browser``): the home page, tutorial 1 and tutorial 6 render
non-blank, their images decode, and they request nothing from the network.

These need a built site: they skip without one, and fail instead where
``GOOGLENET_REQUIRE_DOCS=1`` (.ci/run sets it after `make docs`, which it runs first). The
notebook conversion of docs/hooks.py is tested on its own, without a site.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
REQUIRE_DOCS = "GOOGLENET_REQUIRE_DOCS"
PAGES = ("index.html", "tutorials/01-inception-module.html", "tutorials/06-see-inside.html")
REMOTE = re.compile(r"^(https?:)?//", re.I)


@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE / "index.html").is_file():
        if os.environ.get(REQUIRE_DOCS) == "1":
            pytest.fail(f"{REQUIRE_DOCS}=1 but {SITE} holds no built site (run `make docs`)")
        pytest.skip("no built site: run `make docs` first")
    return SITE


def resources(html: str) -> list[str]:
    """What the page loads: every src, and the href of each <link> (styles, icons)."""
    found = re.findall(r'<(?:img|script|source|iframe|embed|audio|video)\b[^>]*?\ssrc="([^"]*)"',
                       html, re.I)
    found += re.findall(r'<link\b[^>]*?\shref="([^"]*)"', html, re.I)
    found += re.findall(r"url\(\s*['\"]?(https?:[^'\")]*)", html, re.I)
    return found


def image_sources(html: str) -> list[str]:
    return re.findall(r'<img\b[^>]*?\ssrc="([^"]*)"', html, re.I)


def check_image(page: Path, src: str) -> None:
    """The image ``src`` of ``page`` decodes: inline data, or a file of the site."""
    if src.startswith("data:"):
        head, _, data = src.partition(",")
        raw = base64.b64decode(data)
        if "svg" in head:
            assert raw.lstrip().startswith(b"<svg") or b"<svg" in raw[:500], f"{page}: bad SVG"
            return
        Image.open(io.BytesIO(raw)).verify()
        return
    target = (page.parent / src.split("#")[0]).resolve()
    assert target.is_file(), f"{page}: image {src} is not in the site"
    if target.suffix != ".svg":
        Image.open(target).verify()


def test_no_page_loads_anything_from_the_network(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 12
    for page in pages:
        remote = [r for r in resources(page.read_text(encoding="utf-8")) if REMOTE.match(r)]
        assert not remote, f"{page.relative_to(site)} loads {remote[:3]}"
    # The theme's own styles bring no web fonts (theme.font: false).
    for css in site.rglob("*.css"):
        assert not re.search(r"@import\s+url\(['\"]?https?:", css.read_text(encoding="utf-8"))


def test_every_image_of_every_page_loads(site):
    for page in sorted(site.rglob("*.html")):
        for src in image_sources(page.read_text(encoding="utf-8")):
            check_image(page, src)


def test_every_figure_a_tutorial_shows_is_in_its_page(site):
    for md in sorted((ROOT / "docs" / "tutorials").glob("[0-9][0-9]-*.md")):
        shown = len(re.findall(r"(?<![\w.])show\(", md.read_text(encoding="utf-8")))
        html = (site / "tutorials" / f"{md.stem}.html").read_text(encoding="utf-8")
        assert len(image_sources(html)) == shown, f"{md.stem}: {shown} figures shown"


def test_each_tutorial_ran_and_has_its_notebook(site):
    nbformat = pytest.importorskip("nbformat")
    tutorials = sorted((ROOT / "docs" / "tutorials").glob("[0-9][0-9]-*.md"))
    assert len(tutorials) == 7
    for md in tutorials:
        html = (site / "tutorials" / f"{md.stem}.html").read_text(encoding="utf-8")
        assert f'href="{md.stem}.ipynb"' in html, f"{md.stem}: no notebook link"
        assert "Traceback" not in html, f"{md.stem}: a code block failed"
        book = nbformat.read(site / "tutorials" / f"{md.stem}.ipynb", as_version=4)
        nbformat.validate(book)
        code = [c.source for c in book.cells if c.cell_type == "code"]
        assert len(code) >= 3 and "def show(" in code[0]


def test_the_reference_pages_are_generated(site):
    cli = (site / "reference" / "cli.html").read_text(encoding="utf-8")
    for command in ("train", "finetune", "summary", "explain", "bench", "export"):
        assert f"googlenet {command}" in cli
    models = (site / "reference" / "models.html").read_text(encoding="utf-8")
    assert "<table>" in models and "inception_resnet_v2" in models
    api = (site / "reference" / "api.html").read_text(encoding="utf-8")
    for name in ("create_model", "load_model", "TrainConfig", "Predictor", "grad_cam",
                 "reduction_cost"):
        assert name in api


# -- docs/hooks.py: a tutorial page as a notebook -----------------------------------------

def load_hooks():
    pytest.importorskip("mkdocs")
    pytest.importorskip("nbformat")
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_page_becomes_a_notebook_of_its_executed_blocks():
    hooks = load_hooks()
    page = ('# Title\n\nSome text.\n\n```python exec="on" session="t"\nx = 1\n```\n\n'
            '```sh exec="on"\ngooglenet list\n```\n\n```sh\nnot run\n```\n\nEnd.\n')
    book = json.loads(hooks.notebook(page))
    kinds = [(c["cell_type"], "".join(c["source"])) for c in book["cells"]]
    assert kinds[0] == ("markdown", "# Title\n\nSome text.")
    assert kinds[1][0] == "code" and "def show(" in kinds[1][1]
    assert kinds[2:] == [("code", "x = 1"), ("code", "!googlenet list"),
                         ("markdown", "```sh\nnot run\n```\n\nEnd.")]


def test_a_benchmarks_reference_quotes_that_section_and_a_missing_one_fails():
    hooks = load_hooks()
    text = hooks.with_benchmarks("<!-- benchmarks: What each trick adds (ablation) -->")
    assert text.startswith('??? note "From BENCHMARKS.md: What each trick adds (ablation)"')
    assert "| the preset (all of it) |" in text
    with pytest.raises(ValueError, match="no section"):
        hooks.with_benchmarks("<!-- benchmarks: No such heading -->")


# -- in the browser -----------------------------------------------------------------------

CHECK = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (i) { return !i.complete || i.naturalWidth === 0; });
  var remote = performance.getEntriesByType("resource").map(function (e) { return e.name; })
    .filter(function (n) { return /^https?:/i.test(n); });
  var names = broken.map(function (i) { return i.alt || i.src.slice(0, 40); });
  // A figure is an image or an inline SVG drawing in the page's article (diagrams are SVG).
  var figures = document.querySelectorAll("article img, article svg").length;
  document.body.setAttribute("data-check", JSON.stringify(
    {images: images.length, figures: figures, broken: names, remote: remote}));
});
</script>"""


@pytest.mark.browser
@pytest.mark.parametrize("name", PAGES)
def test_the_page_renders_offline_in_a_browser(browser, site, name, tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    page = copy / name
    html = page.read_text(encoding="utf-8")
    page.write_text(html.replace("</body>", CHECK + "</body>"), encoding="utf-8")
    browser.assert_not_blank(browser.screenshot(page, tmp_path / "page.png"))
    dom = browser.dom(page, "--virtual-time-budget=10000")
    found = re.search(r'data-check="([^"]*)"', dom)
    assert found, f"{name}: the page's load event never came"
    check = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert check["broken"] == [], f"{name}: images that did not load: {check['broken']}"
    assert check["remote"] == [], f"{name}: network requests: {check['remote']}"
    if name.startswith("tutorials/"):
        assert check["figures"] >= 2, f"{name}: only {check['figures']} figures"
    assert not [r for r in resources(dom) if REMOTE.match(r)], f"{name}: remote resources"
