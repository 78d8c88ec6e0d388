import pytest
import torch

from googlenet.errors import SpecError
from googlenet.layers import (
    AuxHead,
    ConvNormAct,
    InceptionA,
    InceptionBlock,
    NaiveInceptionBlock,
)


def test_inception_block_concatenates_four_branches():
    block = InceptionBlock(192, 64, (96, 128), (16, 32), 32)
    out = block(torch.randn(2, 192, 28, 28))
    assert out.shape == (2, 256, 28, 28)
    assert block.out_channels == 256
    # The paper's 3a: 1x1 reduce in front of 3x3 and 5x5, 1x1 projection after the pool.
    assert block.branch_3x3.reduce.conv.kernel_size == (1, 1)
    assert block.branch_5x5.conv.conv.kernel_size == (5, 5)
    assert block.branch_pool.proj.conv.in_channels == 192


def test_inception_block_kernel_5x5_is_a_field():
    block = InceptionBlock(192, 64, (96, 128), (16, 32), 32, kernel_5x5=3)
    assert block.branch_5x5.conv.conv.kernel_size == (3, 3)


@pytest.mark.parametrize("norm", ["none", "bn"])
def test_inception_block_norm_choices(norm):
    from functools import partial

    block = InceptionBlock(8, 4, (4, 4), (2, 4), 4, conv=partial(ConvNormAct, norm=norm))
    has_bn = any(isinstance(m, torch.nn.BatchNorm2d) for m in block.modules())
    assert has_bn == (norm == "bn")
    assert (block.branch_1x1.conv.bias is None) == (norm == "bn")
    assert block(torch.randn(1, 8, 5, 5)).shape == (1, 16, 5, 5)


def test_inception_block_lrn_output_norm():
    block = InceptionBlock(8, 4, (4, 4), (2, 4), 4, out_norm="lrn")
    assert isinstance(block.norm, torch.nn.LocalResponseNorm)
    assert block(torch.randn(1, 8, 5, 5)).shape == (1, 16, 5, 5)


def test_naive_block_figure_2a_passes_pool_through():
    block = NaiveInceptionBlock(192, 64, 128, 32)
    out = block(torch.randn(1, 192, 28, 28))
    assert out.shape == (1, 64 + 128 + 32 + 192, 28, 28)
    assert block.branch_5x5.conv.in_channels == 192  # no reduction in front of the 5x5


def test_naive_block_with_projection_keeps_width():
    block = NaiveInceptionBlock(192, 64, 128, 32, pool_proj=32)
    assert block(torch.randn(1, 192, 8, 8)).shape[1] == 256


@pytest.mark.parametrize("bad", [0, -4])
def test_channel_arithmetic_is_checked(bad):
    with pytest.raises(SpecError, match="#3x3"):
        InceptionBlock(192, 64, (96, bad), (16, 32), 32)


def test_block_rejects_wrong_input_channels():
    block = InceptionBlock(192, 64, (96, 128), (16, 32), 32)
    with pytest.raises(RuntimeError):
        block(torch.randn(1, 100, 28, 28))


def test_inception_a_has_88_channels():
    block = InceptionA(10)
    assert block(torch.randn(1, 10, 12, 12)).shape == (1, 88, 12, 12)


def test_aux_head_paper_layout_and_size_error():
    head = AuxHead(512, 1000)
    assert head.fc.in_features == 128 * 4 * 4
    assert head.drop.p == 0.7
    assert head(torch.randn(2, 512, 14, 14)).shape == (2, 1000)
    with pytest.raises(SpecError, match="4x4"):
        head(torch.randn(2, 512, 8, 8))
    adaptive = AuxHead(512, 10, adaptive=True)
    assert adaptive(torch.randn(2, 512, 8, 8)).shape == (2, 10)
