"""The one downloader, for data sets and pretrained weights alike.

A file is streamed into ``.<name>.part`` beside its destination (a progress bar with an
ETA on a terminal), resumed with an HTTP ``Range`` request after a cut connection or an
earlier interrupted run, checked against every published checksum, and only then renamed
into place (``os.replace``, atomic on POSIX): a file under its final name is always a
verified one. A lock file makes two processes that want one file download it once.

Every failure is a one-line :class:`~googlenet.errors.DownloadError`: an HTTP error
(404...), no network or a stalled transfer after a few retries with backoff, a checksum
mismatch (naming both digests; the bytes are deleted), a full disk, a folder that cannot
be written.

Network settings come from the environment, so that tests and slow links can change them:
``$GOOGLENET_DOWNLOAD_TIMEOUT`` (seconds to connect, and that one read may stall; default
30), ``$GOOGLENET_DOWNLOAD_RETRIES`` (default 3) and ``$GOOGLENET_DOWNLOAD_BACKOFF``
(seconds before the first retry, doubled after each; default 1).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import http.client
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from googlenet.errors import DownloadError
from googlenet.progress import TransferProgress

CHUNK = 1 << 16  # bytes per read: small enough that a stall is noticed at once

# The full length of each algorithm's hex digest; a shorter published digest is a prefix
# (torch.hub's convention of naming a file after its sha256's first hex digits).
_HEX_LENGTH = {"sha256": 64, "sha1": 40, "md5": 32}


@dataclass(frozen=True)
class Checksum:
    """A published digest: the publisher's algorithm and its hex value (lower case), or
    the leading hex digits of it where that is all the publisher gives."""

    algorithm: str
    digest: str

    def __post_init__(self) -> None:
        full = _HEX_LENGTH.get(self.algorithm)
        if full is None:
            raise ValueError(f"unknown checksum algorithm {self.algorithm!r}")
        if not 8 <= len(self.digest) <= full or self.digest.strip("0123456789abcdef"):
            raise ValueError(f"{self.algorithm} digest {self.digest!r}: expected 8 to {full} "
                             "lower-case hex digits")

    @property
    def is_prefix(self) -> bool:
        return len(self.digest) < _HEX_LENGTH[self.algorithm]

    def matches(self, hexdigest: str) -> bool:
        return hexdigest.startswith(self.digest)

    def __str__(self) -> str:
        return f"{self.algorithm} {self.digest}" + ("..." if self.is_prefix else "")


@dataclass(frozen=True)
class Network:
    """How patient a download is: ``timeout`` seconds to connect and for any one read,
    ``retries`` more tries after a failure, ``backoff`` seconds before the first
    (doubled after each)."""

    timeout: float = 30.0
    retries: int = 3
    backoff: float = 1.0

    @classmethod
    def from_env(cls) -> Network:
        """The defaults, overridden by ``$GOOGLENET_DOWNLOAD_TIMEOUT`` / ``_RETRIES`` /
        ``_BACKOFF``."""
        def read(name: str, default: float) -> float:
            text = os.environ.get(f"GOOGLENET_DOWNLOAD_{name}")
            if not text:
                return default
            try:
                value = float(text)
            except ValueError:
                raise DownloadError(f"$GOOGLENET_DOWNLOAD_{name}={text!r}: expected a "
                                    "number") from None
            if value < 0:
                raise DownloadError(f"$GOOGLENET_DOWNLOAD_{name}={text!r}: must be >= 0")
            return value

        return cls(read("TIMEOUT", cls.timeout) or cls.timeout,
                   int(read("RETRIES", cls.retries)), read("BACKOFF", cls.backoff))


class _Transient(Exception):
    """A failure worth another try: no connection, a timeout, a cut transfer, a 5xx."""


def writable_folder(folder: Path, what: str = "folder") -> Path:
    """``folder``, created if missing; one line naming it when that fails or when it
    cannot be written (a read-only mount, another user's cache)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"{what} {folder}: cannot create it ({exc.strerror})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DownloadError(f"{what} {folder}: not writable")
    return folder


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created, and removed on release). A process
    that opened the file before its holder removed it sees that its file is gone and
    locks the new one, so two holders never overlap."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DownloadError(f"{path}: cannot create the lock file ({exc.strerror})") \
                from None
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


def file_digest(path: Path, algorithm: str) -> str:
    """The hex digest of ``path``'s bytes."""
    h = hashlib.new(algorithm, usedforsecurity=False)  # integrity, not security
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _mismatch(path: Path, checksums: Sequence[Checksum]) -> str | None:
    """How ``path`` fails its checksums (both digests named), or None if it passes."""
    for checksum in checksums:
        got = file_digest(path, checksum.algorithm)
        if not checksum.matches(got):
            return f"{checksum.algorithm} mismatch: got {got}, expected {checksum}"
    return None


def _open(url: str, have: int, timeout: float) -> http.client.HTTPResponse | None:
    """The response for ``url`` from byte ``have`` on, or None when the server says there
    is nothing after ``have`` (416: the part is whole). Another 4xx is final; the rest of
    what can go wrong is worth a retry."""
    headers = {"User-Agent": "googlenet"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        response: http.client.HTTPResponse = urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=timeout)
        return response
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:
            return None
        if exc.code in (408, 429) or exc.code >= 500:
            raise _Transient(f"HTTP {exc.code} {exc.reason}") from None
        raise DownloadError(f"{url}: download failed: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:  # no route, refused, DNS, or a local file missing
        if isinstance(exc.reason, FileNotFoundError) or url.startswith("file:"):
            raise DownloadError(f"{url}: download failed: no such file") from None
        raise _Transient(str(exc.reason)) from None
    except (OSError, http.client.HTTPException) as exc:  # a timeout, a reset connection
        raise _Transient(str(exc) or type(exc).__name__) from None


def _disk_error(exc: OSError, part: Path) -> DownloadError:
    """A failed write of ``part`` in one line; a full disk also deletes what was written,
    which no retry could finish."""
    if exc.errno == errno.ENOSPC:
        part.unlink(missing_ok=True)
        return DownloadError(f"{part.parent}: no space left on the device for "
                             f"{part.name[1:-5]}; free some space and try again")
    return DownloadError(f"{part}: cannot write ({exc.strerror or exc})")


def _fetch(url: str, part: Path, timeout: float, desc: str) -> None:
    """Append what ``url`` still owes to ``part`` (all of it when the server ignores
    ``Range``); raise :class:`_Transient` when the transfer stops early."""
    have = part.stat().st_size if part.exists() else 0
    response = _open(url, have, timeout)
    if response is None:
        return
    with response:
        resumed = have > 0 and getattr(response, "status", None) == 206
        start = have if resumed else 0
        length = response.headers.get("Content-Length")
        total = start + int(length) if length and length.isdigit() else None
        try:
            with part.open("ab" if resumed else "wb") as out, \
                    TransferProgress(total, desc, start=start) as bar:
                while True:
                    try:
                        chunk = response.read1(CHUNK)  # what has come: a stall keeps it
                    except (OSError, http.client.HTTPException) as exc:  # stalled, reset
                        raise _Transient(f"transfer stopped ({exc or type(exc).__name__})") \
                            from None
                    if not chunk:
                        break
                    out.write(chunk)
                    bar.advance(len(chunk))
        except OSError as exc:  # writing or closing the part (reads raise _Transient)
            raise _disk_error(exc, part) from None
    got = part.stat().st_size
    if total is not None and got < total:
        raise _Transient(f"connection closed after {got} of {total} bytes")


def download(url: str, dest: str | os.PathLike[str], checksums: Sequence[Checksum], *,
             network: Network | None = None, manual: str = "") -> Path:
    """Fetch ``url`` to ``dest`` (see the module docstring) and return ``dest``.

    A ``dest`` that already exists and passes ``checksums`` is kept as it is; one that
    does not is fetched again. ``manual`` is appended to a no-network error: how to get
    the file without this downloader.
    """
    if not checksums:
        raise DownloadError(f"{dest}: refusing to download without a checksum")
    net = network or Network.from_env()
    dest = Path(dest)
    writable_folder(dest.parent)
    with file_lock(dest.parent / f".{dest.name}.lock"):
        if dest.is_file() and _mismatch(dest, checksums) is None:
            return dest
        part = dest.parent / f".{dest.name}.part"
        for attempt in range(net.retries + 1):
            try:
                _fetch(url, part, net.timeout, dest.name)
                break
            except _Transient as exc:
                if attempt == net.retries:
                    tries = f" after {attempt + 1} tries" if attempt else ""
                    kept = part.stat().st_size if part.exists() else 0
                    resume = f"; {kept} bytes kept to resume from" if kept else ""
                    raise DownloadError(f"{url}: download failed{tries} ({exc}){resume}"
                                        f"{manual}") from None
                time.sleep(net.backoff * 2 ** attempt)
        problem = _mismatch(part, checksums)
        if problem is not None:
            part.unlink()
            raise DownloadError(f"{url}: {problem}; the download was deleted")
        os.replace(part, dest)
    return dest
