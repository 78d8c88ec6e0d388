import math

import pytest
import torch

from googlenet.train import TrainConfig, build_optimizer, lr_at
from googlenet.train.ema import ModelEMA


def test_paper_schedule_drops_4_percent_every_8_epochs():
    cfg = TrainConfig(lr=0.1, schedule="paper", epochs=40)
    assert lr_at(0, 10, cfg) == pytest.approx(0.1)
    assert lr_at(79, 10, cfg) == pytest.approx(0.1)  # epoch 7.9
    assert lr_at(80, 10, cfg) == pytest.approx(0.096)
    assert lr_at(16 * 10, 10, cfg) == pytest.approx(0.1 * 0.96**2)


def test_cosine_and_onecycle_shapes():
    cos = TrainConfig(lr=1.0, schedule="cosine", epochs=4, min_lr_ratio=0.1)
    assert lr_at(0, 25, cos) == pytest.approx(1.0)
    assert lr_at(50, 25, cos) == pytest.approx(0.55)
    assert lr_at(100, 25, cos) == pytest.approx(0.1)
    one = TrainConfig(lr=1.0, schedule="onecycle", epochs=10)
    values = [lr_at(s, 10, one) for s in range(100)]
    assert values[0] == pytest.approx(1 / 25)
    assert max(values) == pytest.approx(1.0) and values.index(max(values)) == 30
    assert values[-1] < 1e-3
    warm = TrainConfig(lr=1.0, schedule="constant", warmup_epochs=2, epochs=4)
    assert lr_at(0, 10, warm) == pytest.approx(0.05) and lr_at(25, 10, warm) == 1.0


@pytest.mark.parametrize("name,cls", [("sgd", torch.optim.SGD), ("rmsprop", torch.optim.RMSprop),
                                      ("adamw", torch.optim.AdamW)])
def test_optimizers_exempt_biases_and_bn_from_weight_decay(name, cls):
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    opt = build_optimizer(model, TrainConfig(optimizer=name, weight_decay=0.01))
    assert isinstance(opt, cls)
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0
    assert [p.ndim for p in decay["params"]] == [4] and len(no_decay["params"]) == 3


def test_ema_is_the_polyak_average_with_warmup():
    model = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(model.weight)
    ema = ModelEMA(model, decay=0.9)
    expected = 0.0
    for n in range(1, 6):
        with torch.no_grad():
            model.weight.fill_(float(n))
        ema.update(model)
        d = min(0.9, (1 + n) / (10 + n))
        expected = d * expected + (1 - d) * n
    assert ema.module.weight.item() == pytest.approx(expected)
    assert math.isclose(ema.state_dict()["num_updates"], 5)


def test_ema_averages_bn_statistics_with_the_weights_and_copies_counters():
    model = torch.nn.BatchNorm2d(2)
    ema = ModelEMA(model, decay=0.5)
    ema.num_updates = 100  # past the warm-up: d = 0.5
    with torch.no_grad():
        model.running_mean.fill_(4.0)
        model.weight.fill_(3.0)
    model.num_batches_tracked.fill_(7)
    ema.update(model)
    assert ema.module.running_mean.tolist() == [2.0, 2.0]  # 0.5 * 0 + 0.5 * 4
    assert ema.module.weight.tolist() == [2.0, 2.0]        # 0.5 * 1 + 0.5 * 3
    assert int(ema.module.num_batches_tracked) == 7
