"""Numerical coverage of the Winograd kernel on what users run: post-ReLU inputs (a
non-zero mean, the worst case for F(4x4, 3x3)'s transforms), BN-folded weights whose
per-channel scales span four decades, up to 192 -> 384 channels, checked per output
channel against a float64 convolution; googlenet_bn at 224 with the kernel calls
counted on both sides of :func:`~googlenet.deploy.winograd.worth_it`; and a model
trained on real data (Fashion-MNIST where installed, else the synthetic set), whose
logits and top-1 must agree with eager."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from googlenet.data import default_dataset_name, to_float
from googlenet.deploy import build_path
from googlenet.deploy import winograd as wg
from googlenet.deploy.optimize import FP32_ATOL
from googlenet.layers import ConvNormAct
from googlenet.models import create_model
from tests.deploy.conftest import _dataset
from tests.deploy.nets import randomise_bn, trained_scale_logits

# Per output channel, against float64: the kernel's rounding (F(4x4, 3x3) multiplies
# input values by up to 25 in its transforms) stays under these; oneDNN's direct
# convolution is some ten times tighter.
CHANNEL_RELATIVE_NORM = 2e-5
CHANNEL_RELATIVE_MAX = 5e-5


def _bn_folded(c: int, k: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """He-scaled weights and a bias, times a per-output-channel scale from 1e-2 to 1e2, as
    BN folding leaves them."""
    scale = 10 ** (torch.rand(k, generator=gen) * 4 - 2)
    weight = torch.randn(k, c, 3, 3, generator=gen) * (2 / (9 * c)) ** 0.5
    return weight * scale[:, None, None, None], torch.randn(k, generator=gen) * scale


@pytest.mark.usefixtures("isa")
@pytest.mark.parametrize("n,c,k,size,pad", [
    (2, 192, 384, 7, 1),   # 5b's widest 3x3
    (2, 96, 208, 14, 1),   # 4a
    (2, 64, 192, 28, 1),   # the stem's 3x3 at 224, on a smaller batch
    (3, 3, 64, 20, 0),     # an RGB input, unpadded
])
def test_error_per_output_channel_on_post_relu_inputs(n, c, k, size, pad):
    gen = torch.Generator().manual_seed(c)
    x = (torch.randn(n, c, size, size, generator=gen) + 0.5).relu() * 2  # mean ~1.2
    weight, bias = _bn_folded(c, k, gen)
    ref = F.conv2d(x.double(), weight.double(), bias.double(), padding=pad)
    out = wg.conv3x3(x, wg.transform_weights(weight), bias, pad, relu=False).double()
    err = (out - ref).transpose(0, 1).reshape(k, -1)
    ref_k = ref.transpose(0, 1).reshape(k, -1)
    relative_norm = err.norm(dim=1) / ref_k.norm(dim=1)
    relative_max = err.abs().amax(dim=1) / ref_k.abs().amax(dim=1)
    worst = int(relative_norm.argmax())
    assert relative_norm.max().item() < CHANNEL_RELATIVE_NORM, f"channel {worst}"
    assert relative_max.max().item() < CHANNEL_RELATIVE_MAX
    relu = wg.conv3x3(x, wg.transform_weights(weight), bias, pad, relu=True)
    assert torch.equal(relu, out.float().relu())


def _kernel_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    calls: list[tuple[int, ...]] = []
    real = wg.conv3x3

    def counting(x, *args, **kwargs):
        calls.append(tuple(x.shape))
        return real(x, *args, **kwargs)

    monkeypatch.setattr(wg, "conv3x3", counting)
    return calls


def _googlenet_bn_at_224(batches: tuple[int, ...], threads: int,
                         monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(kernel calls, 3x3 layers the rule sends to the kernel) for one forward pass of
    the winograd path per batch size at ``threads`` threads, logits checked against
    eager."""
    torch.manual_seed(0)
    model = create_model("googlenet_bn", aux_logits=False).eval()
    randomise_bn(model)
    x = torch.randn(max(batches), 3, 224, 224)
    trained_scale_logits(model, x[:1])
    runner = build_path("winograd", model, x[:1])
    assert runner.module is not None
    layers = [m for m in runner.module.modules() if isinstance(m, wg.WinogradConv2d)]
    assert len(layers) == 19
    shapes: list[tuple[int, ...]] = []
    for layer in layers:
        layer.register_forward_pre_hook(lambda m, args: shapes.append(tuple(args[0].shape)))
    calls = _kernel_calls(monkeypatch)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    counts = []
    try:
        for batch in batches:
            shapes.clear()
            calls.clear()
            with torch.no_grad():
                out, ref = runner(x[:batch]), model(x[:batch])
            assert (out - ref).abs().max().item() <= FP32_ATOL
            by_rule = sum(
                wg.worth_it(n, c, layer.conv.out_channels, h, w, layer.padding, threads)
                for (n, c, h, w), layer in zip(shapes, layers, strict=True))
            counts.append((len(calls), by_rule))
    finally:
        torch.set_num_threads(previous)
    return counts


def test_googlenet_bns_3x3s_go_to_the_kernel_by_the_rule(monkeypatch, kernel):
    # At batch 6 on one thread all 19 run the kernel: the narrowest 3x3 at 7x7 (5a:
    # 32 -> 128) takes a 24-tile block, and a 7x7 map is 4 tiles. At batch 1 some fall
    # back (the 7x7 layers, the narrow 14x14 ones).
    (all_calls, all_by_rule), (some_calls, some_by_rule) = _googlenet_bn_at_224(
        (6, 1), 1, monkeypatch)
    assert all_calls == all_by_rule == 19
    assert some_calls == some_by_rule and 0 < some_calls < 19


@pytest.mark.slow
def test_all_19_run_the_kernel_at_batch_12_on_two_threads(monkeypatch, kernel):
    # Each of the two threads needs its own 24-tile block: 48 tiles, batch 12 at 7x7;
    # at batch 2 5a/5b's 7x7 layers fall back.
    (all_calls, all_by_rule), (some_calls, some_by_rule) = _googlenet_bn_at_224(
        (12, 2), 2, monkeypatch)
    assert all_calls == all_by_rule == 19
    assert some_calls == some_by_rule and some_calls < 19


# -- a model trained on real data ---------------------------------------------------------

TRAIN_STEPS = 100
TRAIN_IMAGES, HELD_OUT = 2048, 1000


def _small_bn_net() -> nn.Module:
    """3x3 BN units whose widths the kernel takes (multiples of 16), and pools."""
    def unit(c: int, k: int) -> ConvNormAct:
        return ConvNormAct(c, k, 3, norm="bn")

    return nn.Sequential(
        unit(1, 16), nn.MaxPool2d(2), unit(16, 32), unit(32, 32),
        nn.MaxPool2d(3, 2, ceil_mode=True), unit(32, 64), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(64, 10))


def _trained(source: str, x: torch.Tensor, y: torch.Tensor,
             cache: pytest.Cache | None) -> nn.Module:
    """The small net trained for :data:`TRAIN_STEPS`; the weights are kept in pytest's
    cache, keyed by data source and step count."""
    torch.manual_seed(0)
    model = _small_bn_net()
    path = cache.mkdir("googlenet-deploy") / f"small-bn-{source}-{TRAIN_STEPS}.safetensors" \
        if cache else None
    if path is not None and path.exists():
        model.load_state_dict(load_file(str(path)))
        return model.eval()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(TRAIN_STEPS):
        idx = torch.randint(0, len(x), (32,), generator=gen)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    if path is not None:
        save_file(model.state_dict(), str(path))
    return model.eval()


def test_a_trained_model_keeps_its_logits_and_top1(monkeypatch, kernel, request):
    source = default_dataset_name()
    train = _dataset(source, "train", TRAIN_IMAGES)
    test = _dataset(source, "test", HELD_OUT)
    mean, std = (0.5,), (0.5,)
    x, y = to_float(train.images[:TRAIN_IMAGES], mean, std), train.targets[:TRAIN_IMAGES]
    hx = to_float(test.images[:HELD_OUT], mean, std)
    model = _trained(source, x, y, getattr(request.config, "cache", None))
    with torch.no_grad():
        ref = model(hx)
    accuracy = (ref.argmax(1) == test.targets[:HELD_OUT]).float().mean().item()
    assert accuracy > 0.6, f"the model did not train ({source}: {accuracy:.2f})"
    runner = build_path("winograd", model, hx[:2])
    calls = _kernel_calls(monkeypatch)
    out = torch.cat([runner(batch) for batch in hx.split(250)])
    assert len(calls) == 4 * 4  # every 3x3 of every batch
    assert (out - ref).abs().max().item() <= FP32_ATOL
    assert torch.equal(out.argmax(1), ref.argmax(1))
