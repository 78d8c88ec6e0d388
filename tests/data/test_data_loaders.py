import pytest
import torch
from helpers_data import write_idx_set
from PIL import Image

from googlenet.data.base import TensorImageDataset
from googlenet.data.loaders import TensorBatchLoader, make_loader, shard_indices
from googlenet.data.registry import build_dataset, default_dataset, default_dataset_name
from googlenet.data.synthetic import SyntheticDataset
from googlenet.errors import DataError


def _tiny(n=10):
    images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 1, 2, 2).clone()
    return TensorImageDataset(images, torch.arange(n) % 3, ["a", "b", "c"])


def test_batch_loader_covers_all_in_order():
    batches = list(TensorBatchLoader(_tiny(), batch_size=4))
    assert [len(y) for _, y in batches] == [4, 4, 2]
    xs = torch.cat([x for x, _ in batches])
    assert xs.dtype == torch.uint8 and xs[:, 0, 0, 0].tolist() == list(range(10))


def test_batch_loader_shuffle_is_seeded_and_drop_last():
    ds = _tiny()
    a = [x[:, 0, 0, 0].tolist() for x, _ in TensorBatchLoader(
        ds, 3, shuffle=True, drop_last=True, generator=torch.Generator().manual_seed(5))]
    b = [x[:, 0, 0, 0].tolist() for x, _ in TensorBatchLoader(
        ds, 3, shuffle=True, drop_last=True, generator=torch.Generator().manual_seed(5))]
    assert a == b and len(a) == 3 and all(len(x) == 3 for x in a)
    assert sum(a, []) != sorted(sum(a, []))  # shuffled


def test_batch_loader_subset_and_targets_match():
    ds = _tiny()
    loader = TensorBatchLoader(ds, 2, shuffle=True, indices=[1, 4, 7, 8])
    seen = []
    for x, y in loader:
        assert torch.equal(y, x[:, 0, 0, 0].long() % 3)
        seen += x[:, 0, 0, 0].tolist()
    assert sorted(seen) == [1, 4, 7, 8] and len(loader) == 2


def test_shard_indices_partition():
    shards = [shard_indices(10, r, 3, seed=1) for r in range(3)]
    assert all(len(s) == 4 for s in shards)
    assert set(torch.cat(shards).tolist()) == set(range(10))
    assert sum(len(shard_indices(10, r, 3, drop_last=True)) for r in range(3)) == 9
    assert not torch.equal(shard_indices(10, 0, 3, seed=1, epoch=1), shards[0])


def test_folder_loader_collates_uint8(tmp_path):
    for c in ("x", "y"):
        (tmp_path / "train" / c).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (20 + i, 18), (i, 0, 0)).save(tmp_path / "train" / c / f"{i}.png")
    ds = build_dataset("folder", "train", tmp_path, size=16)
    x, y = next(iter(make_loader(ds, batch_size=4, shuffle=True)))
    assert x.shape == (4, 3, 16, 16) and x.dtype == torch.uint8 and y.dtype == torch.int64
    raw = build_dataset("folder", "train", tmp_path)
    with pytest.raises(DataError, match="different sizes"):
        next(iter(make_loader(raw, batch_size=6)))


def test_registry(tmp_path, monkeypatch):
    ds = build_dataset("synthetic", "val", num_samples=20, image_size=16)
    assert isinstance(ds, SyntheticDataset) and len(ds) == 20
    assert isinstance(make_loader(ds, 8), TensorBatchLoader)
    with pytest.raises(DataError, match="unknown dataset 'imagenet'"):
        build_dataset("imagenet")
    write_idx_set(tmp_path / "fm")
    assert default_dataset_name(tmp_path / "fm") == "fashion-mnist"
    assert len(default_dataset("test", tmp_path / "fm")) == 6
    assert default_dataset_name(tmp_path / "none") == "synthetic"
    assert len(default_dataset("test", tmp_path / "none", num_samples=8)) == 8
