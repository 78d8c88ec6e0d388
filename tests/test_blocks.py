"""The block format as data: branch tables, names, widths, depth, and one-line errors."""

from __future__ import annotations

import pytest

from googlenet.errors import SpecError
from googlenet.specs import TABLE1
from googlenet.specs.blocks import (
    BlockSpec,
    Branch,
    Conv,
    Identity,
    Pool,
    Residual,
    leading_1x1_branches,
    op_paths,
    scale_block,
)
from googlenet.specs.googlenet import TABLE1_MODULES, table1_block
from googlenet.specs.inception_v3 import BLOCK_B, BLOCK_E, block_a, block_c

ROW_3A = next(r for r in TABLE1 if r.name == "inception_3a")


def test_table1_row_becomes_figure_2b():
    block = table1_block(ROW_3A)
    assert [b.name for b in block.branches] == ["branch_1x1", "branch_3x3", "branch_5x5",
                                                "branch_pool"]
    assert block.describe() == ("1x1 64 | 1x1 96 > 3x3 128 | 1x1 16 > 5x5 32 | "
                                "max pool 3x3 > 1x1 32")
    assert block.out_channels(192) == 256 and block.depth() == 2
    paths = {p for chain, _ in op_paths(block) for p in chain}
    assert set(TABLE1_MODULES.values()) <= paths
    assert table1_block(ROW_3A, kernel_5x5=3).branches[2].ops[1].kernel == 3


def test_empty_reduce_columns_give_figure_2a():
    from dataclasses import replace

    naive = table1_block(replace(ROW_3A, n3x3_reduce=None, n5x5_reduce=None, pool_proj=None))
    assert naive.describe() == "1x1 64 | 3x3 128 | 5x5 32 | max pool 3x3"
    assert naive.depth() == 1
    assert naive.out_channels(192) == 64 + 128 + 32 + 192  # the pool passes 192 through
    assert op_paths(naive)[1] == (("branch_3x3",), ())


def test_v3_tables_carry_tf_slim_names():
    assert op_paths(block_a(32))[3] == (("branch_pool_0", "branch_pool"), ())
    assert op_paths(block_c(128))[2][0] == tuple(f"branch7x7dbl_{i}" for i in range(1, 6))
    assert op_paths(BLOCK_E)[2] == (("branch3x3dbl_1", "branch3x3dbl_2"),
                                    ("branch3x3dbl_3a", "branch3x3dbl_3b"))
    assert BLOCK_E.out_channels(1280) == 2048 and BLOCK_E.depth() == 3
    assert BLOCK_B.out_channels(288) == 384 + 96 + 288


def test_split_and_identity_widths():
    block = BlockSpec((
        Branch("a", (Conv(8, 1),), split=(Conv(4, (1, 3)), Conv(4, (3, 1)), Identity())),
        Branch("b", (Identity(),)),
    ))
    assert block.branches[0].out_channels(6) == 4 + 4 + 8
    assert block.out_channels(6) == 16 + 6
    assert block.describe() == "1x1 8 > (1x3 4 | 3x1 4 | identity) | identity"


def test_residual_keeps_the_input_width():
    block = BlockSpec((Branch("b0", (Conv(32, 1),)), Branch("b1", (Conv(32, 1), Conv(48, 3)))),
                      residual=Residual(0.17))
    assert block.out_channels(320) == 320 and block.concat_channels(320) == 80
    assert block.depth() == 3  # 1x1, 3x3, then the projection
    assert block.describe().endswith("; + 1x1 linear projection, x 0.17")
    assert Residual(1.0, relu=False).describe() == "1x1 linear projection, x 1, no ReLU"


def test_leading_1x1_branches_come_from_the_table():
    assert leading_1x1_branches(table1_block(ROW_3A)) == (0, 1, 2)
    assert leading_1x1_branches(block_a(32)) == (0, 1, 2)
    assert leading_1x1_branches(BLOCK_B) == (1,)  # its 3x3/2 is no 1x1
    padded = BlockSpec((Branch("p", (Conv(4, 1, padding=1),)),))
    assert leading_1x1_branches(padded) == ()


def test_scale_block_scales_convolutions_only():
    half = scale_block(block_a(32), lambda c: c // 2)
    assert half.describe() == ("1x1 32 | 1x1 24 > 5x5 32 | 1x1 32 > 3x3 48 > 3x3 48 | "
                               "avg pool 3x3 > 1x1 16")


def _one(branch: str, name: str) -> Branch:
    return Branch(branch, (Conv(4, 1, name=name),))


@pytest.mark.parametrize("make, message", [
    (lambda: Conv(0, 3), "out channels must be a positive int"),
    (lambda: Conv(8, 0), "kernel and stride must be positive"),
    (lambda: Conv(8, 3, padding=-1), "padding must not be negative"),
    (lambda: Pool("min"), "kind must be 'max' or 'avg'"),  # type: ignore[arg-type]
    (lambda: Pool("max", stride=0), "kernel and stride must be positive"),
    (lambda: Pool("max", 3, padding=2), "more than half the kernel"),
    (lambda: Branch("b", ()), "has no ops"),
    (lambda: Branch("b.c", (Identity(),)), "without dots"),
    (lambda: Branch("b", (Conv(4, 1),), split=(Conv(4, 3),)), "two or more arms"),
    (lambda: BlockSpec(()), "has no branches"),
    (lambda: Residual(0.0), "scale must be positive"),
    (lambda: BlockSpec((_one("a", "x"), _one("b", "x"))), "'x' is used twice"),
    (lambda: BlockSpec((_one("a", "x.y"), _one("b", "x"))), "'x' is used twice"),
    (lambda: BlockSpec((Branch("a", (Conv(4, 1, name="x.y.z"),)),)), "nests deeper"),
    (lambda: BlockSpec((Branch("a", (Conv(4, 1, name="conv2d"),)),), residual=Residual(0.1)),
     "'conv2d' is used twice"),
])
def test_bad_specs_are_one_line_spec_errors(make, message):
    with pytest.raises(SpecError, match=message) as info:
        make()
    assert "\n" not in str(info.value)
