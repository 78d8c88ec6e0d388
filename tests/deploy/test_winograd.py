"""The ``winograd`` path: its kernels (Winograd F(4x4, 3x3) against oneDNN's direct
convolution, max pooling against PyTorch's), layer by layer and in whole networks, on
every instruction set this CPU runs (the ``isa`` fixture), their fallbacks, and
``predict --path winograd``. Loading and the switches: test_native.py; numerical
coverage: test_winograd_numerics.py."""

from __future__ import annotations

import json
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
from googlenet.deploy.optimize import FP32_ATOL
from googlenet.models import build_model, create_model, get_model_info
from googlenet.recipe import ModelRecipe
from googlenet.weights import WeightsMeta, save_weights
from tests.deploy.nets import randomise_bn, trained_scale_logits


@pytest.mark.usefixtures("isa")
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


@pytest.mark.usefixtures("isa")
def test_every_row_count_of_a_register_block_is_right():
    # The last register block of a thread's tiles may hold fewer rows than a full one;
    # the kernel compiles each count on its own. One row of t tiles, t = 1 .. 2 blocks.
    gen = torch.Generator().manual_seed(4)
    conv = torch.nn.Conv2d(5, 48, 3, padding=1)  # 48: 2-vector strips and a 1-vector tail
    u = wg.transform_weights(conv.weight)
    for tiles in range(1, 2 * wg.tile_rows() + 2):
        x = torch.randn(1, 5, 4, 4 * tiles, generator=gen)
        ref = conv(x).detach()
        out = wg.conv3x3(x, u, conv.bias, 1, False, threads=1)
        assert (out - ref).abs().max().item() < 1e-4 * ref.abs().max().item(), tiles


def test_blocks_of_tiles_follow_the_instruction_set(isa):
    rows, least = wg.tile_rows(), wg.LEAST_REGISTER_BLOCKS[isa]
    for c, k in ((64, 192), (160, 320), (192, 384)):
        fit = wg.tile_block(c, k)
        # A whole batch: at least the instruction set's floor, else what L2 holds.
        assert wg.run_block(c, k, 10_000, 2) == max(fit, least * rows)
        # A few tiles: no block beyond a thread's share (rounded up to a register block).
        assert wg.run_block(c, k, 2 * rows, 2) == max(fit, rows)


@pytest.mark.usefixtures("isa")
def test_threads_split_the_tiles_without_changing_a_bit():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(5, 24, 10, 10, generator=gen)
    u = wg.transform_weights(torch.randn(32, 24, 3, 3, generator=gen))
    one = wg.conv3x3(x, u, None, 1, True, threads=1)
    assert torch.equal(one, wg.conv3x3(x, u, None, 1, True, threads=3))


def test_weights_of_the_wrong_shape_are_refused():
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


@pytest.mark.usefixtures("kernel")
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


@pytest.mark.usefixtures("isa")
def test_autograd_falls_back_to_the_plain_convolution():
    conv = torch.nn.Conv2d(4, 16, 3, padding=1)
    layer = wg.WinogradConv2d(conv, relu=True)
    x = torch.randn(2, 4, 8, 8, requires_grad=True)
    layer(x).sum().backward()
    assert x.grad is not None and conv.weight.grad is not None
    expected = torch.autograd.grad(F.relu(conv(x)).sum(), x)[0]
    assert torch.allclose(x.grad, expected)


@pytest.mark.usefixtures("kernel")
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


@pytest.mark.usefixtures("isa")
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


@pytest.mark.usefixtures("isa")
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
    expected = "winograd" if unavailable_reason("winograd") is None else "fused"
    assert optimize.auto_path("cpu") == expected
    monkeypatch.setattr(native, "unavailable_reason", lambda: "no compiler")
    assert optimize.auto_path("cpu") == "fused"
    assert optimize.auto_path("cpu", allow_compile=True) == "compiled"


@pytest.mark.usefixtures("isa")
@pytest.mark.parametrize("c,h,w,window,stride,padding,ceil", [
    (64, 15, 15, 3, 2, 0, True),   # ceil mode: a last window hanging over the edge
    (20, 9, 8, 3, 1, 1, True),     # the Inception pool branch; 16 + 4 channels
    (33, 7, 7, 2, 2, 0, True),     # torchvision's 2x2 pool before the last stage
    (16, 10, 10, 3, 2, 1, False),  # floor mode with padding
])
def test_max_pool_matches_pytorch(c, h, w, window, stride, padding, ceil):
    gen = torch.Generator().manual_seed(3)
    pool = torch.nn.MaxPool2d(window, stride, padding, ceil_mode=ceil)
    x = torch.randn(3, c, h, w, generator=gen)
    x[0, 0, 0, 0] = float("-inf")
    with torch.no_grad():
        out = npool.NativeMaxPool2d(pool)(x)
    assert out.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(out, pool(x))
    branch = torch.randn(2, c + 8, h, w, generator=gen).contiguous(
        memory_format=torch.channels_last)[:, 4:4 + c]
    assert torch.equal(npool.max_pool(branch, (window, window), (stride, stride),
                                      (padding, padding), ceil), pool(branch))


def test_pool_fallbacks_and_refusals():
    pool = torch.nn.MaxPool2d(3, 2, ceil_mode=True)
    x = torch.randn(1, 4, 9, 9, requires_grad=True)
    npool.NativeMaxPool2d(pool)(x).sum().backward()  # autograd: PyTorch's own pool
    assert x.grad is not None and x.grad.sum().item() == 4 * 16  # one max per output
    with pytest.raises(ValueError, match="cannot compute"):
        npool.NativeMaxPool2d(torch.nn.MaxPool2d(3, dilation=2))
    assert [pooled_length(n, 3, 2, 0, True) for n in (112, 56, 28, 14)] == [56, 28, 14, 7]


# -- the defects of issue 27, each with its test ----------------------------------------


@pytest.mark.usefixtures("isa")
@pytest.mark.parametrize("default", ["dtype", "device"])
def test_outputs_are_float32_on_the_cpu_whatever_the_defaults(default):
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(2, 8, 9, 9, generator=gen)
    conv = torch.nn.Conv2d(8, 16, 3, padding=1)
    u = wg.transform_weights(conv.weight)
    pool = torch.nn.MaxPool2d(3, 2, ceil_mode=True)
    with torch.no_grad():
        expected_conv, expected_pool = conv(x), pool(x)
    try:
        if default == "dtype":
            torch.set_default_dtype(torch.float64)
        else:  # a stand-in for CUDA that this machine has: no memory behind the pointer
            torch.set_default_device("meta")
        out = wg.conv3x3(x, u, conv.bias.detach(), 1, False)
        pooled = npool.max_pool(x, (3, 3), (2, 2), (0, 0), True)
    finally:
        torch.set_default_dtype(torch.float32)
        torch.set_default_device(None)
    for got, expected in ((out, expected_conv), (pooled, expected_pool)):
        assert got.dtype == torch.float32 and got.device.type == "cpu"
        assert torch.allclose(got, expected, atol=1e-5)


@pytest.mark.usefixtures("isa")
def test_nan_in_gives_nan_out_through_the_fused_relu_and_the_pool():
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(2, 20, 11, 11, generator=gen)
    x[0, 3, 5, 5] = float("nan")  # one pixel of one channel
    x[1][torch.rand(20, 11, 11, generator=gen) < 0.05] = float("nan")
    conv = torch.nn.Conv2d(20, 32, 3, padding=1)
    with torch.no_grad():
        conv.bias.fill_(-100.0)  # every finite output negative: ReLU gives 0 unless NaN
        ref = F.relu(conv(x))
    out = wg.conv3x3(x, wg.transform_weights(conv.weight), conv.bias, 1, True)
    assert torch.isnan(ref).any() and torch.isnan(out)[torch.isnan(ref)].all()
    # Winograd mixes a tile's inputs, so a NaN may reach a few more outputs than it does in
    # a direct convolution, never fewer; the other image has its own NaNs only.
    assert not torch.isnan(out[0, :, :, :]).all()
    for window, stride, padding, ceil in ((3, 2, 0, True), (3, 1, 1, True), (2, 2, 0, False)):
        pool = torch.nn.MaxPool2d(window, stride, padding, ceil_mode=ceil)
        torch.testing.assert_close(
            npool.max_pool(x, (window,) * 2, (stride,) * 2, (padding,) * 2, ceil), pool(x),
            rtol=0, atol=0, equal_nan=True)


@pytest.mark.usefixtures("isa")
def test_nan_passes_the_winograd_module():
    conv = torch.nn.Conv2d(8, 16, 3, padding=1)
    layer = wg.WinogradConv2d(conv, relu=True).eval()
    x = torch.randn(32, 8, 12, 12)
    x[3, 2, 6, 6] = float("nan")
    assert wg.worth_it(32, 8, 16, 12, 12, 1, torch.get_num_threads())
    with torch.no_grad():
        ref, out = F.relu(conv(x)), layer(x)
    assert torch.isnan(out)[torch.isnan(ref)].all() and torch.isnan(out[3]).any()


@pytest.mark.xfail(strict=True, reason="the fused path's conv+ReLU (fuse.OneDNNConvReLU, "
                   "oneDNN's ReLU post-op) turns NaN into 0 before any kernel runs")
@pytest.mark.usefixtures("kernel")
def test_nan_reaches_the_logits_on_the_path():
    torch.manual_seed(0)
    model = create_model("googlenet_mnist").eval()
    x = torch.randn(20, 1, 28, 28)
    x[0, 0, 14, 14] = float("nan")
    runner = build_path("winograd", model, x[:2])
    with torch.no_grad():
        ref, out = model(x), runner(x)
    assert torch.isnan(ref[0]).all() and torch.isnan(out[0]).all()
    assert (out[1:] - ref[1:]).abs().max().item() <= FP32_ATOL


def _conv_relu_pool() -> tuple[torch.nn.Conv2d, torch.nn.Sequential]:
    """A 3x3 conv + ReLU on the Winograd kernel and a pool on the native one, and the conv."""
    conv = torch.nn.Conv2d(8, 16, 3, padding=1)
    model = torch.nn.Sequential(wg.WinogradConv2d(conv, relu=True),
                                npool.NativeMaxPool2d(torch.nn.MaxPool2d(3, 2, ceil_mode=True)))
    return conv, model.eval()


@pytest.mark.usefixtures("kernel")
def test_a_traced_module_records_the_pytorch_ops():
    conv, model = _conv_relu_pool()
    gen = torch.Generator().manual_seed(6)
    example, x = (torch.randn(32, 8, 12, 12, generator=gen) for _ in range(2))
    assert wg.worth_it(32, 8, 16, 12, 12, 1, torch.get_num_threads())  # the kernel would run
    with torch.no_grad():
        traced = torch.jit.trace(model, example)
        expected = torch.nn.functional.max_pool2d(F.relu(conv(x)), 3, 2, ceil_mode=True)
        assert torch.allclose(traced(x), expected, atol=1e-5)
    graph = str(traced.inlined_graph)
    assert "aten::_convolution" in graph and "aten::max_pool2d" in graph


def test_the_entry_points_refuse_what_c_cannot_read():
    x = torch.randn(1, 8, 6, 6)
    u = wg.transform_weights(torch.randn(16, 8, 3, 3))
    bias = torch.zeros(16)
    cases = [
        (lambda: wg.conv3x3(x.double(), u, bias, 1, False), "float32, not torch.float64"),
        (lambda: wg.conv3x3(x.to("meta"), u, bias, 1, False), "run on the CPU"),
        (lambda: wg.conv3x3(x, u, bias[:8], 1, False), r"bias: expected shape \(16,\)"),
        (lambda: wg.conv3x3(x, u, bias.double(), 1, False), "bias: expected float32"),
        (lambda: wg.conv3x3(x, u.transpose(1, 2).contiguous().transpose(1, 2), bias, 1, False),
         "must be contiguous"),
        (lambda: wg.conv3x3(x, u.double(), bias, 1, False), "expected float32"),
        (lambda: wg.conv3x3(x[0], u, bias, 1, False), "4-d NCHW"),
        (lambda: wg.conv3x3(x[:, :, :2, :2], u, bias, 0, False), "has no output"),
        (lambda: npool.max_pool(x.half(), (3, 3), (2, 2), (0, 0), True), "float32"),
        (lambda: npool.max_pool(x, (3, 3), (2, 2), (2, 2), True), "at most half"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()


@pytest.mark.usefixtures("isa")
def test_new_weights_reach_the_kernel_after_load_state_dict():
    gen = torch.Generator().manual_seed(7)
    conv = torch.nn.Conv2d(8, 16, 3, padding=1)
    layer = wg.WinogradConv2d(conv, relu=False).eval()
    x = torch.randn(32, 8, 12, 12, generator=gen)
    assert wg.worth_it(32, 8, 16, 12, 12, 1, torch.get_num_threads())
    with torch.no_grad():
        layer(x)  # transformed once
        fresh = torch.nn.Conv2d(8, 16, 3, padding=1)
        new = fresh.state_dict()  # the same tensors under conv. and direct. (one module)
        layer.load_state_dict({key: new[key.rsplit(".", 1)[1]] for key in layer.state_dict()})
        assert torch.allclose(layer(x), fresh(x), atol=1e-5)


def test_pools_with_more_padding_than_half_the_window_are_left_to_pytorch():
    assert npool.supports(torch.nn.MaxPool2d(3, 2, padding=1))
    assert npool.supports(torch.nn.MaxPool2d(2, 2, padding=1))
    assert not npool.supports(torch.nn.MaxPool2d(3, 2, padding=2))
    assert not npool.supports(torch.nn.MaxPool2d((3, 5), 1, padding=(1, 3)))
    model = torch.nn.Sequential(torch.nn.MaxPool2d(3, 1, padding=2))
    assert npool.use_native_pools(model) == 0


def test_maps_that_fill_too_little_of_their_tiles_never_go_to_the_kernel():
    # 1x1 and 2x2 outputs (a 1x1 or 2x2 input padded by 1) use 1 or 4 of a tile's 16
    # outputs: at any batch, direct convolution does fewer multiplies.
    for size in (1, 2):
        assert not wg.worth_it(4096, 64, 64, size, size, 1, threads=1)
    assert not wg.worth_it(4096, 64, 64, 4, 4, 0, threads=1)  # a 2x2 output, unpadded
    for size in (3, 7, 14):
        assert wg.worth_it(4096, 64, 64, size, size, 1, threads=1)


@pytest.mark.usefixtures("kernel")
def test_the_torchscript_onnx_exporter_records_the_pytorch_ops(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    conv, model = _conv_relu_pool()
    gen = torch.Generator().manual_seed(8)
    example, x = (torch.randn(32, 8, 12, 12, generator=gen) for _ in range(2))
    path = tmp_path / "m.onnx"
    with torch.no_grad():
        torch.onnx.export(model, (example,), str(path), dynamo=False, input_names=["x"])
        expected = torch.nn.functional.max_pool2d(F.relu(conv(x)), 3, 2, ceil_mode=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = torch.from_numpy(session.run(None, {"x": x.numpy()})[0])
    assert torch.allclose(out, expected, atol=1e-5)


@pytest.mark.usefixtures("kernel")
def test_the_per_layer_benchmark_times_every_kernel_layer(tmp_path, monkeypatch):
    """benchmarks/winograd_layers.py, whose table is in BENCHMARKS.md: every 3x3 layer the
    path gives the kernel (googlenet_bn has 19), each timed beside oneDNN's convolution."""
    import importlib

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))  # benchmarks/
    script = importlib.import_module("benchmarks.winograd_layers")
    out = tmp_path / "layers.json"
    assert script.main(["--batch", "1", "--calls", "1", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert len(data["rows"]) == 19 and data["kernels"] == native.isa()
    assert all(r["direct_ms"] > 0 and r["kernel_ms"] > 0 for r in data["rows"])
    assert data["rows"][0]["layer"] == "56x56, 64 -> 192"
