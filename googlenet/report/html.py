"""``report.html``: a run as a page to look at, beside ``report.md``.

Curves, the confusion matrix, the per-class table, a grid of evaluated images with their
predictions, the most confidently wrong ones, and the model's diagram. Self-contained
(:mod:`googlenet.html_page`): the PNG figures of the run folder and the thumbnails
are inline, so the page can be mailed or moved alone.

Sections a browser test (and a reader) can find by id: ``curves``, ``confusion``,
``per-class``, ``samples``, ``wrong``, ``architecture``, ``epochs``, ``config``.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path

import torch

from ..atomic import atomic_path
from ..evaluate.metrics import EvalReport, top5_text
from ..explain.render import data_uri, to_rgb, upscale
from ..html_page import bar, document, figure
from .history import best_row, cell

SAMPLES, WRONG, THUMB = 24, 12, 96  # images in the grid, mistakes shown, thumbnail pixels
CURVES = ("loss.png", "accuracy.png", "lr.png")

CSS = """
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(112px, 1fr)); gap: 10px; }
.grid figure { border: 2px solid #ccc; border-radius: 6px; padding: 4px; background: #fff; }
.grid figure.right { border-color: #3c9a5f; } .grid figure.wrong { border-color: #c8453b; }
.grid img { width: 96px; height: 96px; image-rendering: pixelated; display: block; }
img.plot { max-width: 100%; border: 1px solid #ddd; }
#curves img.plot { max-width: 540px; }
"""

ImageAt = Callable[[int], torch.Tensor]
"""Index in the evaluated dataset -> its uint8 (C, H, W) image."""


def spread_indices(count: int, total: int) -> list[int]:
    """``count`` indices evenly spread over ``range(total)``."""
    n = min(count, total)
    return [i * total // n for i in range(n)] if n else []


def confident_mistakes(probs: torch.Tensor, targets: torch.Tensor, count: int) -> list[int]:
    """Indices of wrong predictions, the most confident first."""
    top, pred = probs.max(1)
    wrong = (pred != targets).nonzero().flatten()
    order = top[wrong].argsort(descending=True)
    return wrong[order][:count].tolist()


def _png_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _plots(run_dir: Path, names: Sequence[str]) -> str:
    images = "".join(f'<img class="plot" src="{_png_uri(run_dir / n)}" alt="{escape(n)}">'
                     for n in names if (run_dir / n).is_file())
    return f'<div class="row">{images}</div>'



def _thumbs(indices: list[int], probs: torch.Tensor, targets: torch.Tensor,
            classes: Sequence[str], image_at: ImageAt) -> str:
    cells = []
    for i in indices:
        p, pred = probs[i].max(0)
        truth = int(targets[i])
        ok = int(pred) == truth
        thumb = upscale(to_rgb(image_at(i)), THUMB, THUMB, smooth=False)
        caption = (f"#{i}: {classes[int(pred)]} ({float(p):.0%})"
                   + ("" if ok else f", truly {classes[truth]}"))
        cells.append(figure(data_uri(thumb), caption, "thumb", "right" if ok else "wrong"))
    return '<div class="grid">' + "".join(cells) + "</div>"


def _per_class(ev: EvalReport) -> str:
    rows = []
    for i, (name, acc) in enumerate(ev.per_class.items()):
        count = sum(ev.confusion[i])
        shown = "-" if acc is None else f"{acc:.1%}"
        rows.append(f'<tr><td>{escape(name)}</td><td class="num">{count}</td>'
                    f'<td class="num">{shown}</td><td>{bar(acc or 0.0)}</td></tr>')
    return ("<table><tr><th>class</th><th>images</th><th colspan=\"2\">accuracy</th></tr>"
            + "".join(rows) + "</table>")


def _epochs(history: list[dict[str, float]]) -> str:
    keys = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr"]
    head = "".join(f"<th>{k}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f'<td class="num">{cell(r, k)}</td>' for k in keys)
                   + "</tr>" for r in history)
    return f"<table><tr>{head}</tr>{body}</table>"


def _section(key: str, title: str, body: str) -> str:
    return f'<section class="card" id="{key}"><h2>{escape(title)}</h2>{body}</section>'


def render_report(run_dir: Path, config: dict[str, object], history: list[dict[str, float]],
                  ev: EvalReport, eval_label: str, probs: torch.Tensor, targets: torch.Tensor,
                  image_at: ImageAt, diagram: str) -> str:
    """The page (see the module docstring)."""
    name = run_dir.name
    best = best_row(history)
    lead = (f"<p>{len(history)} epochs; evaluated on {escape(eval_label)}. Best checkpoint "
            f"(epoch {best.get('epoch', '-')}): top-1 <b>{ev.top1:.2%}</b>"
            f"{top5_text(ev.top5, ', top-5 {:.2%}')} on {ev.count} images"
            f"{escape(' with ' + ev.views) if ev.tta else ''}.</p>" if history else "")
    samples = spread_indices(SAMPLES, len(targets))
    mistakes = confident_mistakes(probs, targets, WRONG)
    wrong = (_thumbs(mistakes, probs, targets, ev.classes, image_at) if mistakes
             else "<p>No evaluated image was misclassified.</p>")
    body = "".join([
        f"<h1>Training report: {escape(name)}</h1>{lead}",
        _section("curves", f"Curves of {name}", _plots(run_dir, CURVES)),
        _section("confusion", "Confusion matrix", _plots(run_dir, ["confusion.png"])),
        _section("per-class", "Per-class accuracy", _per_class(ev)),
        _section("samples", f"Sample predictions ({len(samples)} evaluated images, evenly "
                 "spread; green right, red wrong)",
                 _thumbs(samples, probs, targets, ev.classes, image_at)),
        _section("wrong", "Most confidently wrong", wrong),
        _section("architecture", "The model", f'<div class="diagram">{diagram}</div>'),
        _section("epochs", "Epochs", _epochs(history)),
        _section("config", "Config", f"<pre>{escape(json.dumps(config, indent=2))}</pre>"),
    ])
    return document(f"Training report: {name}", CSS, body)


def write_html_report(run_dir: str | os.PathLike[str], config: dict[str, object],
                      history: list[dict[str, float]], ev: EvalReport, eval_label: str,
                      probs: torch.Tensor, targets: torch.Tensor, image_at: ImageAt,
                      diagram: str) -> Path:
    """Write ``report.html`` into the run folder (atomically); returns its path."""
    d = Path(run_dir)
    html = render_report(d, config, history, ev, eval_label, probs, targets, image_at, diagram)
    path = d / "report.html"
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return path
