"""The downloader (googlenet/download.py) against a real HTTP server on 127.0.0.1: resume
with Range, checksums, timeouts, retries, locks, a full disk and a read-only folder."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from pathlib import Path

import pytest

from googlenet.download import Checksum, Network, download, file_lock
from googlenet.errors import DownloadError
from tests.http_files import serve, tmpfs

BLOB = bytes(range(256)) * 2048  # 512 KiB: eight chunks, so a cut falls mid-file
FAST = Network(timeout=2.0, retries=2, backoff=0.01)


def _sha256(data: bytes) -> Checksum:
    return Checksum("sha256", hashlib.sha256(data).hexdigest())


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "srv"
    root.mkdir()
    (root / "w-1.bin").write_bytes(BLOB)
    with serve(root) as (url, behaviour):
        yield url, behaviour


def test_download_verifies_and_renames_into_place(server, tmp_path, fake_tty):
    url, behaviour = server
    with contextlib.redirect_stderr(fake_tty):
        dest = download(url + "w-1.bin", tmp_path / "out" / "w-1.bin", [_sha256(BLOB)],
                        network=FAST)
    assert dest.read_bytes() == BLOB
    assert [p.name for p in dest.parent.iterdir()] == ["w-1.bin"]  # no .part, no lock
    drawn = fake_tty.getvalue()
    assert "w-1.bin" in drawn and "512.0 KiB/512.0 KiB" in drawn and "ETA" in drawn
    # Present and verified: not fetched again.
    download(url + "w-1.bin", dest, [_sha256(BLOB)], network=FAST)
    assert behaviour.gets("w-1.bin") == [None]


def test_a_prefix_and_an_md5_are_checked_too(server, tmp_path):
    url, _ = server
    prefix = Checksum("sha256", hashlib.sha256(BLOB).hexdigest()[:8])
    md5 = Checksum("md5", hashlib.md5(BLOB).hexdigest())
    assert prefix.is_prefix and str(prefix).endswith("...")
    download(url + "w-1.bin", tmp_path / "w-1.bin", [prefix, md5], network=FAST)
    with pytest.raises(ValueError, match="hex digits"):
        Checksum("sha256", "ABC")


def test_a_transfer_cut_halfway_is_resumed_with_range(server, tmp_path):
    url, behaviour = server
    behaviour.cut_first = True
    dest = download(url + "w-1.bin", tmp_path / "w-1.bin", [_sha256(BLOB)], network=FAST)
    assert dest.read_bytes() == BLOB
    assert behaviour.gets("w-1.bin") == [None, f"bytes={len(BLOB) // 2}-"]


def test_a_part_left_by_an_earlier_run_is_resumed(server, tmp_path):
    url, behaviour = server
    (tmp_path / ".w-1.bin.part").write_bytes(BLOB[:100_000])
    download(url + "w-1.bin", tmp_path / "w-1.bin", [_sha256(BLOB)], network=FAST)
    assert (tmp_path / "w-1.bin").read_bytes() == BLOB
    assert behaviour.gets("w-1.bin") == ["bytes=100000-"]


def test_a_checksum_mismatch_names_both_digests_and_leaves_nothing(server, tmp_path):
    url, _ = server
    want = Checksum("sha256", "0" * 64)
    with pytest.raises(DownloadError) as err:
        download(url + "w-1.bin", tmp_path / "out" / "w-1.bin", [want], network=FAST)
    got = hashlib.sha256(BLOB).hexdigest()
    assert f"got {got}, expected sha256 {'0' * 64}" in str(err.value)
    assert list((tmp_path / "out").iterdir()) == []


def test_404_is_final_and_one_line(server, tmp_path):
    url, behaviour = server
    with pytest.raises(DownloadError, match=r"nope\.bin: download failed: HTTP 404"):
        download(url + "nope.bin", tmp_path / "nope.bin", [_sha256(b"")], network=FAST)
    assert len(behaviour.gets("nope.bin")) == 1  # a 404 is not retried


def test_a_stalled_transfer_times_out_after_the_retries(server, tmp_path):
    url, behaviour = server
    behaviour.stall = 3.0
    net = Network(timeout=0.3, retries=1, backoff=0.01)
    with pytest.raises(DownloadError, match="download failed after 2 tries .*timed out"):
        download(url + "w-1.bin", tmp_path / "w-1.bin", [_sha256(BLOB)], network=net)
    # The second try asked for the rest of what the first one kept.
    assert behaviour.gets("w-1.bin") == [None, "bytes=1024-"]
    assert not (tmp_path / "w-1.bin").exists()


def test_no_network_names_the_url_and_the_manual_route(tmp_path):
    url = "http://127.0.0.1:9/w-1.bin"  # the discard port: nothing listens
    net = Network(timeout=1.0, retries=0, backoff=0)
    with pytest.raises(DownloadError, match=r"127\.0\.0\.1:9/w-1\.bin: download failed "
                                            r"\(.*refused.*\); by hand: convert it"):
        download(url, tmp_path / "w-1.bin", [_sha256(BLOB)], network=net,
                 manual="; by hand: convert it")


def test_network_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("GOOGLENET_DOWNLOAD_TIMEOUT", "0.5")
    monkeypatch.setenv("GOOGLENET_DOWNLOAD_RETRIES", "0")
    assert Network.from_env() == Network(timeout=0.5, retries=0, backoff=1.0)
    monkeypatch.setenv("GOOGLENET_DOWNLOAD_RETRIES", "many")
    with pytest.raises(DownloadError, match="GOOGLENET_DOWNLOAD_RETRIES='many'"):
        Network.from_env()


def test_a_local_folder_serves_as_well(tmp_path):
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "w-1.bin").write_bytes(BLOB)
    url = (tmp_path / "mirror" / "w-1.bin").as_uri()
    assert download(url, tmp_path / "w-1.bin", [_sha256(BLOB)], network=FAST).read_bytes() \
        == BLOB
    with pytest.raises(DownloadError, match="no such file"):
        download(url + "x", tmp_path / "x", [_sha256(BLOB)], network=FAST)


def test_the_lock_lets_one_holder_in_at_a_time(tmp_path):
    inside, overlaps = [], []

    def hold() -> None:
        with file_lock(tmp_path / ".x.lock"):
            overlaps.append(len(inside))
            inside.append(1)
            threading.Event().wait(0.05)
            inside.pop()

    threads = [threading.Thread(target=hold) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == [0, 0, 0, 0] and not (tmp_path / ".x.lock").exists()


def test_a_full_disk_is_one_line_and_leaves_nothing(server, tmp_path):
    url, _ = server
    try:
        with tmpfs(tmp_path / "small", "size=64k") as small:
            with pytest.raises(DownloadError, match="no space left on the device for w-1.bin"):
                download(url + "w-1.bin", small / "w-1.bin", [_sha256(BLOB)], network=FAST)
            assert list(small.iterdir()) == []
    except OSError as exc:
        pytest.skip(f"cannot mount a small tmpfs here ({exc})")


def test_a_read_only_folder_is_one_line(server, tmp_path):
    url, _ = server
    try:
        with tmpfs(tmp_path / "ro", "ro") as ro:
            with pytest.raises(DownloadError, match=r"folder .*ro/cache: cannot create it"):
                download(url + "w-1.bin", ro / "cache" / "w-1.bin", [_sha256(BLOB)])
            with pytest.raises(DownloadError, match=r"folder .*ro: not writable"):
                download(url + "w-1.bin", ro / "w-1.bin", [_sha256(BLOB)])
    except OSError as exc:
        pytest.skip(f"cannot mount a read-only tmpfs here ({exc})")


def test_nothing_is_downloaded_without_a_checksum(tmp_path):
    with pytest.raises(DownloadError, match="without a checksum"):
        download("http://127.0.0.1:9/x", Path(tmp_path / "x"), [])
