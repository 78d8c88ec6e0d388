"""The generic InceptionBlock built from branch tables, and the heads."""

from dataclasses import replace
from functools import partial

import pytest
import torch
import torch.nn.functional as F

from googlenet.errors import SpecError
from googlenet.layers import AuxHead, ConvNormAct, InceptionBlock, InceptionV3Aux
from googlenet.models import InceptionNet, create_model
from googlenet.specs import TABLE1
from googlenet.specs.blocks import BlockSpec, Branch, Conv, Identity, Pool, Residual
from googlenet.specs.googlenet import table1_block
from googlenet.specs.small import INCEPTION_A

ROW_3A = next(r for r in TABLE1 if r.name == "inception_3a")


def _eval(block: InceptionBlock, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return block.eval()(x)


def test_table1_block_concatenates_four_branches():
    block = InceptionBlock(192, table1_block(ROW_3A))
    out = block(torch.randn(2, 192, 28, 28))
    assert out.shape == (2, 256, 28, 28)
    assert block.out_channels == 256
    # The paper's 3a: 1x1 reduce in front of 3x3 and 5x5, 1x1 projection after the pool.
    assert block.branch_3x3.reduce.conv.kernel_size == (1, 1)
    assert block.branch_5x5.conv.conv.kernel_size == (5, 5)
    assert block.branch_pool.proj.conv.in_channels == 192
    assert isinstance(block.branch_pool.pool, torch.nn.MaxPool2d)


@pytest.mark.parametrize("norm", ["none", "bn"])
def test_norm_comes_from_the_conv_factory(norm):
    block = InceptionBlock(8, table1_block(replace(ROW_3A, n1x1=4, n3x3_reduce=4, n3x3=4,
                                                   n5x5_reduce=2, n5x5=4, pool_proj=4)),
                           conv=partial(ConvNormAct, norm=norm))
    has_bn = any(isinstance(m, torch.nn.BatchNorm2d) for m in block.modules())
    assert has_bn == (norm == "bn")
    assert (block.branch_1x1.conv.bias is None) == (norm == "bn")
    assert block(torch.randn(1, 8, 5, 5)).shape == (1, 16, 5, 5)


def test_naive_block_figure_2a_passes_pool_through():
    naive = replace(ROW_3A, n3x3_reduce=None, n5x5_reduce=None, pool_proj=None)
    block = InceptionBlock(192, table1_block(naive))
    assert block(torch.randn(1, 192, 8, 8)).shape == (1, 64 + 128 + 32 + 192, 8, 8)
    assert block.branch_5x5.conv.in_channels == 192  # no reduction in front of the 5x5


def test_block_rejects_wrong_input_channels():
    block = InceptionBlock(192, table1_block(ROW_3A))
    with pytest.raises(RuntimeError):
        block(torch.randn(1, 100, 28, 28))
    with pytest.raises(SpecError, match="input channels must be a positive int"):
        InceptionBlock(0, table1_block(ROW_3A))


def test_inception_a_has_88_channels_and_plain_convolutions():
    block = InceptionBlock(10, INCEPTION_A)
    x = torch.randn(1, 10, 12, 12)
    assert block(x).shape == (1, 88, 12, 12)
    assert all(m.act is None and m.conv.bias is not None
               for m in block.modules() if isinstance(m, ConvNormAct))
    # The course's F.avg_pool2d(x, 3, 1, 1): padded zeros count in the average.
    pool = block.branch_pool
    torch.testing.assert_close(_eval(block, x)[:, -24:], pool.proj(F.avg_pool2d(x, 3, 1, 1)))


def test_each_op_kind_is_built_as_written():
    block = InceptionBlock(6, BlockSpec((
        Branch("conv", (Conv(4, (1, 7)), Conv(5, 3, stride=2, padding=1))),
        Branch("maxp", (Pool("max", 3, 2, padding=0, ceil_mode=True),)),
        Branch("avgp", (Pool("avg", 3, 2, padding=1, count_include_pad=False), Conv(3, 1))),
        Branch("skip", (Identity(), Pool("avg", 2, 2, padding=0))),
    )), pool_ceil_mode=False, count_include_pad=True)
    c1, c2 = block.conv_0, block.conv_1
    assert (c1.conv.kernel_size, c1.conv.padding) == ((1, 7), (0, 3))
    assert (c2.conv.stride, c2.conv.padding) == ((2, 2), (1, 1))
    assert block.maxp_0.ceil_mode and not block.avgp_0.count_include_pad
    assert isinstance(block.skip_0, torch.nn.Identity)
    x = torch.randn(1, 6, 8, 8)
    out = _eval(block, x)
    assert out.shape == (1, 5 + 6 + 3 + 6, 4, 4)  # ceil mode makes the max pool's 4x4
    torch.testing.assert_close(out[:, 5:11], F.max_pool2d(x, 3, 2, ceil_mode=True))
    torch.testing.assert_close(out[:, 14:], F.avg_pool2d(x, 2, 2))


def test_pool_defaults_come_from_the_network():
    spec = BlockSpec((Branch("p", (Pool("avg", 3, 1),)),))
    counted = InceptionBlock(2, spec, count_include_pad=True)
    assert counted.p_0.count_include_pad and not counted.p_0.ceil_mode
    assert not InceptionBlock(2, spec, count_include_pad=False).p_0.count_include_pad


def test_split_arms_read_the_chain_output_and_concatenate():
    block = InceptionBlock(4, BlockSpec((
        Branch("b", (Conv(6, 1, name="stem"),),
               split=(Conv(3, (1, 3), name="wide"), Conv(2, (3, 1), name="tall"))),
    )))
    x = torch.randn(2, 4, 5, 5)
    mid = block.stem(x)
    want = torch.cat([block.wide(mid), block.tall(mid)], 1)
    torch.testing.assert_close(_eval(block, x), want)
    assert block.out_channels == 5


@pytest.mark.parametrize("relu", [True, False])
def test_residual_wrapper_scales_the_projection(relu):
    spec = BlockSpec((Branch("b0", (Conv(3, 1),)), Branch("b1", (Conv(2, 1), Conv(4, 3)))),
                     residual=Residual(0.2, relu=relu, name="up"))
    block = InceptionBlock(5, spec)
    assert block.up.bn is None and block.up.act is None and block.up.conv.bias is not None
    assert block.up.conv.in_channels == 7 and block.out_channels == 5
    x = torch.randn(2, 5, 6, 6)
    concat = torch.cat([block.b0_0(x), block.b1_1(block.b1_0(x))], 1)
    want = x + 0.2 * block.up(concat)
    want = torch.relu(want) if relu else want
    out = _eval(block, x)
    torch.testing.assert_close(out, want)
    assert (out.min() >= 0) == relu


def test_merged_1x1s_compute_the_same():
    block = InceptionBlock(8, INCEPTION_A).eval()
    x = torch.randn(2, 8, 7, 7)
    before = _eval(block, x)
    assert block.merge_leading_1x1s()
    assert block.merged_branches == (0, 1, 2) and block.merged_split == (16, 16, 16)
    assert "branch_1x1" not in dict(block.named_children())
    assert "reduce" not in dict(block.branch_5x5.named_children())
    torch.testing.assert_close(_eval(block, x), before)


def test_units_with_bn_are_not_merged():
    bn_block = InceptionBlock(8, INCEPTION_A, conv=partial(ConvNormAct, norm="bn"))
    assert not bn_block.merge_leading_1x1s() and bn_block.merged_1x1 is None


def test_branch_modules_list_branches_and_projection():
    spec = BlockSpec((Branch("b0", (Pool("max", 3, 1), Conv(3, 1))),), residual=Residual(0.1))
    names = [(n, len(m)) for n, m in InceptionBlock(4, spec).branch_modules()]
    assert names == [("b0", 2), ("conv2d", 1)]


def test_aux_head_paper_layout_and_size_error():
    head = AuxHead(512, 1000)
    assert head.fc.in_features == 128 * 4 * 4
    assert head.drop.p == 0.7
    assert head(torch.randn(2, 512, 14, 14)).shape == (2, 1000)
    with pytest.raises(SpecError, match="4x4"):
        head(torch.randn(2, 512, 8, 8))
    adaptive = AuxHead(512, 10, adaptive=True)
    assert adaptive(torch.randn(2, 512, 8, 8)).shape == (2, 10)


def test_v3_aux_head_shapes_and_clear_error_below_299():
    head = InceptionV3Aux(768, 10)
    assert head(torch.randn(2, 768, 17, 17)).shape == (2, 10)
    with pytest.raises(SpecError, match="17x17 or more, got 16x16"):
        head(torch.randn(1, 768, 16, 16))


def test_head_name_constants_are_the_module_names():
    aux, v3 = AuxHead(8, 3), InceptionV3Aux(8, 3)
    assert {AuxHead.CONV, AuxHead.FC, AuxHead.CLASSIFIER} <= set(dict(aux.named_children()))
    assert {InceptionV3Aux.CONV0, InceptionV3Aux.CONV1, InceptionV3Aux.CLASSIFIER} \
        <= set(dict(v3.named_children()))
    assert {ConvNormAct.CONV, ConvNormAct.BN} <= set(dict(
        ConvNormAct(2, 2, 1, norm="bn").named_children()))
    net = create_model("inception_a_net")
    assert getattr(net, InceptionNet.CLASSIFIER) is net.get_classifier()
    assert {InceptionNet.GLOBAL_POOL, InceptionNet.DROPOUT} <= set(dict(net.named_children()))
