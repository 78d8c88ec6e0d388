"""keep_freed_memory: a batch's activations reuse the previous batch's pages."""

from __future__ import annotations

import contextlib
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


def test_the_python_api_leaves_malloc_alone_unless_asked(monkeypatch):
    import torch

    from googlenet.deploy import heap, optimize

    calls: list[int] = []
    monkeypatch.setattr(heap, "keep_freed_memory", lambda: calls.append(1))
    optimize.build_path("eager", torch.nn.Identity(), torch.randn(1, 3, 8, 8))
    optimize.optimize_for_inference(torch.nn.Identity(), torch.randn(1, 3, 8, 8), "fused")
    assert calls == []
    optimize.build_path("eager", torch.nn.Identity(), torch.randn(1, 3, 8, 8),
                        keep_freed_memory=True)
    optimize.optimize_for_inference(torch.nn.Identity(), torch.randn(1, 3, 8, 8), "fused",
                                    keep_freed_memory=True)
    assert calls == [1, 1]


@pytest.mark.parametrize("command,runs", [
    ("predict", True), ("eval", True), ("bench", True), ("train", True),
    ("finetune", True), ("demo", True), ("summary", False), ("cost", False)])
def test_the_cli_applies_it_where_it_runs_inference_or_training(monkeypatch, command, runs):
    import importlib

    module = importlib.import_module(f"googlenet.commands.{command}")
    calls: list[int] = []
    monkeypatch.setattr(module, "keep_freed_memory", lambda: calls.append(1), raising=False)

    class Stop(Exception):
        pass

    def stop(*args, **kwargs):
        raise Stop

    # Whatever the command does after the setting is cut short at its first helper.
    run = module._run
    for name in dir(module):
        if name != "keep_freed_memory" and callable(getattr(module, name)) \
                and getattr(getattr(module, name), "__module__", "").startswith("googlenet"):
            monkeypatch.setattr(module, name, stop)
    with contextlib.suppress(Stop, AttributeError):  # no real arguments: cut short
        run(object())
    assert calls == ([1] if runs else [])
