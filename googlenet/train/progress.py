"""A dependency-free progress bar: loss, accuracy, images/s and ETA on one line.

It redraws in place only on a terminal; when output goes to a file or a pipe (CI, logs)
it stays quiet and the caller prints one summary line per epoch instead.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def format_duration(seconds: float) -> str:
    """``75`` -> ``1:15``, ``3725`` -> ``1:02:05``."""
    seconds = max(0, int(round(seconds)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressBar:
    """``bar = ProgressBar(total, "epoch 1/10"); bar.update(batch_size, loss=.., acc=..)``.

    Args:
        total: steps in the pass.
        desc: label printed in front of the bar.
        enabled: draw at all (e.g. only on rank 0); drawing also needs a TTY stream.
        stream: where to draw (stderr by default).
        min_interval: seconds between redraws, so drawing never costs real time.
    """

    def __init__(self, total: int, desc: str = "", enabled: bool = True,
                 stream: TextIO | None = None, min_interval: float = 0.1,
                 width: int = 24) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled and bool(getattr(self.stream, "isatty", lambda: False)())
        self.total, self.desc, self.width = total, desc, width
        self.min_interval = min_interval
        self.steps = self.images = 0
        self.start = self._last = time.perf_counter()
        self.metrics: dict[str, float] = {}

    def update(self, images: int, **metrics: float) -> None:
        """One step done on ``images`` images; ``metrics`` are shown as given."""
        self.steps += 1
        self.images += images
        self.metrics = metrics
        now = time.perf_counter()
        if self.enabled and (now - self._last >= self.min_interval or self.steps == self.total):
            self._last = now
            self.stream.write("\r" + self.line())
            self.stream.flush()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    @property
    def rate(self) -> float:
        """Images per second so far."""
        return self.images / self.elapsed if self.elapsed > 0 else 0.0

    def line(self) -> str:
        """The current bar as text."""
        frac = self.steps / self.total if self.total else 1.0
        filled = int(frac * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        eta = self.elapsed / self.steps * (self.total - self.steps) if self.steps else 0.0
        shown = " ".join(f"{k} {v:.4f}" for k, v in self.metrics.items())
        return (f"{self.desc} [{bar}] {self.steps}/{self.total} {shown} "
                f"{self.rate:.0f} img/s ETA {format_duration(eta)}")

    def close(self) -> None:
        """Finish the line (on a terminal)."""
        if self.enabled:
            self.stream.write("\r" + self.line() + "\n")
            self.stream.flush()
