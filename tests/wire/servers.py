"""Start a real server as a subprocess on 127.0.0.1 and stop it again, whatever the test did.

Generic on purpose: the caller gives the command line (with ``{port}`` where the port goes), this
module finds a free port, waits until the server accepts connections, and stops exactly the process
it started, by its PID, with a timeout before escalating.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Connection",
    "Response",
    "Server",
    "free_port",
    "http_request",
    "read_response",
    "running",
    "wait_for_output",
]

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    process: subprocess.Popen[bytes]
    #: Where the server's stdout and stderr go; read it with :meth:`output` while it runs.
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def output(self) -> str:
        """Everything the server has printed so far (its log, for tests that count log lines)."""
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def connect(self, timeout: float = 10.0) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout=timeout)


def free_port() -> int:
    """A port the kernel just handed out; reused at once, so a clash is unlikely, not impossible."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


def stop(process: subprocess.Popen[bytes], *, timeout: float = 10.0) -> None:
    """SIGTERM by PID, then SIGKILL by PID if the process outlives ``timeout``."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


@contextlib.contextmanager
def running(
    argv: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 20.0,
    stop_timeout: float = 10.0,
) -> Iterator[Server]:
    """Run ``argv`` (``{port}`` and ``{host}`` are filled in) until the block ends.

    The server's output goes to a temporary file rather than a pipe, so a chatty server can never
    block on a full pipe; it is printed when the server fails to start.
    """
    port = free_port()
    command = [arg.format(port=port, host=HOST) for arg in argv]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"friendly-errors-server-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=cwd, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + ready_timeout
            while not _accepts(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    output = log_path.read_text(errors="replace")
                    raise RuntimeError(f"{command!r} did not start:\n{output}")
                time.sleep(0.05)
            yield Server(HOST, port, process, log_path)
        finally:
            stop(process, timeout=stop_timeout)
    with contextlib.suppress(OSError):
        log_path.unlink()


def python() -> str:
    """The interpreter running the tests, so servers import the same installed packages."""
    return sys.executable


def http_request(port: int, raw: bytes, *, timeout: float = 10.0) -> tuple[bytes, bytes, bool]:
    """Send ``raw`` over a fresh connection; returns the head, the body and whether it was reset.

    Reads until the server closes the connection, so ``raw`` should carry ``Connection: close``
    unless the test wants to see the server close it on its own.
    """
    chunks: list[bytes] = []
    reset = False
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(raw)
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                reset = True
                break
            if not data:
                break
            chunks.append(data)
    response = b"".join(chunks)
    head, _, body = response.partition(b"\r\n\r\n")
    return head, body, reset


@dataclass(frozen=True)
class Response:
    """One HTTP/1.1 response as it came off the wire, framing included."""

    status: int
    head: bytes
    headers: list[tuple[str, str]]
    #: The payload exactly as framed (chunked framing removed, content codings kept).
    body: bytes
    #: Whether the body ended as its framing promised; False when the connection was cut short.
    complete: bool

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name.lower()]


def read_response(reader: io.BufferedReader, *, head_request: bool = False) -> Response:
    """Read exactly one response from ``reader`` (``sock.makefile("rb")``), leaving the next intact.

    Framing follows RFC 9112 Section 6.3, so a test can send a second request on the same connection
    and tell whether the first response carried stray bytes: they would be read as the next status
    line. A body cut short by the server closing or resetting the connection is returned with
    ``complete=False`` instead of raising.
    """
    lines: list[bytes] = []
    while True:
        line = reader.readline(65537)
        if not line:
            raise ConnectionError(f"connection closed inside the header section: {lines!r}")
        if line in (b"\r\n", b"\n"):
            break
        lines.append(line)
    head = b"".join(lines)
    status = int(lines[0].split()[1])
    headers = []
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name.strip().lower(), value.strip()))
    fields = dict(headers)
    if head_request or status < 200 or status in (204, 304):
        return Response(status, head, headers, b"", True)
    try:
        if "chunked" in fields.get("transfer-encoding", "").lower():
            body, complete = _read_chunked(reader)
        elif "content-length" in fields:
            expected = int(fields["content-length"])
            body = _read_up_to(reader, expected)
            complete = len(body) == expected
        else:
            body, complete = _read_up_to(reader, None), True
    except ConnectionResetError:
        body, complete = b"", False
    return Response(status, head, headers, body, complete)


def _read_up_to(reader: io.BufferedReader, size: int | None) -> bytes:
    parts: list[bytes] = []
    remaining = size
    while remaining is None or remaining > 0:
        try:
            data = reader.read1(65536 if remaining is None else remaining)
        except ConnectionResetError:
            break
        if not data:
            break
        parts.append(data)
        if remaining is not None:
            remaining -= len(data)
    return b"".join(parts)


def _read_chunked(reader: io.BufferedReader) -> tuple[bytes, bool]:
    parts: list[bytes] = []
    while True:
        size_line = reader.readline(1024)
        if not size_line.endswith(b"\n"):
            return b"".join(parts), False
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            # Trailer section, ended by an empty line.
            while True:
                line = reader.readline(65537)
                if not line:
                    return b"".join(parts), False
                if line in (b"\r\n", b"\n"):
                    return b"".join(parts), True
        data = _read_up_to(reader, size)
        parts.append(data)
        if len(data) < size or reader.readline(3) not in (b"\r\n", b"\n"):
            return b"".join(parts), False


class Connection:
    """One keep-alive connection: requests go out one at a time, responses are read by framing."""

    def __init__(self, server: Server) -> None:
        self.sock = server.connect(timeout=10)
        self.reader = self.sock.makefile("rb")

    def request(self, method: str, path: str, headers: dict[str, str] | None = None) -> Response:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        return read_response(self.reader, head_request=method == "HEAD")

    def closed(self, timeout: float = 5.0) -> bool:
        """Whether the server has closed (or reset) the connection, waiting up to ``timeout``."""
        self.sock.settimeout(timeout)
        try:
            return self.reader.read1(1) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


def wait_for_output(server: Server, text: str, timeout: float = 5.0) -> str:
    """The server's output once ``text`` is in it (or ``timeout`` has passed)."""
    deadline = time.monotonic() + timeout
    while True:
        output = server.output()
        if text in output or time.monotonic() > deadline:
            # Give a second log line, if any were coming, the time to arrive.
            time.sleep(0.2)
            return server.output()
        time.sleep(0.05)
