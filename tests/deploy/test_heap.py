"""keep_freed_memory: a batch's activations reuse the previous batch's pages."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

# A "batch" of three 30 MB activations, allocated, filled and freed four times; prints
# the minor page faults of the last one. Under glibc's defaults the freed heap top (90
# MB) may exceed the dynamic trim threshold (at most 64 MB) and go back to the system,
# so that a batch faults its pages in again: 22k faults in most runs, none in some,
# depending on what importing torch left behind, so only the kept case is asserted.
_PROBE = """
import resource, sys, torch
from googlenet.deploy.heap import keep_freed_memory
print(keep_freed_memory() if sys.argv[1] == "keep" else None)
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def batch():
    activations = [torch.ones(7_500_000) for _ in range(3)]
    del activations
for _ in range(3):
    batch()
before = faults()
batch()
print(faults() - before)
"""


def _last_allocation_faults(mode: str, **env: str) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True,
                         text=True, check=True, env={**os.environ, **env}).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(sys.platform != "linux" or platform.libc_ver()[0] != "glibc",
                    reason="tunes glibc's malloc only")
def test_freed_memory_is_reused_without_page_faults():
    applied, faults = _last_allocation_faults("keep")
    assert applied == "True" and faults < 500
    applied, _ = _last_allocation_faults("keep", GOOGLENET_KEEP_FREED_MEMORY="0")
    assert applied == "False"


def test_cpu_paths_apply_it(monkeypatch):
    import torch

    from googlenet.deploy import optimize

    calls: list[int] = []
    monkeypatch.setattr(optimize, "keep_freed_memory", lambda: calls.append(1))
    optimize.build_path("eager", torch.nn.Identity(), torch.randn(1, 3, 8, 8))
    assert calls == [1]
