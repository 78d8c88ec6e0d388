"""Named features down to the branch, for every registered model and for a backbone cut:
``<block>.<branch>`` names come from each block's table, read the branch's own output, and
the block's output is made of them."""

from __future__ import annotations

import pytest
import torch

from googlenet import create_model, get_model_info, list_models
from googlenet.errors import UnknownFeatureError
from googlenet.models import build_model
from googlenet.recipe import ModelRecipe, TransferRecipe


@pytest.mark.parametrize("name", list_models())
def test_every_branch_is_a_feature_and_its_block_is_made_of_them(name):
    info = get_model_info(name)
    model = create_model(name, aux_logits=False).eval()
    size = info.input_size if info.spec.fixed_input_size else info.min_input_size
    x = torch.randn(1, info.in_chans, size, size)
    blocks = model.blocks()
    assert blocks, f"{name} has no blocks"
    branches = model.branch_info()
    # The module before each block gives the block's input.
    before = {b: model.feature_names[model.feature_names.index(b) - 1] for b, _ in blocks}
    names = [*branches, *(b for b, _ in blocks), *before.values()]
    with torch.no_grad():
        out = model.forward_intermediates(x, names)
        logits, tapped = model.forward_with_features(x, names)
        assert torch.equal(logits, model(x))  # tapping changes nothing
    for key, channels in branches.items():
        assert out[key].shape[1] == channels and torch.equal(out[key], tapped[key])
    for block_name, block in blocks:
        parts = [out[f"{block_name}.{b.name}"] for b in block.spec.branches]
        assert sum(p.shape[1] for p in parts) == block.spec.concat_channels(block.in_channels)
        with torch.no_grad():
            joined = block.join(out[before[block_name]].clone(), parts)
        torch.testing.assert_close(joined, out[block_name], rtol=0, atol=1e-6)


def test_unknown_branches_are_one_line_errors_that_list_the_valid_ones():
    model = create_model("googlenet", aux_logits=False)
    x = torch.randn(1, 3, 64, 64)
    with pytest.raises(UnknownFeatureError,
                       match="branches of inception_3a: inception_3a.branch_1x1"):
        model.forward_intermediates(x, ["inception_3a.branch_7x7"])
    with pytest.raises(UnknownFeatureError, match="not a block"):
        model.forward_intermediates(x, ["conv1.conv"])
    with pytest.raises(UnknownFeatureError, match="no feature 'inception_9z'"):
        model.forward_intermediates(x, ["inception_9z.branch_1x1"])


def test_aliases_reach_branches_too():
    v3 = create_model("inception_v3", aux_logits=False).eval()
    with torch.no_grad():
        out = v3.forward_intermediates(torch.randn(1, 3, 75, 75),
                                       ["Mixed_7c.branch3x3dbl", "mixed10.branch3x3dbl"])
    # The split branch (1x3 | 3x1 arms) gives both arms' channels.
    assert torch.equal(out["Mixed_7c.branch3x3dbl"], out["mixed10.branch3x3dbl"])
    assert out["mixed10.branch3x3dbl"].shape[1] == v3.branch_info()["mixed10.branch3x3dbl"]


def test_a_backbone_cut_keeps_the_branches_before_its_cut():
    recipe = TransferRecipe(ModelRecipe("googlenet_mnist", width=0.25), "inception_3b",
                            num_classes=3)
    model = build_model(recipe).eval()
    assert [b for b, _ in model.blocks()] == ["inception_3a", "inception_3b"]
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        logits, feats = model.forward_with_features(x, ["inception_3b.branch_pool"])
        assert torch.equal(logits, model(x))
    assert feats["inception_3b.branch_pool"].shape[0] == 2
    with pytest.raises(UnknownFeatureError, match="no feature 'inception_4a'"):
        model.forward_intermediates(x, ["inception_4a.branch_1x1"])
