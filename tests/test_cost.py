import pytest

from googlenet.cost import profile_model, reduction_cost
from googlenet.errors import SpecError
from googlenet.models import create_model, list_models


def test_reduction_example_macs():
    r = reduction_cost(28, 28, 192, filters=32, kernel=5, reduce=16)
    assert r.direct_macs == 28 * 28 * 32 * 5 * 5 * 192  # 120.4M
    assert round(r.direct_macs / 1e6, 1) == 120.4
    assert round(r.reduced_macs / 1e6, 1) == 12.4
    assert r.reduced_macs == 28 * 28 * 16 * 192 + 28 * 28 * 32 * 5 * 5 * 16


def test_reduction_example_params():
    r = reduction_cost(14, 14, 512, filters=64, kernel=5, reduce=24)
    assert (r.direct_params, r.reduced_params) == (819_200, 50_688)


def test_bias_is_optional():
    r = reduction_cost(14, 14, 512, filters=64, kernel=5, reduce=24, bias=True)
    assert (r.direct_params, r.reduced_params) == (819_200 + 64, 50_688 + 24 + 64)


@pytest.mark.parametrize("name", list_models())
def test_per_layer_costs_add_up(name):
    model = create_model(name, aux_logits=False)
    costs = profile_model(model, model.spec.input_size, model.in_chans)
    assert sum(c.params for c in costs) == sum(p.numel() for p in model.parameters())
    assert all(c.flops == 2 * c.macs for c in costs)
    # Logits, or without a classifier the pooled features (FaceNet's embedding).
    assert costs[-1].out_shape == (model.num_classes or model.head_in_features,)


def test_aux_heads_are_measured_on_request():
    model = create_model("googlenet_bn")
    names = [c.name for c in profile_model(model, 224, 3, with_aux=True)]
    assert "aux_4a" in names and "aux_4d" in names
    assert "aux_4a" not in [c.name for c in profile_model(model, 224, 3)]


def test_naive_blocks_cost_more():
    def macs(name):
        return sum(c.macs for c in profile_model(create_model(name, aux_logits=False), 224, 3))

    assert macs("googlenet_naive") > 2.5 * macs("googlenet")


@pytest.mark.parametrize("bad", ["channels", "filters", "kernel", "reduce"])
def test_reduction_cost_refuses_sizes_below_one(bad):
    sizes = {"height": 28, "width": 28, "channels": 192, "filters": 32, "kernel": 5,
             "reduce": 16, bad: 0}
    with pytest.raises(SpecError, match=f"{bad}=0"):
        reduction_cost(**sizes)
