"""Shared test settings: small thread count so the suite behaves on 2-core CI machines;
a fake terminal; headless Chromium for the browser tests."""

import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import torch

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

    def dom(self, page: Path) -> str:
        """The page's DOM after rendering, serialised."""
        return self._run(page, "--dump-dom")

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
