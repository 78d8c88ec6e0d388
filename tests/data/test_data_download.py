import functools
import hashlib
import http.server
import threading

import pytest
from helpers_data import write_idx_set

from googlenet.data import download as download_mod
from googlenet.data import idx as idx_mod
from googlenet.data.download import FileSpec, download_file, download_idx_dataset
from googlenet.data.idx import IDXDataset
from googlenet.errors import DataError


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/srv; yields its base URL."""
    root = tmp_path / "srv"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_good_checksum(server, tmp_path):
    root, url = server
    (root / "f.bin").write_bytes(b"hello" * 1000)
    dest = tmp_path / "out" / "f.bin"
    download_file(url + "f.bin", dest, FileSpec("f.bin", sha256=_sha(root / "f.bin")))
    assert dest.read_bytes() == b"hello" * 1000
    assert [p.name for p in dest.parent.iterdir()] == ["f.bin"]


def test_download_bad_checksum_leaves_nothing(server, tmp_path):
    root, url = server
    (root / "f.bin").write_bytes(b"tampered")
    out = tmp_path / "out"
    with pytest.raises(DataError, match="sha256 mismatch"):
        download_file(url + "f.bin", out / "f.bin", FileSpec("f.bin", sha256="0" * 64))
    assert list(out.iterdir()) == []


def test_download_missing_file(server, tmp_path):
    _, url = server
    with pytest.raises(DataError, match="download failed"):
        download_file(url + "nope", tmp_path / "nope", FileSpec("nope", md5="0" * 32))


def test_download_idx_dataset_then_load(server, tmp_path, monkeypatch):
    root, url = server
    write_idx_set(root)
    specs = tuple(FileSpec(p.name, sha256=_sha(p)) for p in sorted(root.iterdir()))
    monkeypatch.setitem(download_mod.RESOURCES, "mnist", ("http://unused.invalid/", specs))
    dest = download_idx_dataset("mnist", tmp_path / "dl", base_url=url)
    ds = IDXDataset("mnist", "train", root=dest)
    assert len(ds) == 12


def test_idx_dataset_download_flag(server, tmp_path, monkeypatch):
    root, url = server
    write_idx_set(root)
    specs = tuple(FileSpec(p.name, sha256=_sha(p)) for p in sorted(root.iterdir()))
    monkeypatch.setitem(download_mod.RESOURCES, "fashion-mnist", (url, specs))
    monkeypatch.setattr(idx_mod, "SYSTEM_DIRS", {"mnist": [], "fashion-mnist": []})
    monkeypatch.delenv("GOOGLENET_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GOOGLENET_HOME", raising=False)  # it would outrank XDG
    with pytest.raises(DataError, match="not found"):
        IDXDataset("fashion-mnist", "test")
    ds = IDXDataset("fashion-mnist", "test", download=True)
    assert len(ds) == 6 and ds.root == tmp_path / "cache" / "googlenet" / "fashion-mnist"
