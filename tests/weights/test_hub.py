"""Weights by name (googlenet/weights/hub.py) end to end, with no internet: a real HTTP
server on 127.0.0.1 serves a torchvision-layout GoogLeNet file written by the reference
key map, and the catalogue's entry is pointed at it ($GOOGLENET_WEIGHTS_MIRROR) with the
served file's own checksum."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from PIL import Image

import googlenet
from googlenet.cli import main
from googlenet.download import Checksum
from googlenet.errors import DownloadError, UnknownReleaseError, WeightsError
from googlenet.weights import catalogue, load_model, read_meta
from googlenet.weights.hub import cached_path, resolve_weights
from googlenet.weights.torchvision_map import to_torchvision
from tests.http_files import point_catalogue, serve, tmpfs

NAME = "googlenet_bn.tv_in1k"
FILE = "googlenet-1378be20.pth"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The server's folder, holding a torchvision googlenet .pth under the release's file
    name (random weights), and that file's sha256."""
    root = tmp_path_factory.mktemp("publisher")
    model = googlenet.models.create_model("googlenet_bn", aux_logits=False)
    torch.save(to_torchvision(model.state_dict(), "googlenet_bn"), root / FILE)
    return root, hashlib.sha256((root / FILE).read_bytes()).hexdigest()


@pytest.fixture
def hub(published, tmp_path, monkeypatch):
    """The catalogue pointed at a live server; yields the server's behaviour."""
    root, digest = published
    for var in ("GOOGLENET_OFFLINE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GOOGLENET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GOOGLENET_DOWNLOAD_BACKOFF", "0.01")
    point_catalogue(monkeypatch, NAME, Checksum("sha256", digest))
    with serve(root) as (url, behaviour):
        monkeypatch.setenv("GOOGLENET_WEIGHTS_MIRROR", url)
        yield behaviour


def test_a_release_is_downloaded_converted_cached_then_served_from_the_cache(
        hub, published, tmp_path):
    path = resolve_weights(NAME)
    assert path == tmp_path / "home" / "weights" / f"{NAME}.safetensors" == cached_path(NAME)
    assert read_meta(path).model == "googlenet_bn"
    assert read_meta(path).preprocessing == catalogue.get_release(NAME).preprocessing
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # original deleted
    assert hub.gets(FILE) == [None]
    # Second call: the cache, no network (even offline).
    assert resolve_weights(NAME, offline=True) == path
    assert hub.gets(FILE) == [None]
    # The converted weights are the served file's, key for key.
    back = to_torchvision(load_model(path)[0].state_dict(), "googlenet_bn")
    original = torch.load(published[0] / FILE, weights_only=True)
    assert set(back) == set(original)
    assert all(torch.equal(back[k], original[k]) for k in original)


def test_keep_original_and_the_weights_cli(hub, capsys):
    assert main(["weights", "get", NAME, "--keep-original"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert (path.parent / FILE).is_file()
    assert main(["weights", "path", NAME, "--offline"]) == 0
    assert capsys.readouterr().out.strip() == str(path)
    assert main(["weights", "list"]) == 0
    listing = capsys.readouterr().out
    row = next(line for line in listing.splitlines() if line.startswith(NAME))
    assert row.split()[-1] == "yes" and "69.8" in row and "BSD-3-Clause" in row
    assert "googlenet.bvlc *" in listing and hub.gets(FILE) == [None]


def test_create_model_pretrained_and_weights_by_name(hub):
    model = googlenet.create_model("googlenet_bn", pretrained=True, num_classes=5)
    direct = load_model(resolve_weights(NAME))[0].state_dict()
    ours = model.state_dict()
    assert ours["fc.weight"].shape == (5, 1024)  # a new classifier for 5 classes
    assert all(torch.equal(ours[k], direct[k]) for k in direct if not k.startswith("fc."))
    named = googlenet.create_model(NAME, aux_logits=False)  # a release name as the model
    assert torch.equal(named.state_dict()["fc.weight"], direct["fc.weight"])
    with pytest.raises(WeightsError, match="googlenet_mnist: no pretrained release"):
        googlenet.create_model("googlenet_mnist", pretrained=True)


def test_predict_takes_a_release_name(hub, tmp_path, capsys):
    image = tmp_path / "cat.png"
    Image.new("RGB", (64, 48), (200, 120, 40)).save(image)
    assert main(["predict", str(image), "--weights", NAME, "--topk", "2", "--json",
                 "--path", "eager"]) == 0
    out = capsys.readouterr().out
    assert '"image"' in out and "probability" in out
    assert hub.gets(FILE) == [None]


def test_a_transfer_cut_halfway_is_resumed_with_range(hub):
    hub.cut_first = True
    assert read_meta(resolve_weights(NAME)).model == "googlenet_bn"
    first, second = hub.gets(FILE)
    assert first is None and second is not None and second.startswith("bytes=")


def test_a_checksum_mismatch_is_refused_and_leaves_nothing(hub, monkeypatch, tmp_path, capsys):
    point_catalogue(monkeypatch, NAME, Checksum("sha256", "1378be20"))  # the real file's prefix
    assert main(["weights", "get", NAME]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "sha256 mismatch: got " in err
    assert "expected sha256 1378be20..." in err
    assert list((tmp_path / "home" / "weights").iterdir()) == []


def test_404_is_one_line_exit_2(hub, monkeypatch, tmp_path, capsys):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    point_catalogue(monkeypatch, NAME, catalogue.get_release(NAME).checksum,
                    file="missing-12345678.pth")
    assert main(["predict", str(tmp_path), "--weights", NAME]) == 2
    err = capsys.readouterr().err
    assert "missing-12345678.pth: download failed: HTTP 404" in err
    assert len(hub.gets("missing-12345678.pth")) == 1


def test_a_stalling_server_times_out_exit_2(hub, monkeypatch, capsys):
    hub.stall = 3.0
    monkeypatch.setenv("GOOGLENET_DOWNLOAD_TIMEOUT", "0.3")
    monkeypatch.setenv("GOOGLENET_DOWNLOAD_RETRIES", "0")
    assert main(["weights", "get", NAME]) == 2
    err = capsys.readouterr().err
    assert "timed out" in err and f"googlenet convert {FILE}" in err


def test_no_network_names_url_file_and_manual_route(hub, monkeypatch):
    monkeypatch.setenv("GOOGLENET_WEIGHTS_MIRROR", "http://127.0.0.1:9/models")
    monkeypatch.setenv("GOOGLENET_DOWNLOAD_RETRIES", "0")
    with pytest.raises(DownloadError) as err:
        resolve_weights(NAME)
    text = str(err.value)
    assert f"http://127.0.0.1:9/models/{FILE}" in text
    assert f"`googlenet convert {FILE} {NAME}.safetensors --from torchvision`" in text


def test_offline_mode_never_touches_the_network(hub, monkeypatch, capsys):
    monkeypatch.setenv("GOOGLENET_OFFLINE", "1")
    with pytest.raises(DownloadError, match=f"{NAME}: not in the cache .* offline mode"):
        resolve_weights(NAME)
    monkeypatch.delenv("GOOGLENET_OFFLINE")
    assert main(["--offline", "export", "--weights", NAME, "--out", "x.onnx"]) == 2
    assert "offline mode" in capsys.readouterr().err
    assert hub.gets(FILE) == []


def test_a_local_folder_mirror(published, hub, monkeypatch):
    monkeypatch.setenv("GOOGLENET_WEIGHTS_MIRROR", str(published[0]))
    assert read_meta(resolve_weights(NAME)).model == "googlenet_bn"
    assert hub.gets(FILE) == []


def test_names_and_paths_are_told_apart(hub, tmp_path, capsys):
    with pytest.raises(UnknownReleaseError, match=r"googlenet\.bvl: no such file or weights "
                                                  r"release; did you mean googlenet\.bvlc"):
        resolve_weights("googlenet.bvl")
    with pytest.raises(UnknownReleaseError, match="its default weights are googlenet_bn.tv_in1k"):
        resolve_weights("googlenet_bn")
    with pytest.raises(WeightsError, match="gone.safetensors: no such file"):
        resolve_weights(tmp_path / "gone.safetensors")
    assert main(["weights", "get", "inception_v3.tv_in1", NAME]) == 2  # checked up front
    assert "did you mean inception_v3.tv_in1k" in capsys.readouterr().err
    assert hub.gets(FILE) == []


def test_an_unwritable_cache_is_one_line(hub, monkeypatch, tmp_path):
    try:
        with tmpfs(tmp_path / "ro", "ro") as ro:
            monkeypatch.setenv("GOOGLENET_HOME", str(ro))
            with pytest.raises(DownloadError, match=r"weights cache .*ro/weights: cannot "
                                                    r"create it \(Read-only file system\)"):
                resolve_weights(NAME)
    except OSError as exc:
        pytest.skip(f"cannot mount a read-only tmpfs here ({exc})")
    assert hub.gets(FILE) == []


_RACE = textwrap.dedent("""
    import dataclasses, sys
    from googlenet.download import Checksum
    from googlenet.weights import catalogue
    from googlenet.weights.hub import resolve_weights
    name, digest = sys.argv[1:3]
    catalogue.CATALOGUE = tuple(
        dataclasses.replace(e, checksum=Checksum("sha256", digest)) if e.name == name else e
        for e in catalogue.CATALOGUE)
    print(resolve_weights(name))
""")


def test_two_processes_at_once_download_once(hub, published, tmp_path):
    hub.throttle = 0.005  # a few seconds in all, so the second process waits on the lock
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path.cwd()), *sys.path]),
           "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", _RACE, NAME, published[1]], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert outs[0][0] == outs[1][0] == f"{cached_path(NAME)}\n"
    assert hub.gets(FILE) == [None]


@pytest.mark.parametrize("command", [
    ["predict", "IMG", "--weights", NAME],
    ["explain", "IMG", "--weights", NAME],
    ["dream", "IMG", "--weights", NAME],
    ["export", "--weights", NAME, "--out", "OUT/x.onnx"],
    ["bench", "--weights", NAME],
    ["finetune", "--weights", NAME, "--cut", "inception_4e", "--data", "OUT"],
    ["train", "--weights", NAME, "--data", "OUT"],
    ["eval", NAME, "--dataset", "folder", "--data", "OUT"],
], ids=lambda c: c[0])
def test_every_command_resolves_a_release_name(hub, command, tmp_path, capsys, monkeypatch):
    """Offline with an empty cache, each command stops at the release name, in one line:
    so each one does resolve it (a file path would go on)."""
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    monkeypatch.chdir(tmp_path)
    argv = [str(tmp_path / "a.png") if a == "IMG" else a.replace("OUT", str(tmp_path))
            for a in command]
    assert main(["--offline", *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert f"{NAME}: not in the cache" in err and "offline mode" in err


def test_a_full_disk_is_one_line_exit_2(hub, monkeypatch, tmp_path, capsys):
    try:
        with tmpfs(tmp_path / "small", "size=1m") as small:
            monkeypatch.setenv("GOOGLENET_HOME", str(small))
            assert main(["weights", "get", NAME]) == 2
            err = capsys.readouterr().err
            assert f"no space left on the device for {FILE}" in err
            assert list((small / "weights").iterdir()) == []
    except OSError as exc:
        pytest.skip(f"cannot mount a small tmpfs here ({exc})")
