"""Every registered model: forward, sizes, gradients, metadata, one return type."""

import pytest
import torch

from googlenet import InceptionOutputs, create_model, get_model_info, list_models
from googlenet.errors import InputSizeError, SpecError, UnknownFeatureError, UnknownModelError
from googlenet.models.grid import min_input_size
from tests.large_models import cases

ALL = list_models()
# inception_v3_keras has exactly inception_v3's modules (only its pooling arithmetic
# differs, tested in tests/models): the costly train-mode checks run on one of them.
TRAINABLE = [n for n in ALL if n != "inception_v3_keras"]


def _size(info, which):
    return info.min_input_size if which == "min" else info.input_size


def _batch(info, size, n=2):
    return torch.randn(n, info.in_chans, size, size)


def _outputs(model):
    """What ``model(x)`` returns per image: the logits, or without a classifier the pooled
    features (FaceNet's embedding)."""
    return model.num_classes or model.head_in_features


@pytest.mark.parametrize("name", ALL)
def test_forward_at_input_and_minimum_size(name):
    info = get_model_info(name)
    model = create_model(name).eval()
    with torch.no_grad():
        assert model(_batch(info, info.input_size)).shape == (2, _outputs(model))
        assert model(_batch(info, info.min_input_size)).shape == (2, _outputs(model))


@pytest.mark.parametrize("name", ALL)
def test_minimum_size_is_tight_and_named(name):
    info = get_model_info(name)
    model = create_model(name, aux_logits=False).eval()
    if info.min_input_size == 1:
        return
    small = _batch(info, info.min_input_size - 1, n=1)
    with pytest.raises(InputSizeError, match=f"{info.min_input_size}x{info.min_input_size}"):
        model(small)
    if info.spec.fixed_input_size:
        return
    # The spec's arithmetic gives the same minimum, and without the checks the modules
    # themselves fail there.
    assert min_input_size(info.spec) == info.min_input_size
    with pytest.raises(RuntimeError), torch.no_grad():
        torch.nn.Sequential(*(getattr(model, n) for n in model.feature_names))(small)


@pytest.mark.parametrize("name", ALL)
def test_metadata_matches_the_built_model(name):
    info = get_model_info(name)
    count = sum(p.numel() for p in create_model(name, aux_logits=False).parameters())
    assert count == info.num_params
    if info.num_params_with_aux is not None:
        assert sum(p.numel() for p in create_model(name).parameters()) == info.num_params_with_aux
    assert len(info.mean) == len(info.std) == info.in_chans


def test_torchvision_parameter_counts():
    assert get_model_info("googlenet_bn").num_params == 6_624_904
    assert get_model_info("googlenet_bn").num_params_with_aux == 13_004_888


@pytest.mark.parametrize("name,size", cases(TRAINABLE, "min", "input"))
def test_one_return_type_in_train_and_eval(name, size):
    info = get_model_info(name)
    model = create_model(name)
    x = _batch(info, _size(info, size))
    for mode in (True, False):
        model.train(mode)
        out = model(x)
        assert isinstance(out, torch.Tensor) and out.shape == (2, _outputs(model))
        res = model.forward_train(x)
        assert isinstance(res, InceptionOutputs)
        assert set(res.aux) == {a.name for a in info.spec.aux}


@pytest.mark.parametrize("name,size", cases([n for n in TRAINABLE if n != "googlenet_naive"],
                                             "min", "input"))
def test_backward_reaches_every_parameter(name, size):
    info = get_model_info(name)
    model = create_model(name).train()
    res = model.forward_train(_batch(info, _size(info, size)))
    aux = sum(a.logsumexp(1).mean() for a in res.aux.values())
    loss = res.logits.logsumexp(1).mean() + 0.3 * aux
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert not missing


def test_naive_backward_at_small_size():
    model = create_model("googlenet_naive").train()
    model(torch.randn(2, 3, 64, 64)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_unknown_name_lists_close_matches():
    with pytest.raises(UnknownModelError, match="googlenet_bn"):
        create_model("googlenet-bn")
    assert "did you mean" in str(pytest.raises(UnknownModelError, create_model, "googlnet").value)


def test_wrong_channels_are_caught():
    model = create_model("googlenet_bn")
    with pytest.raises(InputSizeError, match="expected 3 input channels, got 1"):
        model(torch.randn(1, 1, 224, 224))
    with pytest.raises(InputSizeError, match="4-d"):
        model(torch.randn(3, 224, 224))


def test_fixed_size_network_rejects_other_sizes():
    with pytest.raises(InputSizeError, match="exactly 28x28"):
        create_model("inception_a_net")(torch.randn(1, 1, 32, 32))


def test_timm_style_interface():
    model = create_model("googlenet_bn").eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        feats = model.forward_features(x)
        assert feats.shape == (1, 1024, 7, 7)
        assert model.forward_head(feats, pre_logits=True).shape == (1, 1024)
        torch.testing.assert_close(model.forward_head(feats), model(x))
        inter = model.forward_intermediates(x, ["inception_4e", "inception_3a"])
    assert inter["inception_4e"].shape == (1, 832, 14, 14)
    assert inter["inception_3a"].shape == (1, 256, 28, 28)
    model.reset_classifier(5)
    assert model(x).shape == (1, 5) and model.aux_4a.classifier.out_features == 5
    assert model.forward_train(x).aux["aux_4d"].shape == (1, 5)


def test_named_feature_errors_and_aliases():
    model = create_model("d2l_googlenet").eval()
    assert {"b1", "b2", "b3", "b4", "b5"} <= set(model.feature_info())
    with torch.no_grad():
        out = model.forward_intermediates(torch.randn(1, 1, 96, 96), ["b3", "b5"])
    assert out["b3"].shape == (1, 480, 6, 6) and out["b5"].shape == (1, 1024, 3, 3)
    with pytest.raises(UnknownFeatureError, match="no feature 'mixed7'"):
        model.forward_intermediates(torch.randn(1, 1, 96, 96), ["mixed7"])


def test_inception_a_net_matches_the_course():
    model = create_model("inception_a_net")
    assert model.incep1.out_channels == 88 and model.fc.in_features == 1408
    assert model.conv1.conv.out_channels == 10 and model.conv2.conv.in_channels == 88
    assert model.conv2.conv.out_channels == 20


def test_width_multiplier_scales_small_models():
    full = create_model("googlenet_cifar")
    half = create_model("googlenet_cifar", width=0.5)
    assert half.inception_3a.out_channels == 128
    n_full = sum(p.numel() for p in full.parameters())
    n_half = sum(p.numel() for p in half.parameters())
    assert 0.2 < n_half / n_full < 0.35
    assert half(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_num_classes_and_in_chans_overrides():
    model = create_model("googlenet_bn", num_classes=7, in_chans=1)
    assert model(torch.randn(1, 1, 64, 64)).shape == (1, 7)


@pytest.mark.parametrize("kwargs, message", [
    ({"width": 0}, "width must be > 0, got 0"),  # would build a 618-parameter model
    ({"width": -1}, "width must be > 0"),
    ({"dropout": 1.5}, r"dropout must be >= 0 and < 1, got 1\.5"),
])
def test_create_model_refuses_impossible_width_and_dropout(kwargs, message):
    with pytest.raises(SpecError, match=f"googlenet_mnist: {message}"):
        create_model("googlenet_mnist", **kwargs)
