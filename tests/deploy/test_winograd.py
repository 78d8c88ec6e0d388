"""The ``winograd`` path: its kernels (Winograd F(4x4, 3x3) against oneDNN's direct
convolution, max pooling against PyTorch's), layer by layer and in whole networks, their
fallbacks, the build, and ``predict --path winograd``."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from googlenet.cli import main
from googlenet.deploy import build_path, native, unavailable_reason
from googlenet.deploy import native_pool as npool
from googlenet.deploy import winograd as wg
from googlenet.deploy.fuse import pooled_length
from googlenet.deploy.optimize import FP32_ATOL, PathUnavailableError
from googlenet.models import build_model, create_model, get_model_info
from googlenet.recipe import ModelRecipe
from googlenet.weights import WeightsMeta, save_weights
from tests.deploy.nets import randomise_bn, trained_scale_logits

NO_KERNEL = unavailable_reason("winograd")
needs_kernel = pytest.mark.skipif(NO_KERNEL is not None, reason=f"winograd: {NO_KERNEL}")
# The build is tried only on x86-64; elsewhere the reason is the CPU, whatever the compiler.
x86_only = pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                              reason="the kernels are built on x86-64 only")


@needs_kernel
@pytest.mark.parametrize("n,c,k,h,w,pad,relu,bias", [
    (2, 3, 16, 9, 9, 1, False, True),     # 3 input channels: a masked channel block
    (3, 20, 48, 7, 7, 1, True, True),     # 16 + 4 channels in; 32 + 16 out; 7 = 4 + 3
    (1, 17, 32, 13, 11, 0, True, False),  # no padding, no bias, a non-square image
    (4, 64, 96, 14, 14, 1, True, True),   # GoogLeNet's 14x14 stage shape, shrunk
])
def test_kernel_matches_the_direct_convolution(n, c, k, h, w, pad, relu, bias):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, c, h, w, generator=gen)
    conv = torch.nn.Conv2d(c, k, 3, padding=pad, bias=bias)
    ref = conv(x).detach()
    ref = ref.relu() if relu else ref
    out = wg.conv3x3(x, wg.transform_weights(conv.weight), conv.bias, pad, relu)
    assert out.shape == ref.shape and out.is_contiguous(memory_format=torch.channels_last)
    assert ((out - ref).norm() / ref.norm()).item() < 1e-5
    assert (out - ref).abs().max().item() < 1e-4 * ref.abs().max().item()


@needs_kernel
def test_threads_split_the_tiles_without_changing_a_bit():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(5, 24, 10, 10, generator=gen)
    u = wg.transform_weights(torch.randn(32, 24, 3, 3, generator=gen))
    one = wg.conv3x3(x, u, None, 1, True, threads=1)
    assert torch.equal(one, wg.conv3x3(x, u, None, 1, True, threads=3))


def test_weights_of_the_wrong_shape_are_refused():
    if NO_KERNEL is not None:
        pytest.skip(NO_KERNEL)
    with pytest.raises(ValueError, match="do not fit input"):
        wg.conv3x3(torch.randn(1, 8, 6, 6), wg.transform_weights(torch.randn(16, 4, 3, 3)),
                   None, 1, False)


def test_only_supported_convolutions_are_taken():
    assert wg.supports(torch.nn.Conv2d(8, 32, 3, padding=1))
    assert wg.supports(torch.nn.Conv2d(8, 32, 3, padding=0))
    for conv in (torch.nn.Conv2d(8, 32, 3, stride=2, padding=1),
                 torch.nn.Conv2d(8, 24, 3, padding=1),  # 24 is no multiple of 16
                 torch.nn.Conv2d(8, 32, 5, padding=2),
                 torch.nn.Conv2d(8, 32, 3, padding=2, dilation=2),
                 torch.nn.Conv2d(8, 32, 3, padding=1, groups=2)):
        assert not wg.supports(conv)
    with pytest.raises(ValueError, match="cannot compute"):
        wg.WinogradConv2d(torch.nn.Conv2d(8, 32, 3, stride=2), relu=False)


@needs_kernel
@pytest.mark.parametrize("name,size,replaced,pools", [
    ("googlenet_bn", 64, 19, 13), ("googlenet", 64, 10, 13), ("googlenet_mnist", 28, 11, 12)])
def test_path_agrees_with_eager(name, size, replaced, pools):
    torch.manual_seed(0)
    model = create_model(name, aux_logits=False).eval() if name != "googlenet_mnist" \
        else create_model(name).eval()
    randomise_bn(model)
    channels = 1 if name == "googlenet_mnist" else 3
    x = torch.randn(6, channels, size, size)
    trained_scale_logits(model, x)
    runner = build_path("winograd", model, x[:2])
    assert runner.module is not None
    assert sum(isinstance(m, wg.WinogradConv2d) for m in runner.module.modules()) == replaced
    assert sum(isinstance(m, npool.NativeMaxPool2d) for m in runner.module.modules()) == pools
    with torch.no_grad():
        assert (runner(x) - model(x)).abs().max().item() <= FP32_ATOL


@needs_kernel
def test_autograd_falls_back_to_the_plain_convolution():
    conv = torch.nn.Conv2d(4, 16, 3, padding=1)
    layer = wg.WinogradConv2d(conv, relu=True)
    x = torch.randn(2, 4, 8, 8, requires_grad=True)
    layer(x).sum().backward()
    assert x.grad is not None and conv.weight.grad is not None
    expected = torch.autograd.grad(F.relu(conv(x)).sum(), x)[0]
    assert torch.allclose(x.grad, expected)


@x86_only
def test_without_a_compiler_the_path_says_why(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # nothing built there yet
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    native.reset()
    try:
        reason = unavailable_reason("winograd")
        assert reason == f"building its kernels needs a C compiler; {tmp_path}/no-such-cc " \
            "was not found"
        with pytest.raises(PathUnavailableError, match="path winograd: building its kernels"):
            build_path("winograd", torch.nn.Conv2d(1, 16, 3), torch.randn(1, 1, 8, 8))
    finally:
        native.reset()
    assert list(tmp_path.rglob("*.so")) == [] and list(tmp_path.rglob("*.tmp*")) == []


@needs_kernel
def test_predict_cli_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.manual_seed(0)
    recipe = ModelRecipe("googlenet_mnist")
    weights = tmp_path / "mnist.safetensors"
    save_weights(weights, build_model(recipe).state_dict(), WeightsMeta(
        recipe, tuple("0123456789"), get_model_info("googlenet_mnist").preprocessing))
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).save(tmp_path / f"{i}.png")

    def labels(path: str) -> list[str]:
        capsys.readouterr()
        assert main(["predict", str(tmp_path), "--weights", str(weights), "--json",
                     "--path", path]) == 0
        out, err = capsys.readouterr()
        assert f"inference path: {path}" in err
        return [row["top"][0]["label"] for row in json.loads(out)]

    assert labels("winograd") == labels("eager")


@needs_kernel
def test_a_channel_slice_is_read_in_place():
    # One branch of a merged 1x1's output: channels_last strides with a wider pixel.
    gen = torch.Generator().manual_seed(2)
    merged = torch.randn(3, 40, 9, 9, generator=gen).contiguous(memory_format=torch.channels_last)
    branch = merged[:, 8:28]
    assert not branch.is_contiguous(memory_format=torch.channels_last)
    assert native.pixel_major(branch) and not native.pixel_major(merged.contiguous())
    u = wg.transform_weights(torch.randn(16, 20, 3, 3, generator=gen))
    expected = wg.conv3x3(branch.contiguous(memory_format=torch.channels_last), u, None, 1, True)
    assert torch.equal(wg.conv3x3(branch, u, None, 1, True), expected)


@needs_kernel
def test_maps_too_small_to_share_run_the_direct_convolution(monkeypatch):
    calls: list[int] = []
    real = wg.conv3x3
    monkeypatch.setattr(wg, "conv3x3", lambda x, *a, **k: calls.append(len(x)) or real(x, *a, **k))
    conv = torch.nn.Conv2d(8, 16, 3, padding=1)
    layer = wg.WinogradConv2d(conv, relu=True).eval()
    assert not wg.worth_it(1, 8, 16, 7, 7, 1, threads=2)  # 4 tiles
    assert wg.worth_it(16, 8, 16, 7, 7, 1, threads=2)     # 64 tiles: 32 a thread
    with torch.no_grad():
        for n in (1, 16):
            x = torch.randn(n, 8, 7, 7)
            assert torch.allclose(layer(x), F.relu(conv(x)), atol=1e-5)
    assert calls == [16]


def test_auto_prefers_winograd_to_fused_where_it_runs(monkeypatch):
    from googlenet.deploy import optimize

    monkeypatch.setattr(optimize, "cpu_has_fast_bf16", lambda: False)
    assert optimize.auto_path("cpu") == ("winograd" if NO_KERNEL is None else "fused")
    monkeypatch.setattr(native, "unavailable_reason", lambda: "no compiler")
    assert optimize.auto_path("cpu") == "fused"
    assert optimize.auto_path("cpu", allow_compile=True) == "compiled"


@needs_kernel
@pytest.mark.parametrize("c,h,w,kernel,stride,padding,ceil", [
    (64, 15, 15, 3, 2, 0, True),   # ceil mode: a last window hanging over the edge
    (20, 9, 8, 3, 1, 1, True),     # the Inception pool branch; 16 + 4 channels
    (33, 7, 7, 2, 2, 0, True),     # torchvision's 2x2 pool before the last stage
    (16, 10, 10, 3, 2, 1, False),  # floor mode with padding
])
def test_max_pool_matches_pytorch(c, h, w, kernel, stride, padding, ceil):
    gen = torch.Generator().manual_seed(3)
    pool = torch.nn.MaxPool2d(kernel, stride, padding, ceil_mode=ceil)
    x = torch.randn(3, c, h, w, generator=gen)
    x[0, 0, 0, 0] = float("-inf")
    with torch.no_grad():
        out = npool.NativeMaxPool2d(pool)(x)
    assert out.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(out, pool(x))
    branch = torch.randn(2, c + 8, h, w, generator=gen).contiguous(
        memory_format=torch.channels_last)[:, 4:4 + c]
    assert torch.equal(npool.max_pool(branch, (kernel, kernel), (stride, stride),
                                      (padding, padding), ceil), pool(branch))


def test_pool_fallbacks_and_refusals():
    pool = torch.nn.MaxPool2d(3, 2, ceil_mode=True)
    x = torch.randn(1, 4, 9, 9, requires_grad=True)
    npool.NativeMaxPool2d(pool)(x).sum().backward()  # autograd: PyTorch's own pool
    assert x.grad is not None and x.grad.sum().item() == 4 * 16  # one max per output
    with pytest.raises(ValueError, match="cannot compute"):
        npool.NativeMaxPool2d(torch.nn.MaxPool2d(3, dilation=2))
    assert [pooled_length(n, 3, 2, 0, True) for n in (112, 56, 28, 14)] == [56, 28, 14, 7]


@x86_only
def test_a_failing_compiler_or_an_unwritable_cache_says_so(monkeypatch, tmp_path):
    failing = tmp_path / "cc"
    failing.write_text("#!/bin/sh\necho 'cc: error: no AVX-512 here' >&2\nexit 1\n")
    failing.chmod(0o755)
    blocked = tmp_path / "file"
    blocked.write_text("")  # the cache folder would have to go under a plain file
    cases = [({"XDG_CACHE_HOME": str(tmp_path / "cache"), "CC": str(failing)},
              f"{failing} failed to build its kernels: cc: error: no AVX-512 here"),
             ({"XDG_CACHE_HOME": str(blocked)}, f"cannot write its kernels to {blocked}")]
    try:
        for env, expected in cases:
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            native.reset()
            assert (native.unavailable_reason() or "").startswith(expected)
    finally:
        native.reset()
