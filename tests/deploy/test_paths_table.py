"""Inference paths are one table: each entry says what it requires and how it is built,
``build_path`` is a lookup, and ``auto`` is an ordered preference over the table."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from googlenet.deploy import optimize
from googlenet.deploy.optimize import AUTO_PREFERENCE, PATHS, InferenceRunner, PathInfo
from googlenet.errors import GoogLeNetError


def test_every_auto_choice_names_a_path_and_fused_ends_the_list():
    assert all(c.path in PATHS for c in AUTO_PREFERENCE)
    assert AUTO_PREFERENCE[-1].path == "fused"
    assert PATHS["fused"].requires(torch.device("cpu")) is None
    assert PATHS["fused"].requires(torch.device("cuda")) is None


def _auto_before_the_table(device: str, allow_compile: bool, can_calibrate: bool,
                           fast_bf16: bool, int8_ok: bool, kernels_ok: bool) -> str:
    """auto_path's if-chain as it was before the table, for the equivalence check."""
    if device == "cuda":
        return "compiled_fp16" if allow_compile else "fp16"
    if fast_bf16:
        return "compiled_bf16" if allow_compile else "bf16"
    if allow_compile and can_calibrate and int8_ok:
        return "int8"
    if allow_compile:
        return "compiled"
    return "winograd" if kernels_ok else "fused"


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_auto_picks_what_it_picked_before(monkeypatch, device):
    for fast_bf16, int8_ok, kernels_ok in itertools.product((False, True), repeat=3):
        monkeypatch.setattr(optimize, "cpu_has_fast_bf16", lambda v=fast_bf16: v)
        monkeypatch.setattr(optimize, "pt2e_available", lambda v=int8_ok: v)
        monkeypatch.setattr(optimize.native, "unavailable_reason",
                            lambda v=kernels_ok: None if v else "no compiler")
        # AMX implies AVX512-BF16: the bf16 paths run wherever auto would pick them.
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda v=fast_bf16: v)
        for allow_compile, can_calibrate in itertools.product((False, True), repeat=2):
            facts = (device, allow_compile, can_calibrate, fast_bf16, int8_ok, kernels_ok)
            assert optimize.auto_path(device, allow_compile=allow_compile,
                                      can_calibrate=can_calibrate) == \
                _auto_before_the_table(*facts), facts


def test_unavailable_reason_is_the_entrys_requirement():
    cuda = torch.device("cuda")
    for name, info in PATHS.items():
        assert optimize.unavailable_reason(name, "cuda") == info.requires(cuda)
    assert optimize.unavailable_reason("int8", "cuda") == "int8 runs on CPU here"
    assert optimize.unavailable_reason("fp16", "cpu").startswith("fp16 is for CUDA")
    with pytest.raises(GoogLeNetError, match="unknown inference path 'turbo'"):
        optimize.unavailable_reason("turbo")


def test_a_new_entry_is_built_by_lookup_and_its_requirement_is_checked(monkeypatch):
    def build(path, model, example, calibration):
        return InferenceRunner(path, lambda x: model(x) * 2, model)

    ok = PathInfo("doubled", "fp32", "eager, logits doubled", lambda d: None, build)
    never = PathInfo("never", "fp32", "cannot run", lambda d: "needs a unicorn", build)
    monkeypatch.setitem(PATHS, "doubled", ok)
    monkeypatch.setitem(PATHS, "never", never)
    model, x = nn.Linear(3, 2), torch.randn(4, 3)
    runner = optimize.build_path("doubled", model, x)
    assert runner.path == "doubled" and torch.allclose(runner(x), model(x) * 2)
    with pytest.raises(GoogLeNetError, match="path never: needs a unicorn"):
        optimize.build_path("never", model, x)


def test_int8_entries_need_calibration():
    assert {n for n in PATHS if optimize.needs_calibration(n)} == \
        {"int8", "onnxruntime_int8", "openvino_int8"}
