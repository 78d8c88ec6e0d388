"""Figures and a Markdown report of a training run."""

from __future__ import annotations

from .plots import plot_confusion, plot_curves
from .report import finish_run, write_report

__all__ = ["finish_run", "plot_confusion", "plot_curves", "write_report"]
