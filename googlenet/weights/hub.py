"""Weights by name: download, verify, convert and cache each catalogued release.

>>> from googlenet.weights.hub import resolve_weights
>>> resolve_weights("googlenet_bn.tv_in1k")   # doctest: +SKIP
PosixPath('/home/me/.cache/googlenet/weights/googlenet_bn.tv_in1k.safetensors')

The cache, ``~/.cache/googlenet/weights`` (``$GOOGLENET_HOME`` or ``$XDG_CACHE_HOME`` move
it), holds each release converted to a googlenet safetensors file named after the release;
the publisher's original is deleted once the conversion has been read back, unless asked
to keep it. ``$GOOGLENET_OFFLINE=1`` never touches the network (a release not cached is
then a one-line error); ``$GOOGLENET_WEIGHTS_MIRROR`` (a base URL or a local folder holding
the publishers' files under their own names) stands in for the publishers' servers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from torch import nn

from googlenet.download import download, file_lock, writable_folder
from googlenet.errors import DownloadError, UnknownReleaseError, WeightsError
from googlenet.paths import weights_cache_dir
from googlenet.recipe import ModelArgs
from googlenet.weights.catalogue import (
    PublishedWeights,
    default_release,
    find_release,
    get_release,
    release_hint,
)
from googlenet.weights.convert import convert
from googlenet.weights.loader import create_model_from_file, read_meta

if TYPE_CHECKING:  # typing.Unpack is Python 3.11+; torch requires typing_extensions
    from typing_extensions import Unpack

OFFLINE_ENV = "GOOGLENET_OFFLINE"
MIRROR_ENV = "GOOGLENET_WEIGHTS_MIRROR"
# What a weights file is called: a spec with one of these suffixes, or a folder in it, is
# a path, never a release name (release names have a dot too: googlenet.bvlc).
_FILE_SUFFIXES = (".safetensors", ".pth", ".pt", ".h5", ".caffemodel", ".bin")


def weights_cache() -> Path:
    """The folder of converted releases."""
    return weights_cache_dir()


def cached_path(name: str) -> Path:
    """Where release ``name`` is (or will be) cached, converted."""
    return weights_cache() / f"{get_release(name).name}.safetensors"


def is_cached(name: str) -> bool:
    return cached_path(name).is_file()


def offline_mode(offline: bool | None = None) -> bool:
    """``offline`` if given, else whether ``$GOOGLENET_OFFLINE`` is set to a true value."""
    if offline is not None:
        return offline
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def source_url(entry: PublishedWeights) -> str:
    """The publisher's URL, or the same file on ``$GOOGLENET_WEIGHTS_MIRROR``."""
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    if not mirror:
        return entry.url
    if "://" in mirror:
        return mirror.rstrip("/") + "/" + entry.file
    folder = Path(mirror).expanduser()
    if not folder.is_dir():
        raise DownloadError(f"${MIRROR_ENV}={mirror}: neither a URL nor a folder")
    return (folder / entry.file).resolve().as_uri()


def _manual_route(entry: PublishedWeights, url: str) -> str:
    return (f"; without a network, download {url} ({entry.file}) elsewhere and run "
            f"`googlenet convert {entry.file} {entry.name}.safetensors --from "
            f"{entry.source}`")


def fetch_release(name: str, *, offline: bool | None = None,
                  keep_original: bool = False) -> Path:
    """The cached, converted file of release ``name``: downloaded (verified against the
    publisher's checksum), converted and cached when missing. Two processes asking at
    once do the work once; the second waits and takes the first's file."""
    entry = get_release(name)
    target = cached_path(name)
    if target.is_file():
        return target
    if offline_mode(offline):
        raise DownloadError(
            f"{name}: not in the cache ({target.parent}) and offline mode "
            f"(${OFFLINE_ENV} or --offline) forbids downloading it; run `googlenet weights "
            f"get {name}` on a machine with a network and copy {target.name} into that "
            f"folder, or run `googlenet convert {entry.file} {target.name} --from "
            f"{entry.source}` on the publisher's file")
    if entry.checksum is None:  # no catalogue entry lacks one today; never fetch unverified
        raise DownloadError(f"{name}: the catalogue has no checksum for {entry.file}; "
                            "download it by hand and run `googlenet convert`")
    folder = writable_folder(target.parent, "weights cache")
    url = source_url(entry)
    with file_lock(folder / f".{name}.lock"):
        if target.is_file():  # another process made it while this one waited
            return target
        original = download(url, folder / entry.file, [entry.checksum],
                            manual=_manual_route(entry, url))
        try:
            convert(original, target, entry.source, entry.model)
            read_meta(target)  # the conversion is read back before the original goes
        except OSError as exc:  # a full disk while writing the converted file
            raise DownloadError(f"{target}: cannot write the converted weights "
                                f"({exc.strerror or exc}); {original} is kept") from None
        except WeightsError:
            target.unlink(missing_ok=True)  # never cache what does not read back
            raise
        if not keep_original:
            original.unlink()
    return target


def resolve_weights(spec: str | os.PathLike[str], *, offline: bool | None = None) -> Path:
    """A weights argument as a file: an existing path is returned as it is; a release name
    gives its cached, converted file (fetched when missing); anything else is a one-line
    error (a missing file, or an unknown name with the closest release names)."""
    path = Path(spec).expanduser()
    if path.exists():
        return path
    text = os.fspath(spec)
    if find_release(text) is not None:
        return fetch_release(text, offline=offline)
    if os.sep in text or "/" in text or path.suffix.lower() in _FILE_SUFFIXES:
        raise WeightsError(f"{text}: no such file")
    raise UnknownReleaseError(f"{text}: no such file or weights release{release_hint(text)}")


def create_model(
    name: str,
    pretrained: bool = False,
    *,
    weights: str | os.PathLike[str] | None = None,
    **args: Unpack[ModelArgs],
) -> nn.Module:
    """:func:`googlenet.models.create_model` (every argument the same), plus pretrained
    weights by name. This is ``googlenet.create_model``.

    ``pretrained=True`` loads the model's default release (``googlenet_bn`` ->
    ``googlenet_bn.tv_in1k``); ``weights`` takes a release name or any googlenet weights
    file (:func:`~googlenet.weights.loader.create_model_from_file` loads it). ``name`` may itself be
    a release name (``create_model("googlenet.bvlc")``). A ``num_classes`` that differs
    from the weights' gets a new classifier.
    """
    release = find_release(name)
    if release is not None:
        name, weights = release.model, weights or release.name
    if pretrained and weights is None:
        default = default_release(name)
        if default is None:
            raise WeightsError(f"{name}: no pretrained release in the catalogue (see "
                               "`googlenet weights list`)")
        weights = default.name
    return create_model_from_file(
        name, weights=resolve_weights(weights) if weights is not None else None, **args)
