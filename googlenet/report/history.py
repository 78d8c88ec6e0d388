"""Reading a run's history (``metrics.json``: one row per epoch). Only the epochs the run
evaluated (``TrainConfig.eval_every``) have the ``val_*`` columns."""

from __future__ import annotations

from collections.abc import Sequence


def evaluated(history: Sequence[dict[str, float]]) -> list[dict[str, float]]:
    """The rows of the epochs that were evaluated, in order."""
    return [row for row in history if "val_acc" in row]


def best_row(history: Sequence[dict[str, float]]) -> dict[str, float]:
    """The evaluated epoch with the highest accuracy (the first of equals), or {}."""
    rows = evaluated(history)
    return max(rows, key=lambda r: r["val_acc"]) if rows else {}


def cell(row: dict[str, float], key: str) -> str:
    """One table cell: 4 significant digits, "-" where the epoch has no such value."""
    value = row.get(key)
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)
