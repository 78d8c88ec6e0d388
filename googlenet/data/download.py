"""The IDX datasets' files, URLs and checksums, fetched (on machines with a network) by
the package's one downloader, :mod:`googlenet.download`: streamed, resumed, verified and
renamed into place atomically, so a file that looks valid always is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from googlenet.download import Checksum, Network, download, file_digest
from googlenet.errors import DataError, DownloadError
from googlenet.paths import data_cache_dir


@dataclass(frozen=True)
class FileSpec:
    """One file to fetch: its name and the digests it must have (hex, lower case)."""

    name: str
    sha256: str | None = None
    md5: str | None = None


# MD5s are the ones torchvision and the datasets' own pages publish for the .gz files.
# Fashion-MNIST's SHA-256s were taken from two independent public download scripts that
# agree; for MNIST only MD5s are recorded here (no SHA-256 we could cross-check), so MNIST
# downloads are verified by MD5. Note Debian's dataset-fashion-mnist ships re-compressed
# .gz files with the same content but different bytes: local copies are never hashed,
# only parsed and validated.
RESOURCES: dict[str, tuple[str, tuple[FileSpec, ...]]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        (
            FileSpec("train-images-idx3-ubyte.gz", md5="f68b3c2dcbeaaa9fbdd348bbdeb94873"),
            FileSpec("train-labels-idx1-ubyte.gz", md5="d53e105ee54ea40749a09fcbcd1e9432"),
            FileSpec("t10k-images-idx3-ubyte.gz", md5="9fb629c4189551a2d022fa330f9573f3"),
            FileSpec("t10k-labels-idx1-ubyte.gz", md5="ec29112dd5afa0611ce80d1b7f02629c"),
        ),
    ),
    "fashion-mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        (
            FileSpec(
                "train-images-idx3-ubyte.gz",
                sha256="08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
                md5="8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            ),
            FileSpec(
                "train-labels-idx1-ubyte.gz",
                sha256="b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
                md5="25c81989df183df01b3e8a0aad5dffbe",
            ),
            FileSpec(
                "t10k-images-idx3-ubyte.gz",
                sha256="78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
                md5="bef4ecab320f06d8554ea6380940ec79",
            ),
            FileSpec(
                "t10k-labels-idx1-ubyte.gz",
                sha256="42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
                md5="bb300cfdad3c16e7a12a480ee83cd310",
            ),
        ),
    ),
}


def download_file(url: str, dest: Path, spec: FileSpec, timeout: float | None = None) -> Path:
    """Download ``url`` to ``dest`` with :func:`googlenet.download.download`, checking
    every digest ``spec`` names.

    Raises :class:`DataError` on a network failure or a checksum mismatch; in both cases
    nothing is left at ``dest``.
    """
    checksums = [Checksum(algo, digest.lower())
                 for algo, digest in (("sha256", spec.sha256), ("md5", spec.md5)) if digest]
    if not checksums:
        raise DataError(f"{dest}: refusing to download without a checksum")
    network = Network.from_env()
    if timeout is not None:
        network = replace(network, timeout=timeout)
    try:
        return download(url, dest, checksums, network=network)
    except DownloadError as err:
        raise DataError(str(err)) from None


def download_idx_dataset(
    name: str, dest_dir: Path | None = None, base_url: str | None = None
) -> Path:
    """Fetch the four IDX files of ``name`` into ``dest_dir`` (default: the cache dir).

    ``base_url`` overrides the official mirror (also settable with
    ``$GOOGLENET_DATA_URL``), e.g. for an internal mirror or a test server.
    Files already present with the right checksum are not fetched again.
    """
    if name not in RESOURCES:
        raise DataError(f"unknown IDX dataset {name!r}: expected one of {list(RESOURCES)}")
    default_url, files = RESOURCES[name]
    base = base_url or os.environ.get("GOOGLENET_DATA_URL") or default_url
    if not base.endswith("/"):
        base += "/"
    dest_dir = Path(dest_dir) if dest_dir is not None else data_cache_dir(name)
    for spec in files:
        target = dest_dir / spec.name
        if target.is_file() and _matches(target, spec):
            continue
        download_file(base + spec.name, target, spec)
    return dest_dir


def _matches(path: Path, spec: FileSpec) -> bool:
    algo, want = ("sha256", spec.sha256) if spec.sha256 else ("md5", spec.md5)
    return file_digest(path, algo) == want
