"""Training by this package's C kernels (``--native-kernels``, googlenet/train/kernels.py):
fused BN + ReLU against PyTorch's two ops, forward and backward, fp32 and bf16, on every
instruction set this CPU runs; a whole network's step; the seams with BN folding, the
inference graph and the state dict; and the flag in a run, with and without the
kernels."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from googlenet.cli import main
from googlenet.deploy import native
from googlenet.deploy.fuse import fuse_for_inference
from googlenet.deploy.optimize import to_channels_last
from googlenet.layers import ConvNormAct
from googlenet.models import build_model
from googlenet.recipe import ModelRecipe
from googlenet.train.distributed import DistInfo
from googlenet.train.kernels import TrainingConvNormAct, use_training_kernels
from googlenet.train.runner import _use_native_kernels
from googlenet.weights.loaded import resolve_model
from tests.deploy.kernels import isa, kernel  # noqa: F401  # fixtures

CL = torch.channels_last


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    """Relative error of ``a`` against ``b``, in fp32."""
    a, b = a.float(), b.float()
    return ((a - b).norm() / b.norm().clamp_min(1e-12)).item()


def run_layer(layer: nn.Module, x: torch.Tensor, dy: torch.Tensor,
              dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """The layer's output and input gradient for upstream gradient ``dy``, under bf16
    autocast when ``dtype`` is bf16 (as the trainer runs it)."""
    x = x.detach().clone().requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        y = layer(x)
    y.backward(dy.to(y.dtype))
    assert x.grad is not None
    return y.detach(), x.grad


@pytest.mark.usefixtures("isa")
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("n,cin,c,h,w", [
    (4, 3, 5, 7, 6),    # 5 channels: one masked block
    (3, 8, 37, 5, 5),   # 37: full blocks and a tail
    (8, 16, 16, 4, 4),  # whole blocks only
])
def test_fused_bn_relu_trains_as_pytorchs_two_ops(dtype, n, cin, c, h, w):
    gen = torch.Generator().manual_seed(c)
    plain = ConvNormAct(cin, c, 3, norm="bn").train()
    assert plain.bn is not None
    with torch.no_grad():  # a trained BN: scales and shifts away from 1 and 0
        plain.bn.weight.uniform_(0.5, 1.5, generator=gen)
        plain.bn.bias.normal_(0.0, 0.5, generator=gen)
    to_channels_last(plain)
    fused = copy.deepcopy(plain)
    assert use_training_kernels(fused) == 1 and type(fused) is TrainingConvNormAct
    x = torch.randn(n, cin, h, w, generator=gen).contiguous(memory_format=CL)
    dy = torch.randn(n, c, h, w, generator=gen).contiguous(memory_format=CL)
    y_ref, dx_ref = run_layer(plain, x, dy, dtype)
    y, dx = run_layer(fused, x, dy, dtype)
    assert y.dtype == y_ref.dtype == dtype and y.is_contiguous(memory_format=CL)
    tol = 1e-5 if dtype == torch.float32 else 2e-2
    assert rel(y, y_ref) < tol and rel(dx, dx_ref) < 4 * tol
    # The ReLU's zeros are the same ones (the mask is recomputed from the saved input).
    assert ((y == 0) != (y_ref == 0)).float().mean().item() <= (0 if tol < 1e-3 else 0.01)
    for (name, p), q in zip(fused.named_parameters(), plain.parameters(), strict=True):
        assert p.grad is not None and q.grad is not None
        assert rel(p.grad, q.grad) < 4 * tol, name
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        assert rel(getattr(fused.bn, name), getattr(plain.bn, name)) < 1e-5, name


@pytest.mark.usefixtures("kernel")
def test_a_bn_without_momentum_keeps_a_cumulative_average():
    plain = ConvNormAct(4, 6, 1, norm="bn").train()
    assert plain.bn is not None
    plain.bn.momentum = None
    fused = copy.deepcopy(plain)
    use_training_kernels(fused)
    for seed in range(3):
        x = torch.randn(5, 4, 3, 3, generator=torch.Generator().manual_seed(seed))
        plain(x), fused(x)
    assert fused.bn is not None
    assert torch.allclose(fused.bn.running_var, plain.bn.running_var, rtol=1e-5)
    assert torch.allclose(fused.bn.running_mean, plain.bn.running_mean, atol=1e-6)


@pytest.mark.usefixtures("kernel")
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_a_networks_step_and_its_inference_graph_are_unchanged(dtype):
    torch.manual_seed(0)
    plain = build_model(ModelRecipe("googlenet_mnist", num_classes=10, in_chans=1,
                                    width=0.25, dropout=0.0)).train()
    to_channels_last(plain)
    switched = copy.deepcopy(plain)
    swapped = use_training_kernels(switched)
    convs = sum(isinstance(m, ConvNormAct) and m.bn is not None for m in plain.modules())
    assert swapped == convs > 50
    assert switched.state_dict().keys() == plain.state_dict().keys()
    x = torch.randn(32, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    x, target = x.contiguous(memory_format=CL), torch.arange(32) % 10

    def step(model: nn.Module, dtype: torch.dtype) -> tuple[float, torch.Tensor]:
        model = copy.deepcopy(model)
        if dtype == torch.float64:
            model.double()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
            loss = nn.functional.cross_entropy(model(x.to(next(model.parameters()).dtype)),
                                               target)
        loss.backward()
        return loss.item(), torch.cat([p.grad.flatten().float() for p in model.parameters()
                                       if p.grad is not None])

    # Near-zero activations fall on either side of a ReLU, and near-equal ones win a
    # pooling window, by rounding alone: a step is compared with fp64's, and must be as
    # close to it as PyTorch's own ops in the same precision.
    _, truth = step(plain, torch.float64)
    ref_loss, ref = step(plain, dtype)
    loss, ours = step(switched, dtype)
    assert loss == pytest.approx(ref_loss, rel=1e-5 if dtype == torch.float32 else 1e-2)
    assert rel(ours, truth) <= 1.25 * rel(ref, truth) + 1e-5
    # Evaluation and export fold the BN and keep the ReLU: the switched layers are the
    # layers they were.
    example = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        ref = fuse_for_inference(plain, example)(example)
        out = fuse_for_inference(switched, example)(example)
        eager = switched.eval()(example)
    assert torch.allclose(out, ref, atol=1e-5) and torch.allclose(eager, ref, atol=1e-4)


def _train(out, *flags: str) -> int:
    return main(["train", "--model", "googlenet_mnist", "--width", "0.125",
                 "--dataset", "synthetic", "--train-limit", "64", "--batch-size", "32",
                 "--epochs", "2", "--eval-limit", "32", "--precision", "bf16",
                 "--channels-last", "true", "--native-kernels", "true", "--progress",
                 "false", "--report", "false", "--output", str(out), *flags])


@pytest.mark.usefixtures("kernel")
def test_a_run_with_the_kernels_trains_resumes_and_evaluates(tmp_path, capsys):
    out = tmp_path / "runs"
    assert _train(out, "--name", "k", "--epochs", "1") == 0
    assert main(["train", "--resume", str(out / "k"), "--epochs", "2"]) == 0
    weights = out / "k" / "last.safetensors"
    loaded = resolve_model(weights)  # a plain model: the switch left no trace in the file
    assert not any(isinstance(m, TrainingConvNormAct) for m in loaded.network.modules())
    assert loaded.meta is not None and loaded.meta.training is not None
    assert loaded.meta.training.epoch == 2
    capsys.readouterr()
    assert main(["eval", str(weights)]) == 0
    assert "WARNING" not in capsys.readouterr().err


def test_without_the_kernels_the_flag_says_why_and_trains_with_pytorchs_ops(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(native.SWITCH, "0")
    native.reset()
    try:
        assert _train(tmp_path / "runs", "--name", "off") == 0
    finally:
        monkeypatch.delenv(native.SWITCH)
        native.reset()
    err = capsys.readouterr().err
    assert "WARNING: --native-kernels: turned off by GOOGLENET_NATIVE=0" in err
    assert (tmp_path / "runs" / "off" / "last.safetensors").is_file()


def test_the_flag_on_another_device_says_the_kernels_are_for_the_cpu(capsys):
    # No CUDA is needed to check the message: the layers are switched and stay PyTorch's
    # ops off the CPU (_kernel_can_take), and the run says so once.
    model = ConvNormAct(3, 4, 3, norm="bn")
    _use_native_kernels(model, torch.device("cuda", 0), DistInfo())
    assert type(model) is TrainingConvNormAct
    err = capsys.readouterr().err
    assert "WARNING: --native-kernels: the kernels run on the CPU, this run on cuda:0" in err
