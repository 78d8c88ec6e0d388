"""Shared test settings: a small thread count so the suite behaves on 2-core CI machines;
a fake terminal; the rule for real data; headless Chromium for the browser tests.

Only tests marked ``realdata`` may need Fashion-MNIST, and only they may skip without it:
they get its folder from the ``fashion_mnist_root`` fixture, which refuses any other
test. Where ``GOOGLENET_REQUIRE_DATA=1`` (CI sets it after installing the data set), a
skipped ``realdata`` test is reported as a failure, whatever made it skip. Browser tests
follow the same rule with ``GOOGLENET_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
import torch

from googlenet.data import find_idx_dataset
from googlenet.errors import DataError

torch.set_num_threads(2)
torch.manual_seed(0)


class FakeTTY(io.StringIO):
    """A text stream that says it is a terminal, so progress bars draw into it."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def fake_tty() -> FakeTTY:
    """A fake terminal; use it as ``with contextlib.redirect_stderr(fake_tty): ...`` in the
    test body (pytest's own capture resets ``sys.stderr`` after fixtures are set up)."""
    return FakeTTY()


REQUIRE_DATA = "GOOGLENET_REQUIRE_DATA"


@pytest.fixture
def fashion_mnist_root(request: pytest.FixtureRequest) -> Path:
    """The folder of Fashion-MNIST's IDX files; skips the test when there is none."""
    if request.node.get_closest_marker("realdata") is None:
        pytest.fail("only tests marked realdata may use Fashion-MNIST (fashion_mnist_root)")
    try:
        return find_idx_dataset("fashion-mnist")
    except DataError as exc:
        pytest.skip(f"{exc}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:  # Any: pluggy's Result, not importable in every version
    """Where the data is required, a skipped realdata test is a failed one."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if (report.skipped and os.environ.get(REQUIRE_DATA) == "1"
            and item.get_closest_marker("realdata") is not None):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (f"{REQUIRE_DATA}=1, so this realdata test must run, but it was "
                           f"skipped: {reason}")


# -- headless Chromium for the browser tests (marker `browser`) ---------------------------

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# The flags that run headless Chromium here with no display, sandbox, GPU or network
# chatter; each call gets a fresh profile folder.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--host-resolver-rules=MAP * ~NOTFOUND")


class Browser:
    """Headless Chromium, driven by its command line (no driver needed)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _run(self, page: Path, *flags: str) -> str:
        with tempfile.TemporaryDirectory() as profile:
            done = subprocess.run([self.path, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                   *flags, page.resolve().as_uri()],
                                  capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def screenshot(self, page: Path, png: Path, width: int = 1280, height: int = 2400) -> Path:
        """A PNG of the page rendered in a ``width`` x ``height`` window."""
        self._run(page, f"--screenshot={png}", f"--window-size={width},{height}")
        return png

    def dom(self, page: Path, *flags: str) -> str:
        """The page's DOM after rendering, serialised; ``flags`` go to Chromium (e.g.
        ``--virtual-time-budget=MS`` to let the page's scripts run first)."""
        return self._run(page, "--dump-dom", *flags)

    @staticmethod
    def assert_not_blank(png: Path) -> None:
        """A rendered page shows something: many colours, and not one flat field."""
        from PIL import Image, ImageStat

        image = Image.open(png).convert("RGB")
        colours = image.getcolors(maxcolors=1 << 20) or []
        assert len(colours) > 200, f"{png}: only {len(colours)} colours: a blank page?"
        assert max(ImageStat.Stat(image).stddev) > 20, f"{png}: a flat image"


@pytest.fixture(scope="session")
def browser() -> Browser:
    """Headless Chromium; skips where it is absent, fails there if CI requires it
    (GOOGLENET_REQUIRE_BROWSER=1, set by .ci/run after installing it)."""
    path = os.environ.get("GOOGLENET_CHROMIUM") or next(
        (p for p in map(shutil.which, BROWSERS) if p), None)
    if path is None:
        if os.environ.get("GOOGLENET_REQUIRE_BROWSER") == "1":
            pytest.fail("GOOGLENET_REQUIRE_BROWSER=1 but no Chromium was found "
                        "(apt-get install chromium, or set GOOGLENET_CHROMIUM)")
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    return Browser(path)
