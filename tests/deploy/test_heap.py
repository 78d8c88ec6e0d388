"""keep_freed_memory: a second batch-sized tensor reuses the first one's pages."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

# Fills a fresh 64 MB tensor four times, and prints the minor page faults the last one
# took: with glibc's defaults each arrives as fresh mmap'd pages (16k faults). Kept, the
# heap settles within the first rounds (the first freed chunk may sit a few bytes short
# of an aligned request), then serves the same pages again.
_PROBE = """
import resource, sys, torch
from googlenet.deploy.heap import keep_freed_memory
print(keep_freed_memory() if sys.argv[1] == "keep" else None)
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    x = torch.ones(16 * 2**20)
    del x
before = faults()
y = torch.ones(16 * 2**20)
print(faults() - before)
"""


def _last_allocation_faults(mode: str, **env: str) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True,
                         text=True, check=True, env={**os.environ, **env}).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(sys.platform != "linux" or platform.libc_ver()[0] != "glibc",
                    reason="tunes glibc's malloc only")
def test_freed_memory_is_reused_without_page_faults():
    assert _last_allocation_faults("default")[1] > 8000  # 16k pages of 4 KB
    applied, faults = _last_allocation_faults("keep")
    assert applied == "True" and faults < 1000
    applied, faults = _last_allocation_faults("keep", GOOGLENET_KEEP_FREED_MEMORY="0")
    assert applied == "False" and faults > 8000


def test_cpu_paths_apply_it(monkeypatch):
    import torch

    from googlenet.deploy import optimize

    calls: list[int] = []
    monkeypatch.setattr(optimize, "keep_freed_memory", lambda: calls.append(1))
    optimize.build_path("eager", torch.nn.Identity(), torch.randn(1, 3, 8, 8))
    assert calls == [1]
