"""Shared test settings: a small thread count so the suite behaves on 2-core CI machines,
and the rule for real data.

Only tests marked ``realdata`` may need Fashion-MNIST, and only they may skip without it:
they get its folder from the ``fashion_mnist_root`` fixture, which refuses any other
test. Where ``GOOGLENET_REQUIRE_DATA=1`` (CI sets it after installing the data set), a
skipped ``realdata`` test is reported as a failure, whatever made it skip.
"""

from __future__ import annotations

import io
import os
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
