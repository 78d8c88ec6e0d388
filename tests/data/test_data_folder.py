import logging

import numpy as np
import pytest
import torch
from PIL import Image

from googlenet.data.folder import ImageFolderDataset
from googlenet.errors import DataError


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "pets"
    (root / "cat").mkdir(parents=True)
    (root / "dog").mkdir()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(root / "cat" / "a.jpg")
    Image.new("L", (30, 30), 77).save(root / "cat" / "gray.png")
    rgba = Image.new("RGBA", (32, 32), (0, 0, 255, 255))
    rgba.putpixel((0, 0), (0, 0, 0, 0))  # transparent pixel -> white, not black
    rgba.save(root / "dog" / "alpha.png")
    pal = Image.new("P", (32, 32), 0)
    pal.putpalette([0, 200, 0] * 256)
    pal.save(root / "dog" / "pal.bmp")
    (root / "dog" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (root / "dog" / "notes.txt").write_text("ignored")
    return root


def test_folder_skips_and_converts(folder, caplog):
    with caplog.at_level(logging.WARNING, logger="googlenet.data"):
        ds = ImageFolderDataset(folder, size=24)
    assert ds.classes == ["cat", "dog"] and ds.num_classes == 2
    assert len(ds) == 4 and ds.targets.tolist() == [0, 0, 1, 1]
    assert [p.name for p, _ in ds.skipped] == ["broken.jpg"]
    assert "broken.jpg" in caplog.text and "skipped 1 unreadable file(s) of 5" in caplog.text
    names = [p.name for p, _ in ds.samples]
    gray, _ = ds[names.index("gray.png")]
    assert gray.shape == (3, 24, 24) and gray.dtype == torch.uint8
    assert (gray == 77).all()
    alpha, label = ds[names.index("alpha.png")]
    assert label == 1 and alpha[:, 12, 12].tolist() == [0, 0, 255]
    pal, _ = ds[names.index("pal.bmp")]
    assert pal[:, 5, 5].tolist() == [0, 200, 0]


def test_transparent_pixel_is_white(folder):
    ds = ImageFolderDataset(folder)  # native size
    names = [p.name for p, _ in ds.samples]
    alpha, _ = ds[names.index("alpha.png")]
    assert alpha.shape == (3, 32, 32) and alpha[:, 0, 0].tolist() == [255, 255, 255]


def test_grayscale_mode_and_to_memory(folder):
    ds = ImageFolderDataset(folder, size=16, channels=1)
    mem = ds.to_memory()
    assert mem.images.shape == (4, 1, 16, 16) and mem.classes == ["cat", "dog"]


def test_load_time_failure_falls_back(folder):
    ds = ImageFolderDataset(folder, size=8, verify="none")
    names = [p.name for p, _ in ds.samples]
    img, _ = ds[names.index("broken.jpg")]
    assert img.shape == (3, 8, 8) and [p.name for p, _ in ds.skipped] == ["broken.jpg"]


def test_truncated_jpeg_caught_by_full_verify(tmp_path):
    root = tmp_path / "r"
    (root / "a").mkdir(parents=True)
    arr = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(arr).save(root / "a" / "ok.jpg")
    data = (root / "a" / "ok.jpg").read_bytes()
    (root / "a" / "cut.jpg").write_bytes(data[: len(data) // 2])
    assert len(ImageFolderDataset(root, verify="full").skipped) == 1


def test_empty_folders(tmp_path):
    with pytest.raises(DataError, match="no class sub-folders"):
        ImageFolderDataset(tmp_path)
    (tmp_path / "c").mkdir()
    with pytest.raises(DataError, match=r"/c: class folder has no readable images"):
        ImageFolderDataset(tmp_path)
    with pytest.raises(DataError, match="image folder not found"):
        ImageFolderDataset(tmp_path / "missing")
