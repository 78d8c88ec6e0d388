import os
import pickle

import numpy as np
import pytest
import torch

from googlenet.data.cifar import CIFARDataset, read_cifar_batch, safe_load_pickle
from googlenet.errors import DataError


def write_cifar10(root, n=4, protocol=2, bad_label=False):
    d = root / "cifar-10-batches-py"
    d.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for k, name in enumerate(names):
        labels = [(k + i) % 10 for i in range(n)]
        if bad_label:
            labels[-1] = 10
        batch = {b"batch_label": b"x", b"labels": labels,
                 b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 b"filenames": [b"f.png"] * n}
        (d / name).write_bytes(pickle.dumps(batch, protocol=protocol))
    meta = {b"label_names": [f"c{i}".encode() for i in range(10)], b"num_cases_per_batch": n}
    (d / "batches.meta").write_bytes(pickle.dumps(meta, protocol=protocol))
    return d


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar10_loads(tmp_path, protocol):
    d = write_cifar10(tmp_path, protocol=protocol)
    train = CIFARDataset("cifar10", "train", root=tmp_path)
    assert len(train) == 20 and train.images.shape == (20, 3, 32, 32)
    assert train.images.dtype == torch.uint8 and train.classes[3] == "c3"
    raw = pickle.loads((d / "data_batch_1").read_bytes())[b"data"]
    assert torch.equal(train.images[0].flatten(), torch.from_numpy(raw[0]))
    assert len(CIFARDataset("cifar10", "test", root=d)) == 4


def test_cifar100_fine_and_coarse(tmp_path):
    d = tmp_path / "cifar-100-python"
    d.mkdir()
    for split in ("train", "test"):
        batch = {b"data": np.zeros((3, 3072), np.uint8), b"fine_labels": [0, 99, 5],
                 b"coarse_labels": [0, 19, 1]}
        (d / split).write_bytes(pickle.dumps(batch))
    meta = {b"fine_label_names": [b"f%d" % i for i in range(100)],
            b"coarse_label_names": [b"g%d" % i for i in range(20)]}
    (d / "meta").write_bytes(pickle.dumps(meta))
    assert CIFARDataset("cifar100", "train", tmp_path).num_classes == 100
    coarse = CIFARDataset("cifar100", "test", tmp_path, label_mode="coarse")
    assert coarse.num_classes == 20 and coarse.targets.tolist() == [0, 19, 1]


def test_truncated_batch(tmp_path):
    d = write_cifar10(tmp_path)
    path = d / "data_batch_3"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DataError, match=r"data_batch_3: not a valid CIFAR pickle"):
        CIFARDataset("cifar10", "train", root=tmp_path)


def test_label_out_of_range(tmp_path):
    write_cifar10(tmp_path, bad_label=True)
    with pytest.raises(DataError, match="label 10 out of range for 10 classes"):
        CIFARDataset("cifar10", "test", root=tmp_path)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_malicious_pickle_refused(tmp_path):
    path = tmp_path / "evil"
    path.write_bytes(pickle.dumps({b"data": _Evil(), b"labels": []}))
    with pytest.raises(DataError, match=r"evil: .*refusing to load global (posix|os)\.system"):
        safe_load_pickle(path)


def test_wrong_shape(tmp_path):
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}))
    with pytest.raises(DataError, match=r"b: 'data' has shape"):
        read_cifar_batch(path)


def test_missing_dir(tmp_path):
    with pytest.raises(DataError, match="cifar10 not found: searched"):
        CIFARDataset("cifar10", root=tmp_path)
