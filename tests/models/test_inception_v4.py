"""Inception-v4 from spec rows: the published parameter count, sizes, Reduction-A's k, l,
m, n, TF-slim's names as aliases, the released network's pooling and normalisation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from googlenet import create_model, get_model_info
from googlenet.cost import model_table
from googlenet.models.inception_net import InceptionNet
from googlenet.specs import INCEPTION_V4
from googlenet.specs.inception_v4 import SLIM_NAMES, reduction_a


@pytest.fixture(scope="module")
def v4() -> InceptionNet:
    return create_model("inception_v4").eval()


def test_parameter_count_is_the_published_one(v4):
    # Inception-v4 with a 1000-class head: 42,679,816 parameters (timm's inception_v4).
    assert sum(p.numel() for p in v4.parameters()) == 42_679_816
    assert get_model_info("inception_v4").num_params == 42_679_816


def test_every_row_size_matches_the_built_network(v4):
    rows = model_table(v4)
    assert all(r.paper_output_size for r in rows)
    assert [r.output_size for r in rows] == [r.paper_output_size for r in rows]
    assert not any(r.differs for r in rows)


def test_figure_9_schema(v4):
    blocks = [r for r in INCEPTION_V4.rows if r.block is not None]
    stages = [r.cells["stage"] for r in blocks]
    assert [stages.count(s) for s in ("stem", "4 x Inception-A", "Reduction-A",
                                      "7 x Inception-B", "Reduction-B", "3 x Inception-C")] \
        == [3, 4, 1, 7, 1, 3]
    assert [r.block.label.split(" (")[0] for r in blocks].count("Inception-B") == 7
    assert v4.dropout.p == pytest.approx(1 - 0.8)  # "Dropout (keep 0.8)"
    assert not v4.aux_after and v4.num_features == 1536


def test_reduction_a_filters_are_table_1s(v4):
    # Table 1 of the paper: Inception-v4's Reduction-A has k, l, m, n = 192, 224, 256, 384.
    block = v4.reduction_a
    widths = {name: m.out_channels for name, m in block.named_modules()
              if isinstance(m, nn.Conv2d)}
    assert (widths["branch3x3dbl_1.conv"], widths["branch3x3dbl_2.conv"],
            widths["branch3x3dbl_3.conv"], widths["branch3x3.conv"]) == (192, 224, 256, 384)
    assert block.spec == reduction_a(192, 224, 256, 384)


def test_released_network_choices(v4):
    units = [m for m in v4.modules() if hasattr(m, "bn") and hasattr(m, "conv")]
    assert all(u.bn.eps == 1e-3 and u.conv.bias is None for u in units)
    avg = [m for m in v4.modules() if isinstance(m, nn.AvgPool2d)]
    assert len(avg) == 4 + 7 + 3 and not any(p.count_include_pad for p in avg)
    assert not any(p.ceil_mode for p in v4.modules() if isinstance(p, nn.MaxPool2d))
    info = get_model_info("inception_v4")
    assert (info.input_size, info.min_input_size) == (299, 75)
    assert info.mean == info.std == (0.5, 0.5, 0.5)


def test_tf_slim_names_are_feature_aliases(v4):
    assert list(SLIM_NAMES)[0] == "Mixed_3a" and list(SLIM_NAMES)[-1] == "Mixed_7d"
    assert SLIM_NAMES["Mixed_6a"] == "reduction_a" and SLIM_NAMES["Mixed_7a"] == "reduction_b"
    x = torch.randn(1, 3, 75, 75)
    with torch.no_grad():
        out = v4.forward_intermediates(x, ["Mixed_6h", "inception_b7", "Mixed_7d"])
        assert torch.equal(out["Mixed_6h"], out["inception_b7"])
        assert torch.equal(out["Mixed_7d"], v4.forward_features(x))
    info = v4.feature_info()
    assert info["Mixed_5e"] == 384 and info["Mixed_6h"] == 1024 and info["Mixed_7d"] == 1536


def test_state_dict_names(v4):
    keys = v4.state_dict()
    assert keys["inception_c1.branch3x3dbl_4a.conv.weight"].shape == (256, 512, 1, 3)
    assert keys["inception_b1.branch7x7dbl_2.conv.weight"].shape == (192, 192, 7, 1)
    assert keys["stem_4a.branch7x7x3_4.conv.weight"].shape == (96, 64, 3, 3)
    assert keys["Conv2d_1a_3x3.conv.weight"].shape == (32, 3, 3, 3)
