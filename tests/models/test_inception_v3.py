"""Inception v3 from spec rows: sizes, parameter counts, names, aux head, pooling variants."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from googlenet import create_model, get_model_info
from googlenet.cost import model_table, profile_model
from googlenet.errors import InputSizeError, SpecError
from googlenet.layers import InceptionBlock
from googlenet.models.inception_net import InceptionNet
from googlenet.specs import INCEPTION_V3, INCEPTION_V3_KERAS
from googlenet.specs.inception_v3 import TORCHVISION_NAMES, block_a


@pytest.fixture(scope="module")
def v3() -> InceptionNet:
    return create_model("inception_v3").eval()


def _count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_equal_the_references(v3):
    # torchvision's documented inception_v3 (aux head on): 27,161,264 parameters.
    assert _count(v3) == 27_161_264
    # Keras' InceptionV3 with top: 23,851,784 from count_params(), which counts each BN's
    # beta, moving mean and moving variance (scale=False, no gamma); PyTorch counts gamma
    # and beta as parameters and the moving statistics as buffers.
    plain = create_model("inception_v3", aux_logits=False)
    bn_channels = sum(b.numel() for k, b in plain.named_buffers() if k.endswith("running_mean"))
    assert _count(plain) + bn_channels == 23_851_784
    assert _count(plain) == get_model_info("inception_v3").num_params == 23_834_568


def test_every_row_size_matches_the_built_network(v3):
    rows = model_table(v3)
    assert all(r.paper_output_size for r in rows)
    assert [r.output_size for r in rows] == [r.paper_output_size for r in rows]
    assert rows[-1].output_size == "1x1x1000"


def test_multiply_adds_match_torchvision():
    # torchvision documents 5.71 "GFLOPS" for inception_v3 at 299; they are multiply-adds.
    macs = sum(c.macs for c in profile_model(create_model("inception_v3", aux_logits=False),
                                             299, 3))
    assert round(macs / 1e9, 2) == 5.71


def test_metadata():
    for name in ("inception_v3", "inception_v3_keras"):
        info = get_model_info(name)
        assert (info.input_size, info.min_input_size) == (299, 75)
        assert info.mean == info.std == (0.5, 0.5, 0.5)
        assert info.spec.bn_eps == 1e-3
    assert INCEPTION_V3.avg_pool_count_include_pad
    assert not INCEPTION_V3_KERAS.avg_pool_count_include_pad
    assert INCEPTION_V3_KERAS.dropout == 0.0 and not INCEPTION_V3_KERAS.aux


def test_state_dict_names_are_stem_and_mixed_blocks(v3):
    keys = v3.state_dict()
    assert "Conv2d_1a_3x3.conv.weight" in keys and "Conv2d_1a_3x3.conv.bias" not in keys
    assert keys["mixed4.branch7x7_2.conv.weight"].shape == (128, 128, 1, 7)
    assert keys["mixed10.branch3x3dbl_3b.conv.weight"].shape == (384, 384, 3, 1)
    assert keys["aux_mixed7.conv1.conv.weight"].shape == (768, 128, 5, 5)
    assert v3.aux_mixed7.conv1.bn.eps == 1e-3


def test_torchvision_names_are_feature_aliases(v3):
    x = torch.randn(1, 3, 75, 75)
    with torch.no_grad():
        out = v3.forward_intermediates(x, ["mixed7", "Mixed_6e", "Mixed_7c"])
        assert torch.equal(out["mixed7"], out["Mixed_6e"])
        assert torch.equal(out["Mixed_7c"], v3.forward_features(x))
    assert set(TORCHVISION_NAMES.values()) == {f"mixed{i}" for i in range(11)}
    info = v3.feature_info()
    assert info["mixed7"] == info["Mixed_6e"] == 768 and info["Mixed_7a"] == 1280


def test_minimum_input_is_75(v3):
    with torch.no_grad():
        assert v3(torch.randn(1, 3, 75, 75)).shape == (1, 1000)
    with pytest.raises(InputSizeError, match="75x75"):
        v3(torch.randn(1, 3, 74, 74))


def test_reset_classifier_resets_the_aux_head_too():
    model = create_model("inception_v3")
    model.reset_classifier(7)
    assert model.fc.out_features == model.aux_mixed7.classifier.out_features == 7


def test_pooling_variants_differ_only_at_the_border():
    torch.manual_seed(0)
    tv = InceptionBlock(16, block_a(8), count_include_pad=True).eval()
    keras = InceptionBlock(16, block_a(8), count_include_pad=False).eval()
    keras.load_state_dict(tv.state_dict())
    x = torch.rand(1, 16, 9, 9)
    with torch.no_grad():
        a, b = tv(x), keras(x)
    assert torch.equal(a[..., 1:-1, 1:-1], b[..., 1:-1, 1:-1])
    assert not torch.allclose(a, b)
    pool = keras.branch_pool  # the Keras branch: mean over the real pixels only
    want = pool(F.avg_pool2d(x, 3, 1, 1, count_include_pad=False))
    assert torch.allclose(b[:, -8:], want)


def test_bad_rows_raise_spec_errors():
    rows = tuple(replace(r, block=None) if r.name == "mixed1" else r for r in INCEPTION_V3.rows)
    with pytest.raises(SpecError, match=r"row mixed1: a block row needs its branch table"):
        InceptionNet(replace(INCEPTION_V3, rows=rows))
    rows = tuple(replace(r, block=block_a(8)) if r.name == "mixed1" else r
                 for r in INCEPTION_V3.rows)
    with pytest.raises(SpecError, match=r"row mixed1: branches add up to 64\+64\+96\+8=232"):
        InceptionNet(replace(INCEPTION_V3, rows=rows))


def test_width_scales_every_branch_table():
    half = create_model("inception_v3", width=0.5, aux_logits=False).eval()
    assert half.mixed0.out_channels == 128 and half.mixed10.out_channels == 1024
    with torch.no_grad():
        assert half(torch.randn(1, 3, 75, 75)).shape == (1, 1000)
