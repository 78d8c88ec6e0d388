"""The paper's Table 1, checked column by column, and against the built network."""

import pytest
import torch

from googlenet.cost import table1
from googlenet.models import create_model
from googlenet.specs import GOOGLENET, GOOGLENET_BN, TABLE1

# Szegedy et al. 2014, Table 1: type, patch/stride, output, depth, #1x1, #3x3 reduce,
# #3x3, #5x5 reduce, #5x5, pool proj, params, ops.
PAPER = [
    ("conv", "7x7/2", (112, 112, 64), 1, None, None, None, None, None, None, 2_700, 34e6),
    ("max_pool", "3x3/2", (56, 56, 64), 0, None, None, None, None, None, None, None, None),
    ("conv", "3x3/1", (56, 56, 192), 2, None, 64, 192, None, None, None, 112_000, 360e6),
    ("max_pool", "3x3/2", (28, 28, 192), 0, None, None, None, None, None, None, None, None),
    ("inception", "", (28, 28, 256), 2, 64, 96, 128, 16, 32, 32, 159_000, 128e6),
    ("inception", "", (28, 28, 480), 2, 128, 128, 192, 32, 96, 64, 380_000, 304e6),
    ("max_pool", "3x3/2", (14, 14, 480), 0, None, None, None, None, None, None, None, None),
    ("inception", "", (14, 14, 512), 2, 192, 96, 208, 16, 48, 64, 364_000, 73e6),
    ("inception", "", (14, 14, 512), 2, 160, 112, 224, 24, 64, 64, 437_000, 88e6),
    ("inception", "", (14, 14, 512), 2, 128, 128, 256, 24, 64, 64, 463_000, 100e6),
    ("inception", "", (14, 14, 528), 2, 112, 144, 288, 32, 64, 64, 580_000, 119e6),
    ("inception", "", (14, 14, 832), 2, 256, 160, 320, 32, 128, 128, 840_000, 170e6),
    ("max_pool", "3x3/2", (7, 7, 832), 0, None, None, None, None, None, None, None, None),
    ("inception", "", (7, 7, 832), 2, 256, 160, 320, 32, 128, 128, 1_072_000, 54e6),
    ("inception", "", (7, 7, 1024), 2, 384, 192, 384, 48, 128, 128, 1_388_000, 71e6),
    ("global_avg_pool", "7x7/1", (1, 1, 1024), 0, None, None, None, None, None, None, None, None),
    ("dropout", "", (1, 1, 1024), 0, None, None, None, None, None, None, None, None),
    ("linear", "", (1, 1, 1000), 1, None, None, None, None, None, None, 1_000_000, 1e6),
    ("softmax", "", (1, 1, 1000), 0, None, None, None, None, None, None, None, None),
]


def test_rows_equal_the_paper():
    assert len(TABLE1) == len(PAPER)
    for row, expected in zip(TABLE1, PAPER, strict=True):
        got = (row.type, row.patch_stride, row.out_size, row.depth, row.n1x1, row.n3x3_reduce,
               row.n3x3, row.n5x5_reduce, row.n5x5, row.pool_proj, row.paper_params,
               row.paper_ops)
        assert got == expected, row.name


@pytest.fixture(scope="module")
def paper_table():
    return table1(create_model("googlenet"))


def test_built_network_has_the_papers_output_sizes(paper_table):
    for line, row in zip(paper_table, TABLE1, strict=True):
        h, w, c = row.out_size
        assert line.output_size == f"{h}x{w}x{c}", row.name


def test_computed_costs_and_marked_rows(paper_table):
    by_type = [(line.type, line) for line in paper_table]
    conv1 = by_type[0][1]
    assert conv1.params == 7 * 7 * 3 * 64 + 64
    assert conv1.macs == 112 * 112 * 64 * 7 * 7 * 3
    assert conv1.differs  # the paper prints 2.7K / 34M
    inc3a = next(line for t, line in by_type if t == "inception (3a)")
    assert inc3a.macs == pytest.approx(128e6, rel=0.01)
    assert not inc3a.differs
    total_params = sum(line.params for line in paper_table)
    total_macs = sum(line.macs for line in paper_table)
    assert 6.7e6 < total_params < 7.1e6  # the paper: about 6.8M
    assert 1.45e9 < total_macs < 1.65e9  # the paper: about 1.5G multiply-adds


def test_lrn_where_the_paper_puts_it():
    model = create_model("googlenet")
    assert isinstance(model.pool1_norm, torch.nn.LocalResponseNorm)
    assert isinstance(model.conv2_norm, torch.nn.LocalResponseNorm)
    order = model.feature_names
    assert order.index("pool1") < order.index("pool1_norm") < order.index("conv2_reduce")
    assert order.index("conv2") < order.index("conv2_norm") < order.index("pool2")
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert model.conv1.conv.bias is not None


def test_paper_heads():
    model = create_model("googlenet")
    assert model.dropout.p == 0.4
    for name in ("aux_4a", "aux_4d"):
        head = getattr(model, name)
        assert isinstance(head.pool, torch.nn.AvgPool2d) and head.pool.kernel_size == 5
        assert head.pool.stride == 3
        assert head.conv.conv.out_channels == 128 and head.fc.out_features == 1024
        assert head.drop.p == 0.7 and head.classifier.out_features == 1000
    assert model.aux_after == {"aux_4a": "inception_4a", "aux_4d": "inception_4d"}


def test_bn_variant_deviations_are_named_fields():
    assert (GOOGLENET.kernel_5x5, GOOGLENET_BN.kernel_5x5) == (5, 3)
    assert (GOOGLENET.dropout, GOOGLENET_BN.dropout) == (0.4, 0.2)
    assert (GOOGLENET.norm, GOOGLENET_BN.norm) == ("none", "bn")
    assert GOOGLENET_BN.bn_eps == 1e-3 and not GOOGLENET_BN.use_lrn
    pool4 = {r.name: r for r in GOOGLENET_BN.rows}["pool4"]
    assert pool4.patch == 2
    model = create_model("googlenet_bn")
    assert model.inception_3a.branch_5x5.conv.conv.kernel_size == (3, 3)
    assert model.conv1.bn.eps == 1e-3 and model.conv1.conv.bias is None
