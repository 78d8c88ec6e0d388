"""MkDocs hook: every tutorial page is also a Jupyter notebook, built from the same Markdown.

The page's executed code blocks (```python exec="on" session=...```) become code cells,
the rest markdown cells. Tutorials show a figure or an SVG diagram with ``show(obj)``:
in the page it is :data:`PAGE_SETUP` (run first in the page's session, never shown), which
prints it as an inline image, so the page needs no other file and no network; in the
notebook it is :data:`NOTEBOOK_SETUP`, which displays it. The notebook sits beside the page
(``tutorials/NN-name.ipynb``), so the page's download link is checked by the strict build
like any other link.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
from mkdocs.structure.files import File, Files

TUTORIALS = re.compile(r"^tutorials/\d\d-[\w-]+\.md$")
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)
# `<!-- benchmarks: HEADING -->` on a line of its own: that section of BENCHMARKS.md (to
# the next heading of its level or above), quoted, so a page states a full run's figures
# without copying them; a heading that is gone fails the build.
BENCHMARKS_REF = re.compile(r"^<!-- benchmarks: (.+?) -->$", re.M)
BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
DOWNLOAD_LINK = re.compile(r"^\[Download this tutorial as a notebook\]\([^)]*\)\n", re.M)
SESSION = re.compile(r'session="([\w-]+)"')
PAGE_SETUP = '''\
import base64, io
import matplotlib
matplotlib.use("Agg")  # no display at build time
import matplotlib.pyplot as plt

def show(obj, caption=""):
    if isinstance(obj, str):
        data, kind = obj.encode(), "svg+xml"
    elif isinstance(obj, bytes):
        data, kind = obj, "png"
    else:
        buf = io.BytesIO()
        obj.savefig(buf, format="png", dpi=80, bbox_inches="tight")
        plt.close(obj)
        data, kind = buf.getvalue(), "png"
    print(f"![{caption}](data:image/{kind};base64,{base64.b64encode(data).decode()})")
'''
NOTEBOOK_SETUP = '''\
# In a notebook, figures, SVG diagrams and PNG files display inline.
import matplotlib.pyplot as plt
from IPython.display import SVG, Image, display


def show(obj, caption=""):
    """A matplotlib figure, an SVG string or PNG bytes, shown in the notebook."""
    if isinstance(obj, str):
        display(SVG(obj))
    elif isinstance(obj, bytes):
        display(Image(data=obj))
    else:
        display(obj)
        plt.close(obj)
'''


def benchmarks_section(heading: str) -> str:
    """The section of BENCHMARKS.md under ``heading`` (its text without the ``#``s),
    in a collapsible note that names where it comes from."""
    lines = BENCHMARKS.read_text(encoding="utf-8").splitlines()
    level, start = next(((len(ln) - len(ln.lstrip("#")), i) for i, ln in enumerate(lines)
                         if ln.startswith("#") and ln.lstrip("#").strip() == heading),
                        (0, -1))
    if start < 0:
        raise ValueError(f"BENCHMARKS.md has no section {heading!r}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")
                and len(lines[i]) - len(lines[i].lstrip("#")) <= level
                and not _in_fence(lines, i)), len(lines))
    body = "\n".join(f"    {ln}" if ln.strip() else "" for ln in lines[start + 1:end])
    return f'??? note "From BENCHMARKS.md: {heading}"\n{body}\n'


def _in_fence(lines: list[str], index: int) -> bool:
    return sum(ln.startswith("```") for ln in lines[:index]) % 2 == 1


def with_benchmarks(markdown: str) -> str:
    """``markdown`` with each ``<!-- benchmarks: HEADING -->`` replaced by that section."""
    return BENCHMARKS_REF.sub(lambda m: benchmarks_section(m.group(1)), markdown)


def notebook(markdown: str) -> str:
    """The tutorial's Markdown as a notebook (JSON text)."""
    cells: list[Any] = [nbformat.v4.new_code_cell(NOTEBOOK_SETUP.rstrip("\n"))]
    prose: list[str] = []

    def flush() -> None:
        # The page's own download link means nothing inside the notebook.
        text = re.sub(r"\n{3,}", "\n\n", DOWNLOAD_LINK.sub("", "".join(prose))).strip()
        if text:
            cells.append(nbformat.v4.new_markdown_cell(text))
        prose.clear()

    pos = 0
    for fence in FENCE.finditer(markdown):
        language, options, code = fence.groups()
        prose.append(markdown[pos:fence.start()])
        pos = fence.end()
        executed = re.search(r'exec="(on|1|true|yes)"', options) is not None
        if not executed or language not in ("python", "sh"):
            prose.append(fence.group(0))
            continue
        flush()
        if language == "sh":  # a shell command runs in a notebook cell as `!command`
            code = "".join(f"!{line}\n" for line in code.splitlines() if line.strip())
        cells.append(nbformat.v4.new_code_cell(code.rstrip("\n")))
    prose.append(markdown[pos:])
    flush()
    # The title first, then the setup cell.
    if len(cells) > 1 and cells[1].cell_type == "markdown":
        cells[0], cells[1] = cells[1], cells[0]
    book = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.validate(book)
    return str(nbformat.writes(book))


def on_files(files: Files, config: Any) -> Files:
    """Adds ``NN-name.ipynb`` beside every tutorial page ``NN-name.md``."""
    for page in list(files.documentation_pages()):
        if TUTORIALS.match(page.src_uri):
            with open(page.abs_src_path or "", encoding="utf-8") as f:
                text = notebook(with_benchmarks(f.read()))
            files.append(File.generated(config, page.src_uri[:-3] + ".ipynb", content=text))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Quotes the BENCHMARKS.md sections a page names; a tutorial page also runs
    :data:`PAGE_SETUP` first, in its own session."""
    markdown = with_benchmarks(markdown)
    if not TUTORIALS.match(page.file.src_uri):
        return markdown
    found = SESSION.search(markdown)
    if found is None:
        raise ValueError(f"{page.file.src_uri}: its code blocks need a session=\"...\"")
    setup = f'```python exec="on" session="{found.group(1)}"\n{PAGE_SETUP}```\n\n'
    return setup + markdown
