"""A dependency-free progress bar: loss, accuracy, images/s and ETA on one line.

It redraws in place only on a terminal; when output goes to a file or a pipe (CI, logs)
it stays quiet and the caller prints one summary line per epoch instead, or, with
``log_every``, it prints its line as a plain line to stdout that often (a long training
epoch in ``make demo > log``). Training,
``eval``, ``predict`` and ``bench`` count steps with :class:`ProgressBar`; ``export`` and
``convert``, a few long steps of unlike length, name them with :class:`StageProgress`;
downloads count bytes with :class:`TransferProgress`.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO, TypeVar

_Bar = TypeVar("_Bar", bound="ProgressBar")


def format_duration(seconds: float) -> str:
    """``75`` -> ``1:15``, ``3725`` -> ``1:02:05``."""
    seconds = max(0, int(round(seconds)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressBar:
    """``bar = ProgressBar(total, "epoch 1/10"); bar.update(batch_size, loss=.., acc=..)``.

    Also a context manager: ``with ProgressBar(n, "eval") as bar: ...`` finishes the
    line even when the work raises, so an error message starts on a line of its own.

    Args:
        total: steps in the pass.
        desc: label printed in front of the bar.
        enabled: draw at all (e.g. only on rank 0); drawing also needs a TTY stream.
        stream: where to draw (stderr by default).
        min_interval: seconds between redraws, so drawing never costs real time.
        log_every: where the bar cannot be drawn (no TTY) but ``enabled``, print its line
            to ``log_stream`` (stdout by default) every this many seconds; 0: never.
    """

    def __init__(self, total: int, desc: str = "", enabled: bool = True,
                 stream: TextIO | None = None, min_interval: float = 0.1,
                 width: int = 24, log_every: float = 0.0,
                 log_stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled and bool(getattr(self.stream, "isatty", lambda: False)())
        self.log_every = log_every if enabled and not self.enabled else 0.0
        self.log_stream = log_stream
        self.total, self.desc, self.width = total, desc, width
        self.min_interval = min_interval
        self.steps = self.images = 0
        self.start = self._last = time.perf_counter()
        self.metrics: dict[str, float] = {}
        self.status = ""
        self._drawn = 0  # length of the last line drawn, to blank what a shorter one leaves

    def update(self, images: int = 0, *, status: str | None = None, **metrics: float) -> None:
        """One step done on ``images`` images (0 where steps are not images);
        ``status`` is a short note on what runs now, ``metrics`` are shown as given."""
        self.steps += 1
        self.images += images
        self.metrics = metrics
        if status is not None:
            self.status = status
        now = time.perf_counter()
        if self.log_every:
            if now - self._last >= self.log_every and self.steps < self.total:
                self._last = now  # the last step is the caller's summary line
                print(self.line(), file=self.log_stream or sys.stdout, flush=True)
        elif now - self._last >= self.min_interval or self.steps == self.total:
            self._last = now
            self._draw()

    def note(self, status: str) -> None:
        """Show ``status`` at once, before a long step that has no updates of its own
        (a compile): the bar would otherwise show what ran before."""
        self.status = status
        self._draw()

    def _draw(self, end: str = "") -> None:
        if not self.enabled:
            return
        text = self.line()
        self.stream.write("\r" + text + " " * max(0, self._drawn - len(text)) + end)
        self.stream.flush()
        self._drawn = 0 if end else len(text)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    @property
    def rate(self) -> float:
        """Images per second so far."""
        return self.images / self.elapsed if self.elapsed > 0 else 0.0

    def _bar(self, done: int) -> str:
        filled = int((done / self.total if self.total else 1.0) * self.width)
        return "[" + "#" * filled + "." * (self.width - filled) + "]"

    def line(self) -> str:
        """The current bar as text."""
        eta = self.elapsed / self.steps * (self.total - self.steps) if self.steps else 0.0
        parts = [self.desc, self._bar(self.steps), f"{self.steps}/{self.total}", self.status,
                 " ".join(f"{k} {v:.4f}" for k, v in self.metrics.items()),
                 f"{self.rate:.0f} img/s" if self.images else "",
                 f"ETA {format_duration(eta)}"]
        return " ".join(p for p in parts if p)

    def close(self) -> None:
        """Finish the line (on a terminal)."""
        self._draw(end="\n")

    def __enter__(self: _Bar) -> _Bar:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class StageProgress(ProgressBar):
    """A few named steps of unlike length (export: fusing, tracing, saving, checking):
    the step running now and the time so far, then each step's time when done. No ETA:
    one step can take a hundred times another, so the mean step says nothing.

    ``with StageProgress(3, "convert") as bar: bar.stage("reading"); ...``
    """

    def __init__(self, total: int, desc: str = "", enabled: bool = True,
                 stream: TextIO | None = None) -> None:
        super().__init__(total, desc, enabled, stream)
        self.times: dict[str, float] = {}
        self.failed = False
        self._since = self.start

    def _finish_stage(self) -> None:
        now = time.perf_counter()
        if self.status:
            self.times[self.status] = now - self._since
        self._since = now

    def stage(self, name: str) -> None:
        """Begin the step ``name`` (ending the one before); drawn at once, since a
        step may run for minutes without another update."""
        self._finish_stage()
        self.steps = len(self.times)
        self.note(name)

    def line(self) -> str:
        """The step running now, or every step's time once closed."""
        if self.status or not self.times:
            return (f"{self.desc} {self._bar(self.steps)} {self.steps}/{self.total} "
                    f"{self.status}... {format_duration(self.elapsed)}")
        took = ", ".join(f"{name} {format_duration(s)}" for name, s in self.times.items())
        verdict = f"failed in {list(self.times)[-1]} after" if self.failed else "done in"
        return (f"{self.desc} {self._bar(self.steps)} {verdict} "
                f"{format_duration(self.elapsed)} ({took})")

    def close(self) -> None:
        """Record the last step and finish the line (on a terminal)."""
        self._finish_stage()
        self.status = ""
        self.steps = len(self.times) - self.failed  # a failed step is not done
        if self.times:  # nothing to report when the work failed before its first step
            super().close()

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.failed = err is not None and bool(self.status)
        self.close()


def format_bytes(count: float) -> str:
    """``1536`` -> ``1.5 KiB``, ``52428800`` -> ``50.0 MiB``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"  # unreachable: the loop returns at GiB


class TransferProgress(ProgressBar):
    """A download: bytes so far of ``total`` (None when the server does not say), the
    rate and the ETA. ``start`` is what an earlier, resumed transfer already holds.

    ``with TransferProgress(size, "googlenet-1378be20.pth") as bar: bar.advance(n)``
    """

    def __init__(self, total: int | None, desc: str = "", start: int = 0,
                 enabled: bool = True, stream: TextIO | None = None) -> None:
        super().__init__(total or 0, desc, enabled, stream)
        self.known = total is not None
        self.first = self.done = start

    def advance(self, nbytes: int) -> None:
        """``nbytes`` more arrived; redrawn at most every ``min_interval`` seconds."""
        self.done += nbytes
        now = time.perf_counter()
        if now - self._last >= self.min_interval:
            self._last = now
            self._draw()

    def line(self) -> str:
        """``name [####....] 12.0 MiB/49.7 MiB 3.1 MiB/s ETA 0:12``."""
        rate = (self.done - self.first) / self.elapsed if self.elapsed > 0 else 0.0
        if not self.known:
            return f"{self.desc} {format_bytes(self.done)} {format_bytes(rate)}/s"
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        return (f"{self.desc} {self._bar(self.done)} {format_bytes(self.done)}/"
                f"{format_bytes(self.total)} {format_bytes(rate)}/s ETA {format_duration(eta)}")
