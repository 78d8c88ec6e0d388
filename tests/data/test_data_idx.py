import gzip
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers_data import idx_bytes, write_idx_set

from googlenet.data.idx import (
    IMAGES_MAGIC,
    IDXDataset,
    find_idx_dataset,
    load_idx_pair,
    read_idx,
    search_dirs,
)
from googlenet.errors import DataError


@pytest.mark.parametrize("gz", [True, False])
def test_idx_dataset_loads_gz_and_raw(tmp_path, gz):
    write_idx_set(tmp_path, gz=gz)
    ds = IDXDataset("fashion-mnist", "train", root=tmp_path)
    assert len(ds) == 12 and ds.num_classes == 10 and ds.classes[9] == "Ankle boot"
    assert ds.images.dtype == torch.uint8 and ds.images.shape == (12, 1, 28, 28)
    img, label = ds[3]
    assert img.shape == (1, 28, 28) and label == 3 and isinstance(label, int)
    assert len(IDXDataset("mnist", "test", root=tmp_path)) == 6


def test_wrong_magic_names_file(tmp_path):
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((2, 4, 4), np.uint8), magic=0x00000801))
    with pytest.raises(DataError, match=r"x-idx3-ubyte.*wrong magic"):
        read_idx(path, IMAGES_MAGIC)


def test_truncated_payload(tmp_path):
    path = tmp_path / "t.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((3, 4, 4), np.uint8))[:-5]))
    with pytest.raises(DataError, match=r"t\.gz: truncated"):
        read_idx(path, IMAGES_MAGIC)


def test_truncated_gzip_stream(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8)))[:-12])
    with pytest.raises(DataError, match=r"cut\.gz"):
        read_idx(path)


def test_count_mismatch_and_label_range(tmp_path):
    imgs, lbls = tmp_path / "i", tmp_path / "l"
    imgs.write_bytes(idx_bytes(np.zeros((3, 4, 4), np.uint8)))
    lbls.write_bytes(idx_bytes(np.array([0, 1], np.uint8)))
    with pytest.raises(DataError, match="2 labels but .* 3 images"):
        load_idx_pair(imgs, lbls, 10)
    lbls.write_bytes(idx_bytes(np.array([0, 1, 12], np.uint8)))
    with pytest.raises(DataError, match=r"/l: label 12 at index 2 out of range"):
        load_idx_pair(imgs, lbls, 10)


def test_search_order_and_missing_message(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GOOGLENET_HOME", raising=False)  # it would outrank XDG
    monkeypatch.setenv("GOOGLENET_DATA", str(tmp_path / "env"))
    with pytest.raises(DataError, match=r"mnist not found: searched .*env.*cache"):
        find_idx_dataset("mnist")
    write_idx_set(tmp_path / "cache" / "googlenet" / "mnist")
    assert find_idx_dataset("mnist") == tmp_path / "cache" / "googlenet" / "mnist"
    write_idx_set(tmp_path / "env" / "mnist")  # $GOOGLENET_DATA/<name> beats the cache
    assert find_idx_dataset("mnist") == tmp_path / "env" / "mnist"
    write_idx_set(tmp_path / "explicit")  # an explicit root beats everything
    assert find_idx_dataset("mnist", tmp_path / "explicit") == tmp_path / "explicit"
    with pytest.raises(DataError, match="nowhere"):
        find_idx_dataset("mnist", tmp_path / "nowhere")


def test_system_data_can_be_hidden(tmp_path, monkeypatch):
    """$GOOGLENET_SYSTEM_DATA=0 leaves Debian's folder out of the search, so a machine
    with the package installed can play a newcomer's without it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GOOGLENET_HOME", raising=False)  # it would outrank XDG
    monkeypatch.delenv("GOOGLENET_DATA", raising=False)
    debian = Path("/usr/share/datasets/fashion-mnist")
    monkeypatch.delenv("GOOGLENET_SYSTEM_DATA", raising=False)
    assert debian in search_dirs("fashion-mnist")
    monkeypatch.setenv("GOOGLENET_SYSTEM_DATA", "0")
    assert debian not in search_dirs("fashion-mnist")
    with pytest.raises(DataError, match="fashion-mnist not found"):
        find_idx_dataset("fashion-mnist")
