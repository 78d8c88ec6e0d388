"""PNG figures of a run: loss and accuracy curves, the learning rate, a confusion matrix.

matplotlib is an optional dependency (``pip install googlenet[plot]``) and always runs
with the Agg backend, so plotting works without a display.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import GoogLeNetError
from .history import evaluated


def _pyplot() -> Any:  # the pyplot module (typed as Any: its API is used loosely here)
    try:
        import matplotlib  # optional: the plot extra
    except ImportError:
        raise GoogLeNetError("plots need matplotlib: pip install 'googlenet[plot]'") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt  # optional: the plot extra

    return plt


def _save(fig: Any, path: str | os.PathLike[str]) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return Path(path)


def _epoch_axis(ax: Any, title: str) -> None:  # noqa: ANN401 - a matplotlib Axes
    """Whole-epoch ticks (an epoch is the unit the curves are sampled at) and the title."""
    from matplotlib.ticker import MaxNLocator  # optional: the plot extra

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)


def plot_curves(history: Sequence[dict[str, float]], out_dir: str | os.PathLike[str],
                eval_label: str = "validation", run_name: str = "") -> list[Path]:
    """``loss.png``, ``accuracy.png`` and ``lr.png`` (train vs the per-epoch evaluation,
    named by ``eval_label``), titled with ``run_name``, ticked at whole epochs."""
    plt = _pyplot()
    epochs = [r["epoch"] for r in history]
    out = []
    for key, label in (("loss", "loss"), ("acc", "accuracy")):
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        ax.plot(epochs, [r[f"train_{key}"] for r in history], "o-", label="train")
        rows = evaluated(history)  # every epoch, or every eval_every-th and the last
        ax.plot([r["epoch"] for r in rows], [r[f"val_{key}"] for r in rows], "s-",
                label=eval_label)
        ax.set_ylabel(label)
        _epoch_axis(ax, f"{run_name}: {label}" if run_name else "")
        ax.legend()
        out.append(_save(fig, Path(out_dir) / f"{label}.png"))
    fig, ax = plt.subplots(figsize=(5.5, 3.0))
    ax.plot(epochs, [r["lr"] for r in history], "o-")
    ax.set_ylabel("learning rate (end of epoch)")
    _epoch_axis(ax, f"{run_name}: learning rate" if run_name else "")
    out.append(_save(fig, Path(out_dir) / "lr.png"))
    return out


MAX_LABELLED_CLASSES = 40


# Characters of a 10 pt title that fit one inch of figure (matplotlib's default font).
TITLE_CHARS_PER_INCH = 9


def plot_confusion(confusion: Sequence[Sequence[int]], classes: Sequence[str],
                   path: str | os.PathLike[str], title: str = "") -> Path:
    """A row-normalised confusion matrix (true class down, predicted across) with counts."""
    plt = _pyplot()
    k = len(classes)
    rows = [sum(r) or 1 for r in confusion]
    norm = [[v / rows[i] for v in r] for i, r in enumerate(confusion)]
    # Readable up to ~40 named classes; beyond that (ImageNet's 1000) the matrix is drawn
    # as an image of fixed size: a figure grown per class would take gigabytes.
    side = min(max(4.0, 0.45 * k + 2), 20.0)
    fig, ax = plt.subplots(figsize=(side + 1, side))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
    if k <= MAX_LABELLED_CLASSES:
        ax.set_xticks(range(k), labels=classes, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(k), labels=classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if k <= 20:  # counts stay readable up to about 20 classes
        for i in range(k):
            for j in range(k):
                ax.text(j, i, str(confusion[i][j]), ha="center", va="center", fontsize=6,
                        color="white" if norm[i][j] > 0.5 else "black")
    if title:
        # Wrapped to the figure's width: a small matrix's title ran past both edges.
        ax.set_title("\n".join(textwrap.wrap(title, width=int(TITLE_CHARS_PER_INCH * side))),
                     fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.046)
    return _save(fig, path)
