"""The package's HTML pages and the pieces each is made of: one base style, a document
shell, figures and bars, shared by the explain page (:mod:`googlenet.explain.html`) and
the training report (:mod:`googlenet.report.html`). Pages are self-contained: inline
CSS, inline SVG, images as data URIs, no script, nothing fetched."""

from __future__ import annotations

from html import escape

BASE_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; color: #1d1d1f; margin: 0; background: #fafafa; }
main { max-width: 1180px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 24px; margin: 8px 0 4px; } h2 { font-size: 19px; margin: 28px 0 8px; }
h3 { font-size: 16px; margin: 18px 0 6px; } h4 { font-size: 15px; margin: 4px 0; }
.meta { color: #555; } code, pre { font-size: 13px; }
.warning { background: #fff3cd; border: 1px solid #e0b84c; padding: 8px 12px; border-radius: 6px; }
section.card { background: #fff; border: 1px solid #ddd; border-radius: 8px;
  padding: 8px 20px 16px; margin: 18px 0; }
.row { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
figure { margin: 0; } figcaption { font-size: 12px; color: #555; max-width: 260px; }
table { border-collapse: collapse; margin: 6px 0; }
td, th { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: inline-block; height: 10px; background: #3b73c4; vertical-align: middle; }
.diagram { overflow-x: auto; }
"""


def bar(share: float, cls: str = "", width: int = 120) -> str:
    """A horizontal bar ``share`` (0..1) of ``width`` pixels long."""
    return f'<span class="bar {cls}" style="width:{max(share, 0.0) * width:.0f}px"></span>'


def figure(uri: str, caption: str, cls: str = "view", frame: str = "") -> str:
    """An inline image (class ``cls``) with its caption, in a figure of class ``frame``."""
    klass = f' class="{frame}"' if frame else ""
    return (f'<figure{klass}><img class="{cls}" src="{uri}" alt="{escape(caption)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def document(title: str, css: str, body: str) -> str:
    """A whole page: the base style, the page's own ``css``, and ``body`` inside main."""
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{BASE_CSS}{css}</style></head>"
            f"<body><main>{body}</main></body></html>\n")
