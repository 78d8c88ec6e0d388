"""Fashion-MNIST as installed by Debian's dataset-fashion-mnist (or found elsewhere).

Skips without the data set, except where GOOGLENET_REQUIRE_DATA=1 (tests/conftest.py).
"""

import pytest
import torch

from googlenet.data import IDXDataset

pytestmark = pytest.mark.realdata


def test_fashion_mnist_real_files(fashion_mnist_root):
    train = IDXDataset("fashion-mnist", "train", root=fashion_mnist_root)
    test = IDXDataset("fashion-mnist", "test", root=fashion_mnist_root)
    assert (len(train), len(test)) == (60000, 10000)
    assert train.num_classes == 10 and train.classes[0] == "T-shirt/top"
    assert train.images.shape == (60000, 1, 28, 28) and train.images.dtype == torch.uint8
    # the official sets are balanced: 6000 / 1000 per class
    assert torch.bincount(train.targets).tolist() == [6000] * 10
    assert torch.bincount(test.targets).tolist() == [1000] * 10
