"""torchvision key maps: parity with independent torchvision forward passes, round trips,
and one-line errors for missing, unexpected and mis-shaped keys."""

from __future__ import annotations

import pytest
import torch

from googlenet import create_model
from googlenet.errors import WeightsError
from googlenet.weights.torchvision_map import from_torchvision, to_torchvision
from tests.weights.tv_reference import GoogLeNetRef, Inception3Ref

TOL = 1e-4


@pytest.fixture(scope="module")
def googlenet_ref() -> tuple[GoogLeNetRef, torch.Tensor, tuple[torch.Tensor, ...]]:
    ref = GoogLeNetRef(seed=1)
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        out = ref(x)  # first call creates the weights
    return ref, x, out


@pytest.fixture(scope="module")
def inception3_ref() -> tuple[Inception3Ref, torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    ref = Inception3Ref(seed=3)
    x = torch.randn(1, 3, 299, 299, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        out = ref(x)
    return ref, x, out


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item()


def test_googlenet_bn_matches_torchvision_forward(googlenet_ref):
    ref, x, (logits, aux1, aux2) = googlenet_ref
    model = create_model("googlenet_bn").eval()
    model.load_state_dict(from_torchvision(ref.sd, "googlenet_bn"))
    with torch.no_grad():
        out = model.forward_train(x)
    assert logits.abs().max() > 0.1  # the comparison is not between two near-zero tensors
    assert _max_diff(out.logits, logits) <= TOL
    assert _max_diff(out.aux["aux_4a"], aux1) <= TOL
    assert _max_diff(out.aux["aux_4d"], aux2) <= TOL


def test_googlenet_bn_round_trip_is_identity(googlenet_ref):
    sd = googlenet_ref[0].sd
    back = to_torchvision(from_torchvision(sd, "googlenet_bn"), "googlenet_bn")
    assert set(back) == set(sd)
    assert all(torch.equal(back[k], sd[k]) for k in sd)
    ours = create_model("googlenet_bn").state_dict()
    again = from_torchvision(to_torchvision(ours, "googlenet_bn"), "googlenet_bn")
    assert set(again) == set(ours) and all(torch.equal(again[k], ours[k]) for k in ours)


def test_googlenet_bn_without_aux(googlenet_ref):
    ref, x, (logits, _, _) = googlenet_ref
    sd = from_torchvision(ref.sd, "googlenet_bn", aux_logits=False)
    assert not any(k.startswith("aux_") for k in sd)
    model = create_model("googlenet_bn", aux_logits=False).eval()
    model.load_state_dict(sd)
    with torch.no_grad():
        assert _max_diff(model(x), logits) <= TOL


def test_inception_v3_matches_torchvision_forward(inception3_ref):
    ref, x, (logits, aux) = inception3_ref
    model = create_model("inception_v3").eval()
    model.load_state_dict(from_torchvision(ref.sd, "inception_v3"))
    with torch.no_grad():
        out = model.forward_train(x)
    assert logits.abs().max() > 0.1
    assert _max_diff(out.logits, logits) <= TOL
    assert _max_diff(out.aux["aux_mixed7"], aux) <= TOL
    # The Keras variant averages without the padding: same weights, visibly other logits.
    keras_like = create_model("inception_v3_keras").eval()
    keras_like.load_state_dict(from_torchvision(ref.sd, "inception_v3", aux_logits=False))
    with torch.no_grad():
        assert _max_diff(keras_like(x), logits) > 1e-3


def test_inception_v3_transform_input_equals_mean_std_half(inception3_ref):
    # torchvision's transform_input=True on ImageNet-normalised pixels == our model on
    # pixels normalised with the registry's mean = std = 0.5.
    ref = inception3_ref[0]
    pixels = torch.rand(1, 3, 299, 299, generator=torch.Generator().manual_seed(5))
    imagenet = (pixels - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor(
        [0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    model = create_model("inception_v3", aux_logits=False).eval()
    model.load_state_dict(from_torchvision(ref.sd, "inception_v3", aux_logits=False))
    with torch.no_grad():
        want, _ = ref(imagenet, with_aux=False, transform_input=True)
        got = model((pixels - 0.5) / 0.5)
    assert _max_diff(got, want) <= TOL


def test_inception_v3_round_trip_and_names(inception3_ref):
    sd = inception3_ref[0].sd
    ours = from_torchvision(sd, "inception_v3")
    assert "mixed0.branch5x5_1.conv.weight" in ours and "aux_mixed7.classifier.weight" in ours
    back = to_torchvision(ours, "inception_v3")
    assert set(back) == set(sd) and all(torch.equal(back[k], sd[k]) for k in sd)


def _small_tv_googlenet() -> dict[str, torch.Tensor]:
    return to_torchvision(create_model("googlenet_bn", aux_logits=False).state_dict(),
                          "googlenet_bn")


def test_missing_key_is_named():
    sd = _small_tv_googlenet()
    del sd["inception4c.branch2.1.bn.running_var"]
    with pytest.raises(WeightsError, match=r"missing key 'inception4c\.branch2\.1\.bn\.running_var'"
                       r".*inception_4c\.branch_3x3\.conv\.bn\.running_var"):
        from_torchvision(sd, "googlenet_bn", source="g.pth")


def test_unexpected_key_is_named():
    sd = _small_tv_googlenet()
    sd["inception3a.branch5.weight"] = torch.zeros(1)
    with pytest.raises(WeightsError, match=r"g\.pth: unexpected key 'inception3a\.branch5"):
        from_torchvision(sd, "googlenet_bn", source="g.pth")


def test_wrong_shape_names_key_and_both_shapes():
    sd = _small_tv_googlenet()
    sd["conv3.conv.weight"] = torch.zeros(192, 64, 5, 5)
    with pytest.raises(WeightsError, match=r"'conv3\.conv\.weight' \(ours: conv2\.conv\.weight\)"
                       r": file has \(192, 64, 5, 5\), model expects \(192, 64, 3, 3\)"):
        from_torchvision(sd, "googlenet_bn")


def test_shapes_checked_against_a_given_model():
    sd = _small_tv_googlenet()  # 1000 classes
    model = create_model("googlenet_bn", num_classes=10, aux_logits=False)
    with pytest.raises(WeightsError, match=r"'fc\.weight': file has \(1000, 1024\)"):
        from_torchvision(sd, "googlenet_bn", model=model)


def test_missing_batch_counters_are_filled():
    sd = {k: v for k, v in _small_tv_googlenet().items() if not k.endswith("num_batches_tracked")}
    ours = from_torchvision(sd, "googlenet_bn")
    assert ours["conv1.bn.num_batches_tracked"].item() == 0
    create_model("googlenet_bn", aux_logits=False).load_state_dict(ours)


def test_unsupported_model_raises():
    with pytest.raises(WeightsError, match="no torchvision key map for model 'googlenet'"):
        from_torchvision({}, "googlenet")
