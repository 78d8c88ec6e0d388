"""Inception-ResNet v1/v2 from spec rows: published counts, sizes, names, the release's
deviations from the paper, residual blocks, FaceNet's embedding, cut points."""

from __future__ import annotations

import pytest
import torch

from googlenet import create_model, get_model_info
from googlenet.cost import model_table, profile_model
from googlenet.layers import ConvNormAct, InceptionBlock
from googlenet.models.inception_net import InceptionNet
from googlenet.models.transfer import TransferModel
from googlenet.recipe import ModelRecipe, TransferRecipe
from googlenet.specs.inception_resnet import (
    INCEPTION_RESNET_V1,
    INCEPTION_RESNET_V2,
    TF_SLIM_NAMES,
    V1_STAGES,
    V2_STAGES,
    Stages,
)


def _meta(name: str, **kwargs) -> InceptionNet:
    with torch.device("meta"):  # shapes and names only
        model = create_model(name, **kwargs)
    assert isinstance(model, InceptionNet)
    return model


def _count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _blocks(model: InceptionNet, prefix: str) -> list[str]:
    return [n for n in model.feature_names if n.startswith(prefix)]


def test_v2_parameters_and_multiply_adds_are_the_published_ones():
    model = _meta("inception_resnet_v2")
    # timm's inception_resnet_v2: 55.8M parameters (55,843,464), 13.2 GMACs at 299.
    assert _count(model) == get_model_info("inception_resnet_v2").num_params == 55_843_464
    macs = sum(c.macs for c in profile_model(model, 299, 3))
    assert round(macs / 1e9, 1) == 13.2


def test_facenet_is_the_paper_network_plus_a_linear_block_and_its_embedding():
    facenet, paper = _meta("inception_resnet_v1_facenet"), _meta("inception_resnet_v1")
    # One more C block, the 512-d bottleneck (no bias) with BN (gamma, beta); no classifier.
    added = _count(paper.block8_5) + 1792 * 512 + 2 * 512
    assert _count(facenet) == _count(paper) - _count(paper.fc) + added
    assert facenet.embedding is not None and facenet.embedding.linear.bias is None
    assert get_model_info("inception_resnet_v1_facenet").input_size == 160


@pytest.mark.parametrize("spec", [INCEPTION_RESNET_V2, INCEPTION_RESNET_V1],
                         ids=lambda s: s.name)
def test_every_printed_size_matches_the_built_network(spec):
    rows = model_table(_meta(spec.name))
    assert all(r.paper_output_size for r in rows)
    assert [r.output_size for r in rows] == [r.paper_output_size for r in rows]


def test_the_release_deviations_are_fields_against_the_paper():
    paper = Stages(V2_STAGES.a, V2_STAGES.reduction_a, V2_STAGES.b, V2_STAGES.reduction_b,
                   V2_STAGES.c)
    assert paper.repeats == (5, 10, 5) and not paper.linear_last and paper.final_conv is None
    assert V2_STAGES.repeats == (10, 20, 9) and V2_STAGES.linear_last
    assert V2_STAGES.final_conv == 1536
    v2 = _meta("inception_resnet_v2")
    assert [len(_blocks(v2, p)) for p in ("block35_", "block17_", "block8_")] == [10, 20, 10]
    assert v2.num_features == 1536 and v2.feature_channels["mixed_5b"] == 320
    v1 = _meta("inception_resnet_v1")
    assert [len(_blocks(v1, p)) for p in ("block35_", "block17_", "block8_")] == [5, 10, 5]
    assert v1.num_features == 1792 and v1.feature_channels["Conv2d_4b_3x3"] == 256
    assert V1_STAGES.final_conv is None and not V1_STAGES.linear_last


def test_residual_blocks_scale_and_the_last_block_is_linear():
    v2 = _meta("inception_resnet_v2")
    scales = {p: {getattr(v2, n).spec.residual.scale for n in _blocks(v2, p)[:-1]}
              for p in ("block35_", "block17_", "block8_")}
    assert scales == {"block35_": {0.17}, "block17_": {0.10}, "block8_": {0.20}}
    last = v2.block8_10.spec.residual
    assert (last.scale, last.relu) == (1.0, False)
    # The projection back to the input width: bias, no BN, no ReLU.
    proj = v2.block17_3.conv2d
    assert isinstance(proj, ConvNormAct) and proj.bn is None and proj.act is None
    assert proj.conv.bias is not None and proj.conv.out_channels == 1088


def test_residual_block_computes_x_plus_scaled_projection():
    torch.manual_seed(0)
    block = InceptionBlock(32, V1_STAGES.c).eval()
    x = torch.randn(1, 32, 5, 5)
    with torch.no_grad():
        chain = block.branch1  # a ModuleDict: "0", "1", "2"
        branches = torch.cat([block.branch0(x), chain["2"](chain["1"](chain["0"](x)))], 1)
        want = torch.relu(x + 0.20 * block.conv2d(branches))
        torch.testing.assert_close(block(x), want)


def test_names_are_keras_blocks_with_tf_slim_aliases():
    model = create_model("inception_resnet_v2", aux_logits=False).eval()
    keys = model.state_dict()
    assert keys["block35_1.branch2.2.conv.weight"].shape == (64, 48, 3, 3)
    assert keys["block17_20.branch1.1.conv.weight"].shape == (160, 128, 1, 7)
    assert keys["block8_10.conv2d.conv.bias"].shape == (2080,)
    assert "mixed_6a.branch0.bn.running_var" in keys and "conv_7b.bn.weight" in keys
    assert "Conv2d_1a_3x3.conv.bias" not in keys and model.conv_7b.bn.eps == 1e-3
    info = model.feature_info()
    assert all(info[alias] == info[ours] for alias, ours in TF_SLIM_NAMES.items())
    x = torch.randn(1, 3, 75, 75)
    with torch.no_grad():
        out = model.forward_intermediates(x, ["Mixed_7a", "mixed_7a", "Conv2d_7b_1x1"])
        assert torch.equal(out["Mixed_7a"], out["mixed_7a"])
        assert torch.equal(out["Conv2d_7b_1x1"], model.forward_features(x))


def test_mixed_5b_pool_leaves_the_padding_out():
    # TF's 'SAME' average pooling (Keras, timm: count_include_pad=False).
    pool = _meta("inception_resnet_v2").mixed_5b.branch3["0"]
    assert isinstance(pool, torch.nn.AvgPool2d) and not pool.count_include_pad


def test_facenet_returns_the_embedding_and_trains_a_classifier_on_it():
    model = create_model("inception_resnet_v1_facenet").eval()
    x = torch.randn(2, 3, 75, 75)
    with torch.no_grad():
        emb = model(x)
        assert emb.shape == (2, 512)
        torch.testing.assert_close(model.forward_head(model.forward_features(x),
                                                      pre_logits=True), emb)
    model.reset_classifier(7)
    assert model.fc.in_features == 512 and model(x).shape == (2, 7)
    assert [n for n in model.feature_names if n.startswith("block8_")][-1] == "block8_6"
    assert not model.block8_6.spec.residual.relu


@pytest.mark.parametrize("name,cut", [("inception_resnet_v2", "block17_20"),
                                      ("inception_resnet_v1", "Mixed_6a"),
                                      ("inception_resnet_mnist", "mixed_7a")])
def test_every_block_is_a_cut_point(name, cut):
    size = get_model_info(name).min_input_size
    recipe = TransferRecipe(ModelRecipe(name, num_classes=0), cut=cut, num_classes=3,
                            input_size=size)
    backbone = create_model(name, num_classes=0)
    model = TransferModel(backbone, recipe).eval()
    with torch.no_grad():
        assert model(torch.randn(2, backbone.in_chans, size, size)).shape == (2, 3)
    blocks = [n for n, m in backbone.named_children() if isinstance(m, InceptionBlock)]
    assert set(blocks) <= set(backbone.feature_info())


@pytest.mark.parametrize("name", ["inception_resnet_mnist", "inception_resnet_cifar",
                                  "inception_resnet_v1_facenet"])
def test_backward_at_the_minimum_size(name):
    # tests/test_models.py trains these at their input size (and the full-size two at
    # their minimum); here the smallest map: 1x1 after the last grid reduction.
    info = get_model_info(name)
    model = create_model(name, num_classes=3).train()
    size = info.min_input_size
    model(torch.randn(2, info.in_chans, size, size)).logsumexp(1).mean().backward()
    assert all(p.grad is not None and p.grad.any() for p in model.parameters())
