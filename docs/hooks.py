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
from typing import Any

import nbformat
from mkdocs.structure.files import File, Files

TUTORIALS = re.compile(r"^tutorials/\d\d-[\w-]+\.md$")
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)
SESSION = re.compile(r'session="([\w-]+)"')
PAGE_SETUP = '''\
import base64, io
import matplotlib
matplotlib.use("Agg")  # no display at build time
import matplotlib.pyplot as plt

def show(obj, caption=""):
    if isinstance(obj, str):
        data, kind = obj.encode(), "svg+xml"
    else:
        buf = io.BytesIO()
        obj.savefig(buf, format="png", dpi=80, bbox_inches="tight")
        plt.close(obj)
        data, kind = buf.getvalue(), "png"
    print(f"![{caption}](data:image/{kind};base64,{base64.b64encode(data).decode()})")
'''
NOTEBOOK_SETUP = '''\
# In a notebook, figures and SVG diagrams display inline.
import matplotlib.pyplot as plt
from IPython.display import SVG, display


def show(obj, caption=""):
    """A matplotlib figure or an SVG string, shown in the notebook."""
    display(SVG(obj) if isinstance(obj, str) else obj)
    if not isinstance(obj, str):
        plt.close(obj)
'''


def notebook(markdown: str) -> str:
    """The tutorial's Markdown as a notebook (JSON text)."""
    cells: list[Any] = [nbformat.v4.new_code_cell(NOTEBOOK_SETUP.rstrip("\n"))]
    prose: list[str] = []

    def flush() -> None:
        text = "".join(prose).strip()
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
                text = notebook(f.read())
            files.append(File.generated(config, page.src_uri[:-3] + ".ipynb", content=text))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """A tutorial page runs :data:`PAGE_SETUP` first, in its own session."""
    if not TUTORIALS.match(page.file.src_uri):
        return markdown
    found = SESSION.search(markdown)
    if found is None:
        raise ValueError(f"{page.file.src_uri}: its code blocks need a session=\"...\"")
    setup = f'```python exec="on" session="{found.group(1)}"\n{PAGE_SETUP}```\n\n'
    return setup + markdown
