"""Finding and loading the kernels: the switches, the CPU check before loading, every
reason the path gives when they cannot run, the OpenMP check, and an install on a
machine with no C compiler (``CC=false``), after which the package falls back cleanly."""

from __future__ import annotations

import ctypes
import importlib.machinery
import os
import platform
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from googlenet.deploy import build_path, native, optimize, unavailable_reason
from googlenet.deploy.optimize import PathUnavailableError
from tests.deploy.kernels import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]
x86_only = pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                              reason="the kernels are built on x86-64 only")


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch):
    """Each test decides its own switches; the loaded library is looked up again."""
    monkeypatch.delenv(native.SWITCH, raising=False)
    monkeypatch.delenv(native.ISA_SWITCH, raising=False)
    monkeypatch.setattr(optimize, "cpu_has_fast_bf16", lambda: False)
    native.reset()
    yield
    native.reset()


def _count_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    loads: list[str] = []
    real = ctypes.CDLL

    def counting(name, *args, **kwargs):
        loads.append(str(name))
        return real(name, *args, **kwargs)

    monkeypatch.setattr(native.ctypes, "CDLL", counting)
    return loads


def test_one_switch_turns_the_kernels_off(monkeypatch):
    loads = _count_loads(monkeypatch)
    monkeypatch.setenv(native.SWITCH, "0")
    assert unavailable_reason("winograd") == "turned off by GOOGLENET_NATIVE=0"
    assert optimize.auto_path("cpu") == "fused"
    with pytest.raises(PathUnavailableError, match="path winograd: turned off"):
        build_path("winograd", torch.nn.Conv2d(1, 16, 3), torch.randn(1, 1, 8, 8))
    assert loads == []


@x86_only
def test_the_cpu_is_checked_before_anything_is_loaded(monkeypatch):
    loads = _count_loads(monkeypatch)
    monkeypatch.setattr(native, "cpu_flags", lambda: frozenset({"sse4_2"}))
    assert native.unavailable_reason() == \
        "its kernels need a CPU with AVX-512 or AVX2 + FMA"
    monkeypatch.setattr(native, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    monkeypatch.setenv(native.ISA_SWITCH, "avx512")
    native.reset()
    assert native.unavailable_reason() == \
        "GOOGLENET_NATIVE_ISA=avx512, but this CPU lacks avx512f"
    monkeypatch.setenv(native.ISA_SWITCH, "sse")
    native.reset()
    assert native.unavailable_reason() == \
        "GOOGLENET_NATIVE_ISA='sse' is not one of avx512, avx2"
    assert loads == []


@x86_only
def test_without_the_compiled_library_the_path_says_why(monkeypatch, tmp_path):
    monkeypatch.setattr(native, "LIBRARY_DIR", tmp_path)
    monkeypatch.setattr(native, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    assert native.unavailable_reason() == (
        "its AVX2 + FMA kernels were not compiled when the package was installed "
        "(reinstall with a C compiler: pip install .)")
    (tmp_path / "_avx2.unavailable").write_text("not built at install: cc: error: boom\n")
    native.reset()
    assert native.unavailable_reason() == (
        "its AVX2 + FMA kernels were not built at install: cc: error: boom "
        "(reinstall with a C compiler: pip install .)")


@x86_only
def test_a_library_that_fails_to_load_falls_back_once(monkeypatch, tmp_path):
    loads = _count_loads(monkeypatch)
    monkeypatch.setattr(native, "LIBRARY_DIR", tmp_path)
    monkeypatch.setattr(native, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    (tmp_path / f"_avx2{SUFFIX}").write_bytes(b"not an ELF file")
    for _ in range(3):
        reason = unavailable_reason("winograd")
        assert reason is not None and reason.startswith("its kernels could not be loaded: ")
    assert optimize.auto_path("cpu") == "fused"
    assert len(loads) == 1  # the failure is remembered, not retried


def test_a_library_built_from_other_sources_is_refused(monkeypatch, kernel):
    native.reset()
    monkeypatch.setattr(native, "source_digest", lambda: "0" * 64)
    reason = native.unavailable_reason()
    assert reason is not None and "was built from other sources than those beside it" in reason


def test_one_openmp_runtime_is_loaded_with_the_kernels(kernel):
    # The kernels ask for libgomp.so.1 by name and get PyTorch's copy, not a second one.
    assert len(native.openmp_runtimes()) == 1, native.openmp_runtimes()


def test_a_second_openmp_runtime_warns_once_and_falls_back(monkeypatch, kernel):
    native.reset()
    two = ["/opt/conda/lib/libiomp5.so", "/usr/lib/libgomp.so.1"]
    monkeypatch.setattr(native, "openmp_runtimes", lambda: two)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            reason = native.unavailable_reason()
    assert reason is not None and "a second OpenMP runtime is loaded" in reason
    assert [str(w.message) for w in caught] == [f"googlenet: {reason}"]
    assert optimize.auto_path("cpu") == "fused"


def test_the_loaded_build_is_the_best_this_cpu_runs(kernel):
    flags = native.cpu_flags()
    assert kernel == ("avx512" if {"avx512f", "fma"} <= flags else "avx2")
    assert native.kernels().path.parent == native.LIBRARY_DIR


@x86_only
def test_an_install_without_a_c_compiler_succeeds_and_falls_back(monkeypatch, tmp_path):
    """``make test`` on a machine with no C compiler: the optional extensions fail, the
    build goes on, and the path quotes why; ``auto`` runs the fused graph."""
    pytest.importorskip("setuptools")
    built = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--build-lib", str(tmp_path / "lib"),
         "--build-temp", str(tmp_path / "tmp")],
        cwd=ROOT, env={**os.environ, "CC": "false"}, capture_output=True, text=True,
        timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    kernels = tmp_path / "lib/googlenet/deploy/kernels"
    assert sorted(p.name for p in kernels.iterdir()) == ["_avx2.unavailable",
                                                        "_avx512.unavailable"]
    monkeypatch.setattr(native, "LIBRARY_DIR", kernels)
    reason = unavailable_reason("winograd")
    assert reason is not None and "not built at install: false failed (exit status 1)" in reason
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3), torch.nn.ReLU())
    runner, path = optimize.optimize_for_inference(model, torch.randn(2, 3, 8, 8))
    assert path == "fused" and runner(torch.randn(2, 3, 8, 8)).shape == (2, 16, 6, 6)


def test_required_kernels_fail_instead_of_skipping(monkeypatch):
    monkeypatch.setenv("GOOGLENET_REQUIRE_KERNELS", "1")
    with pytest.raises(pytest.fail.Exception, match="GOOGLENET_REQUIRE_KERNELS=1"):
        skip_or_fail("no compiler")
    monkeypatch.delenv("GOOGLENET_REQUIRE_KERNELS")
    with pytest.raises(pytest.skip.Exception):
        skip_or_fail("no compiler")
