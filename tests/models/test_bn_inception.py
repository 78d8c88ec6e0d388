"""BN-Inception: Figure 5 checked column by column, the built network against it (with its
named deviations), the Caffe model's layout, the grid rule of its stride-2 modules."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from googlenet import create_model, get_model_info
from googlenet.cost import model_table
from googlenet.errors import InputSizeError, SpecError
from googlenet.layers import InceptionBlock
from googlenet.models.grid import GridStop, min_input_size, trace_grid
from googlenet.models.inception_net import InceptionNet
from googlenet.specs import BN_INCEPTION, FIGURE5
from googlenet.specs.bn_inception import CAFFE_MEAN_BGR, figure5_block
from googlenet.weights.sources import release

# Ioffe & Szegedy 2015, Figure 5: type, patch size/stride, output size, depth, #1x1,
# #3x3 reduce, #3x3, double #3x3 reduce, double #3x3, Pool +proj.
PAPER = [
    ("conv", "7x7/2", (112, 112, 64), 1, None, None, None, None, None, None),
    ("max_pool", "3x3/2", (56, 56, 64), 0, None, None, None, None, None, None),
    ("conv", "3x3/1", (56, 56, 192), 1, None, 64, 192, None, None, None),
    ("max_pool", "3x3/2", (28, 28, 192), 0, None, None, None, None, None, None),
    ("bn_inception", "", (28, 28, 256), 3, 64, 64, 64, 64, 96, "avg + 32"),
    ("bn_inception", "", (28, 28, 320), 3, 64, 64, 96, 64, 96, "avg + 64"),
    ("bn_inception", "stride 2", (28, 28, 576), 3, 0, 128, 160, 64, 96, "max + pass through"),
    ("bn_inception", "", (14, 14, 576), 3, 224, 64, 96, 96, 128, "avg + 128"),
    ("bn_inception", "", (14, 14, 576), 3, 192, 96, 128, 96, 128, "avg + 128"),
    ("bn_inception", "", (14, 14, 576), 3, 160, 128, 160, 128, 160, "avg + 128"),
    ("bn_inception", "", (14, 14, 576), 3, 96, 128, 192, 160, 192, "avg + 128"),
    ("bn_inception", "stride 2", (14, 14, 1024), 3, 0, 128, 192, 192, 256, "max + pass through"),
    ("bn_inception", "", (7, 7, 1024), 3, 352, 192, 320, 160, 224, "avg + 128"),
    ("bn_inception", "", (7, 7, 1024), 3, 352, 192, 320, 192, 224, "max + 128"),
    ("global_avg_pool", "7x7/1", (1, 1, 1024), 0, None, None, None, None, None, None),
]
DEVIATING = {"conv1", "inception_3c", "inception_4c", "inception_4d", "inception_4e"}


@pytest.fixture(scope="module")
def model() -> InceptionNet:
    return create_model("bn_inception").eval()


def test_rows_equal_figure_5():
    for row, expected in zip(FIGURE5, PAPER, strict=False):
        got = (row.type, row.patch_stride, row.out_size, row.depth, row.n1x1, row.n3x3_reduce,
               row.n3x3, row.double_3x3_reduce, row.double_3x3,
               row.pool)
        assert got == expected, row.name
    assert [r.type for r in FIGURE5[len(PAPER):]] == ["linear", "softmax"]


def test_built_sizes_agree_except_the_named_deviations(model):
    table = model_table(model)
    rows = {r.name: r for r in FIGURE5}
    differ = {line.name for line in table if line.output_size != line.paper_output_size
              and line.paper_output_size}
    assert differ == {n for n in DEVIATING if rows[n].type != "conv"}
    assert {line.name for line in table if line.differs} == differ
    assert {r.name for r in FIGURE5 if r.deviation} == DEVIATING
    # Where the figure's depth is wrong, the built one is its own branches' sum.
    for name in ("inception_4c", "inception_4d", "inception_4e"):
        block = getattr(model, name)
        outs = [b.out_channels(block.in_channels) for b in block.spec.branches]
        assert block.out_channels == sum(outs) != rows[name].out_size[2]
    assert model.inception_5a.in_channels == model.inception_4e.out_channels


def test_blocks_are_the_columns(model):
    for row in (r for r in FIGURE5 if r.type == "bn_inception"):
        block: InceptionBlock = getattr(model, row.name)
        units = dict(block.named_modules())
        convs = {p: m.out_channels for p, m in units.items() if isinstance(m, nn.Conv2d)}
        assert convs.get("branch_1x1.conv", 0) == row.n1x1
        assert convs["branch_3x3.reduce.conv"] == row.n3x3_reduce
        assert convs["branch_3x3.conv.conv"] == row.n3x3
        assert convs["branch_double_3x3.reduce.conv"] == row.double_3x3_reduce
        assert convs["branch_double_3x3.conv1.conv"] == row.double_3x3
        assert convs["branch_double_3x3.conv2.conv"] == row.double_3x3
        kind, _, proj = row.pool.partition(" + ")
        pool = units["branch_pool.pool"]
        assert isinstance(pool, nn.MaxPool2d if kind == "max" else nn.AvgPool2d)
        assert convs.get("branch_pool.proj.conv", "pass through") == \
            (int(proj) if proj.isdigit() else proj)
        stride = row.stride or 1
        assert units["branch_3x3.conv.conv"].stride == (stride, stride)
        assert units["branch_double_3x3.conv2.conv"].stride == (stride, stride)
        pad = 0 if stride == 2 else 1
        assert pool.stride == stride and pool.padding == (pad, pad)


def test_the_caffe_models_layout(model):
    units = [m for m in model.modules() if hasattr(m, "conv") and hasattr(m, "bn")]
    assert len(units) == sum(isinstance(m, nn.Conv2d) for m in model.modules())
    assert all(u.conv.bias is not None and u.bn.eps == 1e-5 for u in units)
    pools = [m for m in model.modules() if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d))]
    assert all(p.ceil_mode for p in pools)
    assert all(p.count_include_pad for p in pools if isinstance(p, nn.AvgPool2d))
    assert model.dropout.p == 0.0 and not model.aux_after
    assert not any(isinstance(m, nn.LocalResponseNorm) for m in model.modules())
    assert model.feature_info()["Mixed_4a"] == model.feature_info()["inception_3c"] == 576


def test_figure5_rows_are_checked():
    row = next(r for r in FIGURE5 if r.name == "inception_3a")
    from dataclasses import replace

    with pytest.raises(SpecError, match="'Pool \\+proj' reads like"):
        figure5_block(replace(row, pool="mean + 32"))
    with pytest.raises(SpecError, match="needs #1x1"):
        figure5_block(replace(row, n3x3=None))


def test_registry_normalisation_is_the_caffe_models():
    # A fresh model's RGB 0..1 normalisation is the Caffe model's BGR 0..255 one.
    info = get_model_info("bn_inception")
    caffe = release("timm", "bn_inception").preprocessing
    assert caffe.mean == CAFFE_MEAN_BGR and caffe.channel_order == "BGR"
    assert (info.input_size, info.min_input_size) == (224, 31)
    assert info.preprocessing.mean == pytest.approx(caffe.rgb().mean)
    assert info.preprocessing.std == pytest.approx(caffe.rgb().std)
    pixels = torch.randint(0, 256, (1, 3, 4, 4), dtype=torch.uint8)
    want = pixels.flip(1).float() - torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1)
    assert torch.allclose(caffe.normalize(pixels), want)
    assert torch.allclose(info.preprocessing.normalize(pixels), want.flip(1), atol=1e-4)


def test_odd_grids_at_the_stride_2_modules_are_one_line_errors(model):
    # The padded 3x3/2 convolutions and the unpadded 3x3/2 pool agree on even grids only.
    size = next(s for s in range(BN_INCEPTION.input_size, 0, -1)
                if isinstance(trace_grid(BN_INCEPTION, s, s), GridStop))
    with pytest.raises(InputSizeError) as err:
        model(torch.zeros(1, 3, size, size))
    message = str(err.value)
    assert "\n" not in message and "branch_pool" in message
    assert "inception_3c" in message or "inception_4e" in message
    below, above = (int(s) for s in message.rsplit("fit: ", 1)[1].rstrip(")").split(" and "))
    assert below < size < above
    with torch.no_grad():
        assert model(torch.zeros(1, 3, below, below)).shape == (1, 1000)


def test_grid_arithmetic_is_pytorchs():
    # Predicted fit and grid == what the modules do (on the meta device: shapes only).
    with torch.device("meta"):
        net = InceptionNet(BN_INCEPTION, aux_logits=False).eval()
    assert min_input_size(BN_INCEPTION) == get_model_info("bn_inception").min_input_size
    for size in range(24, 72):
        predicted = trace_grid(BN_INCEPTION, size, size)
        try:
            out = net._features(torch.zeros(1, 3, size, size, device="meta"), ())[0]
        except RuntimeError:
            assert isinstance(predicted, GridStop), size
        else:
            assert predicted == tuple(out.shape[-2:]), size


def test_a_cut_backbone_checks_only_its_own_grid():
    from googlenet.models import build_model
    from googlenet.recipe import ModelRecipe, TransferRecipe

    def cut(at: str) -> TransferRecipe:
        return TransferRecipe(ModelRecipe("bn_inception", aux_logits=False), cut=at,
                              num_classes=2, input_size=48)

    assert build_model(cut("inception_3b")).feature_shape == (320, 6, 6)
    with pytest.raises(InputSizeError, match=r"48x48 input does not fit: .*inception_4e"):
        build_model(cut("inception_5b"))
