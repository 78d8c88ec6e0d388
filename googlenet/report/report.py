"""The end of a run: curves, a confusion matrix of the best checkpoint, ``report.md`` and
``report.html``."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any, Protocol

from torch.utils.data import Dataset

from ..deploy.optimize import eval_path
from ..evaluate.metrics import EvalReport, top5_text
from ..evaluate.runner import evaluate_predictions
from ..evaluate.tta import TTA
from ..explain.diagram import model_svg
from ..weights.loaded import resolve_model
from .history import best_row, cell, evaluated
from .html import write_html_report
from .plots import plot_confusion, plot_curves


class RunSettings(Protocol):
    """What the report reads of a run's settings: a
    :class:`~googlenet.train.TrainConfig` is one (the trainer sits above this package)."""

    @property
    def model(self) -> str: ...
    @property
    def dataset(self) -> str: ...
    @property
    def tta(self) -> int: ...
    @property
    def fill_mode(self) -> str: ...
    @property
    def precision(self) -> str: ...
    @property
    def eval_batch_size(self) -> int: ...
    @property
    def eval_limit(self) -> int | None: ...
    def to_dict(self) -> dict[str, Any]: ...


class RunEvalData(Protocol):
    """What the report reads of a run's data: a :class:`~googlenet.train.inputs.RunData`
    is one."""

    @property
    def eval(self) -> Dataset[Any]: ...
    @property
    def eval_label(self) -> str: ...


def _table(rows: list[dict[str, float]]) -> str:
    keys = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "val_top5", "lr",
            "images_per_s"]
    if not any("val_top5" in r for r in rows):  # 5 classes or fewer: no top-5
        keys.remove("val_top5")
    head = "| " + " | ".join(keys) + " |\n|" + "---|" * len(keys) + "\n"
    body = "".join("| " + " | ".join(cell(r, k) for k in keys) + " |\n" for r in rows)
    return head + body


def md_text(text: object) -> str:
    """``text`` safe inside a Markdown table cell: HTML-escaped, since Markdown viewers
    render inline HTML (a class named ``<img onerror=...>`` would run), as the HTML pages
    escape it, and ``|`` escaped so that it cannot split the cell."""
    return html.escape(str(text)).replace("|", "\\|")


def _tta_text(ev: EvalReport, lead: str = " with ") -> str:
    """``lead`` + the TTA's description when the evaluation used TTA, else ""."""
    return f"{lead}{ev.views}" if ev.tta else ""


def write_report(run_dir: str | os.PathLike[str], config: dict[str, Any],
                 history: list[dict[str, Any]], evaluation: EvalReport | None = None,
                 eval_label: str = "validation") -> Path:
    """Write ``report.md`` next to the PNGs it links to; returns its path. ``eval_label``
    says what the per-epoch evaluation measured ("test split", "training images ...")."""
    d = Path(run_dir)
    best, rows = best_row(history), evaluated(history)
    every = int(config.get("eval_every", 1))
    lines = [f"# Training report: {md_text(d.name)}", ""]
    if rows:
        last = rows[-1]
        cadence = "each epoch" if every == 1 else f"every {every} epochs and after the last"
        lines += [f"- evaluated {cadence} on: {eval_label}",
                  f"- final accuracy: **{last['val_acc']:.4f}**"
                  f"{top5_text(last.get('val_top5'), ' (top-5 {:.4f})')} after "
                  f"{last['epoch']} epochs, "
                  f"{last['time'] / 60:.1f} min of training",
                  f"- best accuracy: {best['val_acc']:.4f} at epoch {best['epoch']} "
                  "(best.safetensors)", ""]
    if evaluation is not None:
        lines += [f"## Best checkpoint on the {eval_label} ({evaluation.count} images)", "",
                  f"top-1 {evaluation.top1:.4f}{top5_text(evaluation.top5, ', top-5 {:.4f}')}"
                  f"{_tta_text(evaluation)}",
                  "",
                  "| class | accuracy |", "|---|---|"]
        lines += [f"| {md_text(c)} | {a:.4f} |" if a is not None else f"| {md_text(c)} | - |"
                  for c, a in evaluation.per_class.items()]
        lines += ["", "![confusion matrix](confusion.png)", ""]
    lines += ["## Curves", "", "![loss](loss.png) ![accuracy](accuracy.png)", "",
              "![learning rate](lr.png)", "", "## Epochs", "", _table(history),
              "## Config", "", "```json", json.dumps(config, indent=2), "```", ""]
    path = d / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def finish_run(run_dir: str | os.PathLike[str], data: RunEvalData, cfg: RunSettings,
               limit: int | None = None) -> Path:
    """Plots, the best checkpoint's confusion matrix and per-class accuracy, report.md and
    report.html (with sample predictions, the most confident mistakes, the diagram)."""
    d = Path(run_dir)
    best = d / "best.safetensors"
    history = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
    plot_curves(history, d, eval_label=data.eval_label, run_name=d.name)
    # cfg.tta: the run's own fill, so the shifted views fill as its training shifts did.
    tta = TTA(cfg.tta, cfg.fill_mode) if cfg.tta else None
    ev, probs, targets = evaluate_predictions(
        [best], data.eval, crops=1, batch_size=cfg.eval_batch_size,
        inference_path=eval_path(cfg.precision),
        limit=limit or cfg.eval_limit, tta=tta)
    (d / "eval.json").write_text(json.dumps(ev.as_dict(), indent=1), encoding="utf-8")
    plot_confusion(ev.confusion, ev.classes, d / "confusion.png",
                   f"{cfg.model} on {cfg.dataset} ({data.eval_label}{_tta_text(ev, ', ')}): "
                   f"top-1 {ev.top1:.4f}")
    path = write_report(d, cfg.to_dict(), history, ev, data.eval_label)
    write_html_report(d, cfg.to_dict(), history, ev, data.eval_label, probs, targets,
                      lambda i: data.eval[i][0], _diagram(best))
    return path


def _diagram(weights: Path) -> str:
    """The SVG diagram of the model a checkpoint holds, at its input size."""
    loaded = resolve_model(weights, with_weights=False)  # a drawing needs no tensors
    return model_svg(loaded.network, loaded.input_size, title=loaded.describe())
