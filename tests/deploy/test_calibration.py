"""One calibration sampler: predict (image files) and eval (a data set) pick the same
evenly spread share of what they are given."""

from __future__ import annotations

import torch
from torch.utils.data import TensorDataset

from googlenet.deploy.calibration import in_batches, spread
from googlenet.evaluate.runner import calibration_batches
from googlenet.preprocessing import Preprocessing


def test_spread_gives_every_sorted_class_a_share():
    items = [f"class{c}/img{i}.png" for c in range(4) for i in range(25)]  # sorted by class
    picked = spread(items, 8)
    assert len(picked) == len(set(picked)) == 8 and picked[0] == items[0]
    assert {p.split("/")[0] for p in picked} == {f"class{c}" for c in range(4)}
    assert spread(items, 1000) == items and spread([], 5) == []


def test_eval_calibrates_on_the_same_spread_as_predict():
    images = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1).expand(10, 1, 4, 4)
    dataset = TensorDataset(images.contiguous(), torch.zeros(10))
    pre = Preprocessing((0.0,), (1.0,), scale=255.0, input_size=4, resize_size=4)  # pixels as-is
    (batch,) = calibration_batches(dataset, pre, torch.device("cpu"), images=4)
    assert batch[:, 0, 0, 0].tolist() == [float(i) for i in spread(range(10), 4)]
    assert [b.shape[0] for b in in_batches(torch.zeros(70, 3), 32)] == [32, 32, 6]
