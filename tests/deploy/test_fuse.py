"""The fused inference graph computes what the model computes (fp32, <= 1e-4), for every
registered model and both fusion targets."""

import copy

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import googlenet
from googlenet.deploy import build_path, fold_bn, fuse_for_inference
from googlenet.deploy.fuse import (
    MatmulLRN,
    OneDNNConvReLU,
    ReusedIndexMaxPool2d,
    WindowLRN,
    inverse_power_,
)
from googlenet.layers import ConvNormAct, InceptionBlock
from googlenet.models import create_model
from googlenet.specs.blocks import leading_1x1_branches
from tests.deploy.nets import randomise_bn, trained_scale_logits
from tests.large_models import cases


def test_fold_bn_matches_conv_then_bn():
    unit = ConvNormAct(8, 16, 3, norm="bn", act=False).eval()
    randomise_bn(unit)
    x = torch.randn(2, 8, 9, 9)
    folded = fold_bn(unit.conv, unit.bn)
    assert folded.bias is not None
    torch.testing.assert_close(folded(x), unit(x), atol=1e-5, rtol=1e-5)


def _merged(model: nn.Module) -> list[InceptionBlock]:
    return [m for m in model.modules()
            if isinstance(m, InceptionBlock) and m.merged_1x1 is not None]


@pytest.mark.parametrize("name,size,blocks,lrn,relu", [
    ("googlenet", 64, 9, 2, True), ("googlenet_bn", 64, 9, 0, True),
    ("googlenet_cifar", 32, 9, 0, True),
    # The course's blocks merge too; their convolutions have no ReLU to fuse.
    ("inception_a_net", 28, 2, 0, False),
])
def test_fused_model_is_exact(name, size, blocks, lrn, relu):
    model = create_model(name).eval()
    randomise_bn(model)
    x = torch.randn(2, model.in_chans, size, size)
    trained_scale_logits(model, x)
    fused = fuse_for_inference(model, x)
    with torch.no_grad():
        diff = (fused(x) - model(x)).abs().max().item()
    assert diff <= 1e-4
    kinds = [type(m) for m in fused.modules()]
    merged = _merged(fused)
    assert len(merged) == blocks == kinds.count(InceptionBlock)
    assert kinds.count(MatmulLRN) == lrn
    # Each merged 1x1 with its ReLU runs as one oneDNN call.
    assert all(isinstance(b.merged_1x1.conv, OneDNNConvReLU) == relu for b in merged)
    assert ReusedIndexMaxPool2d in kinds
    assert nn.BatchNorm2d not in kinds
    assert not any(k.startswith("aux") for k in fused.state_dict())
    assert any(k.startswith("aux") for k in model.state_dict()) == bool(model.aux_after)


@pytest.mark.parametrize("beta", [0.75, 0.5, 0.6])
def test_inverse_power_matches_pow(beta):
    base = 1.0 + 3.0 * torch.rand(1000)
    torch.testing.assert_close(inverse_power_(base.clone(), beta), base.pow(-beta))


@pytest.mark.parametrize("size,beta", [(5, 0.75), (5, 0.6), (4, 0.75)])
def test_lrn_forms_match_torch_lrn(size, beta):
    lrn = nn.LocalResponseNorm(size, alpha=1e-2, beta=beta, k=2.0)
    x = torch.randn(2, 12, 5, 5) * 3
    torch.testing.assert_close(MatmulLRN(lrn, 12)(x), lrn(x))
    torch.testing.assert_close(WindowLRN(lrn)(x), lrn(x))
    cl = x.contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(WindowLRN(lrn)(cl), lrn(x))


def test_graph_form_is_exact():
    model = create_model("googlenet").eval()
    x = torch.randn(2, 3, 64, 64)
    trained_scale_logits(model, x)
    fused = fuse_for_inference(model, x, "graph")
    kinds = [type(m) for m in fused.modules()]
    assert kinds.count(WindowLRN) == 2 and MatmulLRN not in kinds
    with torch.no_grad():
        assert (fused(x) - model(x)).abs().max().item() <= 1e-4


def test_reused_index_max_pool_matches_max_pool(capfd):
    pool = ReusedIndexMaxPool2d(nn.MaxPool2d(3, stride=2, ceil_mode=True))
    copy_ = copy.deepcopy(pool)
    for shape in [(2, 8, 15, 15), (3, 4, 9, 9), (2, 8, 15, 15), (1, 8, 15, 15)]:
        x = torch.randn(*shape).contiguous(memory_format=torch.channels_last)
        with torch.no_grad():
            torch.testing.assert_close(pool(x), pool.pool(x), rtol=0, atol=0)
            torch.testing.assert_close(copy_(x), pool.pool(x), rtol=0, atol=0)
        if shape[0] == 2:
            storage = pool._local.indices.untyped_storage().data_ptr()
    # The buffer changed shape (a last, smaller batch) without PyTorch's C++ "output
    # was resized" warning on stderr, and kept its storage while it was big enough.
    assert "resized" not in capfd.readouterr().err
    assert pool._local.indices.untyped_storage().data_ptr() == storage
    fresh = ReusedIndexMaxPool2d(nn.MaxPool2d(2))
    x = torch.randn(1, 2, 4, 4)
    with torch.inference_mode():
        fresh(x)  # the buffer is born here...
    with torch.no_grad():
        torch.testing.assert_close(fresh(x), F.max_pool2d(x, 2))  # ...and reused here
    x = torch.randn(2, 4, 9, 9, requires_grad=True)
    pool(x).sum().backward()  # with autograd it falls back to the plain pool
    assert x.grad is not None


def test_merged_stem_has_the_three_1x1_widths():
    model = create_model("googlenet").eval()
    fused = fuse_for_inference(model, torch.randn(1, 3, 64, 64), "graph")
    block = fused.inception_3a
    assert block.merged_split == (64, 96, 16)  # Table 1: #1x1, #3x3 reduce, #5x5 reduce
    assert block.merged_1x1.out_channels == 176 and block.merged_1x1.in_channels == 192


@pytest.mark.parametrize("path", ["channels_last", "fused"])
def test_channels_last_paths_are_exact(path):
    model = create_model("googlenet_bn").eval()
    randomise_bn(model)
    x = torch.randn(2, 3, 64, 64)
    trained_scale_logits(model, x)
    runner = build_path(path, model, x)
    with torch.no_grad():
        assert (runner(x) - model(x)).abs().max().item() <= 1e-4
    first_conv = next(m for m in runner.module.modules() if isinstance(m, nn.Conv2d))
    assert first_conv.weight.is_contiguous(memory_format=torch.channels_last)


# The full-size Inception-ResNets run at a quarter of their widths by default: the same
# branch tables, residual wrappers and linear last block, 1/16 of the weights to copy.
@pytest.mark.parametrize("name,width", cases(googlenet.list_models(), 0.25, None))
def test_every_model_fuses_exactly(name, width):
    info = googlenet.get_model_info(name)
    size = info.input_size if info.spec.fixed_input_size else max(info.min_input_size, 32)
    model = create_model(name, width=width).eval()
    randomise_bn(model)
    x = torch.randn(2, model.in_chans, size, size, generator=torch.Generator().manual_seed(3))
    trained_scale_logits(model, x)
    with torch.no_grad():
        eager = model(x)
    for target in ("eager", "graph"):  # one model and one eager run serve both targets
        fused = fuse_for_inference(model, x, target)
        with torch.no_grad():
            assert (fused(x) - eager).abs().max().item() <= 1e-4, target
        # Every block whose table opens two or more branches with a 1x1 runs them merged.
        blocks = [m for m in fused.modules() if isinstance(m, InceptionBlock)]
        assert all((b.merged_1x1 is not None) == (len(leading_1x1_branches(b.spec)) >= 2)
                   for b in blocks)
        kinds = {type(m) for m in fused.modules()}
        assert nn.BatchNorm2d not in kinds
        assert (OneDNNConvReLU in kinds) == (target == "eager" and name != "inception_a_net")


@pytest.mark.parametrize("kernel,stride,padding,size", [
    (3, 2, 0, 112), (3, 2, 0, 14), (2, 2, 0, 13), (3, 1, 1, 28), (3, 2, 1, 15), (3, 2, 0, 7)])
def test_floor_mode_pool_equals_the_ceil_mode_pool_it_stands_for(kernel, stride, padding, size):
    # The int8 graph's stand-in for ceil-mode pools (Inductor's quantized pool drops
    # ceil_mode): the same windows, so exactly the same output, signs included.
    from googlenet.deploy.fuse import FloorModeMaxPool2d

    pool = nn.MaxPool2d(kernel, stride, padding, ceil_mode=True)
    x = torch.randn(2, 3, size, size + 1)
    assert torch.equal(FloorModeMaxPool2d(pool)(x), pool(x))


def test_int8_target_keeps_1x1s_apart_and_pools_in_floor_mode():
    from googlenet.deploy.fuse import FloorModeMaxPool2d

    model = create_model("googlenet_bn", aux_logits=False, num_classes=10).eval()
    x = torch.randn(1, 3, 224, 224)
    fused = fuse_for_inference(model, x, "int8")
    assert not any(isinstance(m, InceptionBlock) and m.merged_1x1 is not None
                   for m in fused.modules())
    ceil = [m for m in model.modules() if isinstance(m, nn.MaxPool2d) and m.ceil_mode]
    assert len([m for m in fused.modules() if isinstance(m, FloorModeMaxPool2d)]) == len(ceil)
    with torch.no_grad():
        assert torch.allclose(fused(x), model(x), atol=1e-4)
