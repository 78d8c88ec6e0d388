"""Fashion-MNIST as installed by Debian's dataset-fashion-mnist (or found elsewhere)."""

import os

import pytest
import torch

from googlenet.data import IDXDataset, find_idx_dataset
from googlenet.errors import DataError

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def fashion_root():
    try:
        return find_idx_dataset("fashion-mnist")
    except DataError as exc:
        if os.environ.get("GOOGLENET_REQUIRE_DATA") == "1":
            pytest.fail(f"GOOGLENET_REQUIRE_DATA=1 but {exc}")
        pytest.skip(str(exc))


def test_fashion_mnist_real_files(fashion_root):
    train = IDXDataset("fashion-mnist", "train", root=fashion_root)
    test = IDXDataset("fashion-mnist", "test", root=fashion_root)
    assert (len(train), len(test)) == (60000, 10000)
    assert train.num_classes == 10 and train.classes[0] == "T-shirt/top"
    assert train.images.shape == (60000, 1, 28, 28) and train.images.dtype == torch.uint8
    # the official sets are balanced: 6000 / 1000 per class
    assert torch.bincount(train.targets).tolist() == [6000] * 10
    assert torch.bincount(test.targets).tolist() == [1000] * 10
