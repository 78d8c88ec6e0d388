import numpy as np
import pytest
import torch

from googlenet.data.synthetic import SyntheticDataset, synthetic_classes, synthetic_images
from googlenet.errors import DataError


def test_deterministic_by_seed_and_index():
    a = SyntheticDataset(300, seed=3)
    b = SyntheticDataset(300, seed=3)
    assert torch.equal(a.images, b.images) and torch.equal(a.targets, b.targets)
    assert not torch.equal(a.images, SyntheticDataset(300, seed=4).images)
    assert not torch.equal(a.images[:50], SyntheticDataset(50, seed=3, split="test").images)
    # item i does not depend on the dataset length or on which items are asked for
    imgs, labels = synthetic_images(np.array([1500, 7, 299]), seed=3)
    assert torch.equal(torch.from_numpy(imgs[1:]), a.images[[7, 299]])
    assert labels.tolist() == [0, 7, 9]


@pytest.mark.parametrize(("size", "channels", "classes"), [(32, 3, 10), (64, 1, 16), (20, 3, 2)])
def test_shapes(size, channels, classes):
    ds = SyntheticDataset(40, num_classes=classes, image_size=size, channels=channels)
    assert ds.images.shape == (40, channels, size, size) and ds.images.dtype == torch.uint8
    assert ds.num_classes == classes == len(ds.classes)
    assert torch.bincount(ds.targets).min() >= 40 // classes
    img, label = ds[1]
    assert img.shape == (channels, size, size) and label == 1


def test_bad_args():
    with pytest.raises(DataError, match="num_classes"):
        synthetic_classes(17)
    with pytest.raises(DataError, match="channels"):
        SyntheticDataset(4, channels=2)


def _spectrum_features(images):
    # Translation-invariant features: the radially binned log power spectrum of the
    # grayscale image, which captures scale and spatial frequency but not position/colour.
    g = images.float().mean(1)
    g = g - g.mean((1, 2), keepdim=True)
    power = torch.fft.fft2(g).abs().pow(2)
    n = g.shape[-1]
    f = torch.fft.fftfreq(n) * n
    radius = (f[:, None] ** 2 + f[None, :] ** 2).sqrt().round().long().clamp(max=n // 2)
    feats = torch.zeros(len(g), n // 2 + 1).index_add_(1, radius.flatten(),
                                                      power.flatten(1)).log1p()
    return (feats - feats.mean(0)) / (feats.std(0) + 1e-6)


def test_classes_are_learnable():
    train = SyntheticDataset(1000, seed=0)
    test = SyntheticDataset(500, seed=0, split="test")
    xtr, xte = _spectrum_features(train.images), _spectrum_features(test.images)
    centroids = torch.stack([xtr[train.targets == k].mean(0) for k in range(10)])
    pred = torch.cdist(xte, centroids).argmin(1)
    acc = (pred == test.targets).float().mean().item()
    assert acc > 0.3, acc  # chance is 0.1; measured 0.44
