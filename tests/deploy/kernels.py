"""Running the kernel tests: skipped where the kernels cannot run, failed instead where
CI requires them (``GOOGLENET_REQUIRE_KERNELS=1``, set by .ci/run where it can build
them), and once per instruction set this CPU runs (``GOOGLENET_NATIVE_ISA``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NoReturn

import pytest

from googlenet.deploy import native
from googlenet.deploy.kernel_sources import ISAS

REQUIRE = "GOOGLENET_REQUIRE_KERNELS"


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the test, or fail it where the kernels are required."""
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{REQUIRE}=1, so the kernels must run here, but: {reason}")
    pytest.skip(f"kernels: {reason}")


@pytest.fixture
def kernel() -> Iterator[str]:
    """The kernels as they load by default; yields their instruction set."""
    native.reset()
    reason = native.unavailable_reason()
    if reason is not None:
        skip_or_fail(reason)
    yield native.isa() or ""
    native.reset()


@pytest.fixture(params=[isa.name for isa in ISAS])
def isa(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each build in turn (``GOOGLENET_NATIVE_ISA``); a build this CPU cannot run is
    skipped, even where the kernels are required."""
    isa = next(i for i in ISAS if i.name == request.param)
    missing = [f for f in isa.cpu_flags if f not in native.cpu_flags()]
    if missing:
        pytest.skip(f"this CPU lacks {', '.join(missing)}")
    monkeypatch.setenv(native.ISA_SWITCH, isa.name)
    native.reset()
    reason = native.unavailable_reason()
    if reason is not None:
        skip_or_fail(reason)
    assert native.isa() == isa.name
    yield isa.name
    native.reset()
