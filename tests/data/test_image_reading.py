"""Images as people have them (issue 31): phone photos with an EXIF orientation, 16-bit
PNGs, a FIFO that looks like an image, and a folder data set with a broken file."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from googlenet.data.folder import ImageFolderDataset, load_image
from googlenet.errors import UnreadableImageError
from googlenet.predict import read_image
from googlenet.weights import Preprocessing


@pytest.fixture
def deadline() -> Iterator[None]:
    """Fail, instead of hanging the suite, if a read blocks."""
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError("the read blocked")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_the_exif_orientation_is_applied(tmp_path: Path) -> None:
    # 40 wide, 20 high, white on the left; orientation 6: "rotate 90 degrees clockwise to
    # display", as a phone held upright writes it.
    pixels = np.zeros((20, 40), np.uint8)
    pixels[:, :20] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.png"
    Image.fromarray(pixels).save(path, exif=exif)
    shown = np.asarray(load_image(path, channels=1))
    assert shown.shape == (40, 20)  # upright: taller than wide
    assert shown[:20].mean() == 255 and shown[20:].mean() == 0  # the white half on top


def test_a_16_bit_png_is_scaled_not_clipped(tmp_path: Path) -> None:
    ramp = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(ramp).save(path)
    assert Image.open(path).mode.startswith("I")  # Pillow keeps it 16-bit
    for channels in (1, 3):
        got = np.asarray(load_image(path, channels), dtype=np.float64)
        want = ramp.astype(np.float64) * 255 / 65535
        if channels == 3:
            want = np.repeat(want[..., None], 3, axis=2)
        assert np.abs(got - want).max() <= 0.5 + 1e-9  # rounded, not clipped at 255


def test_a_fifo_named_like_an_image_is_refused_without_blocking(tmp_path: Path,
                                                                 deadline: None) -> None:
    fifo = tmp_path / "x.png"
    os.mkfifo(fifo)
    with pytest.raises(UnreadableImageError, match=r"x.png: .*not a regular file"):
        read_image(fifo, Preprocessing(input_size=8, resize_size=8))


def test_a_folder_data_set_reports_a_broken_file_once(tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    for label in ("a", "b"):
        for i in range(2):
            (tmp_path / label).mkdir(exist_ok=True)
            noise = np.random.default_rng(i).integers(0, 255, (64, 64, 3), np.uint8)
            Image.fromarray(noise).save(
                tmp_path / label / f"{i}.jpg", quality=95)
    broken = tmp_path / "a" / "0.jpg"
    # A truncated JPEG passes the header check and fails only when decoded.
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    ds = ImageFolderDataset(tmp_path, size=16)
    assert len(ds.samples) == 4 and not ds.skipped
    with caplog.at_level(logging.WARNING, logger="googlenet.data"):
        for _ in range(3):  # three epochs
            for i in range(len(ds)):
                ds[i]
    assert [p for p, _ in ds.skipped] == [broken]
    assert sum(str(broken) in r.getMessage() for r in caplog.records) == 1
