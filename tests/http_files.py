"""A real HTTP server on 127.0.0.1 for the download tests: serves a folder, honours Range
requests, counts and records every GET, and can misbehave on demand (cut a transfer
halfway, stall, throttle) so that every failure the downloader handles is a real one."""

from __future__ import annotations

import http.server
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Behaviour:
    """What the server does; tests change it between requests."""

    cut_first: bool = False  # the first GET of a file sends half of it, then hangs up
    stall: float = 0.0  # seconds to sleep after the headers and the first bytes
    throttle: float = 0.0  # seconds to sleep between 64 KiB chunks
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range)

    def gets(self, name: str) -> list[str | None]:
        """The Range header of every GET of ``name`` (None: a plain GET)."""
        return [rng for path, rng in self.requests if path == f"/{name}"]


def _handler(root: Path, behaviour: Behaviour) -> type[http.server.BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            rng = self.headers.get("Range")
            with lock:
                first = not behaviour.gets(self.path.lstrip("/"))
                behaviour.requests.append((self.path, rng))
            path = root / self.path.lstrip("/")
            if not path.is_file():
                self.send_error(404, "Not Found")
                return
            data = path.read_bytes()
            start = 0
            match = re.fullmatch(r"bytes=(\d+)-", rng or "")
            if match:
                start = int(match.group(1))
                if start >= len(data):
                    self.send_error(416, "Range Not Satisfiable")
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if behaviour.cut_first and first:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            if behaviour.stall:
                self.wfile.write(body[:1024])
                self.wfile.flush()
                time.sleep(behaviour.stall)
                body = body[1024:]
            for i in range(0, len(body), 1 << 16):
                try:
                    self.wfile.write(body[i:i + (1 << 16)])
                except (BrokenPipeError, ConnectionResetError):
                    return
                if behaviour.throttle:
                    time.sleep(behaviour.throttle)

    return Handler


@contextmanager
def serve(root: Path) -> Iterator[tuple[str, Behaviour]]:
    """Serve ``root`` on 127.0.0.1; yields the base URL (ending in /) and the behaviour."""
    behaviour = Behaviour()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(root, behaviour))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", behaviour
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def tmpfs(path: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted at ``path`` with ``options`` (``ro``, ``size=64k``), or
    :class:`OSError` where mounting is not allowed (not root, no CAP_SYS_ADMIN)."""
    import subprocess

    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise OSError(done.stderr.strip() or "mount failed")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)


def point_catalogue(monkeypatch: object, name: str, checksum: object,
                    **changes: object) -> None:
    """Give release ``name`` another checksum (the served test file's) and any other
    field ``changes``, for the test's duration (``monkeypatch``: pytest's fixture)."""
    import dataclasses

    from googlenet.weights import catalogue

    entries = tuple(dataclasses.replace(e, checksum=checksum, **changes) if e.name == name
                    else e for e in catalogue.CATALOGUE)
    monkeypatch.setattr(catalogue, "CATALOGUE", entries)  # type: ignore[attr-defined]
