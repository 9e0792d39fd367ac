"""Start one (framework, server) pair twice, with and without friendly_errors, and talk to it.

Both servers run the same app module under the same server command; the second one has
``compat/bare`` on its ``PYTHONPATH``, whose ``sitecustomize`` swaps our middlewares for ones that
only call the app (see that module). They start side by side, since starting is most of a pair's
time, and are stopped by their PIDs through ``servers.running``.

HTTP/1.1 goes over raw sockets, one connection per request, read by its framing
(``servers.read_response``), so a Content-Length that lies or a HEAD body cannot hide. HTTP/2 over
cleartext goes through httpx with prior knowledge; the h2 library checks a Content-Length against the
DATA frames itself.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import httpx
from servers import Response, Server, read_response, running
from websockets.sync.client import connect

from compat.matrix import TESTS_DIR, Pair

__all__ = ["Arrival", "Client", "Deployment", "deploy", "missing_packages", "websocket_echo"]

BARE_DIR = Path(__file__).resolve().parent / "bare"
TIMEOUT = 10.0


def missing_packages(pair: Pair) -> list[str]:
    missing = []
    for name in pair.framework.packages + pair.server.packages:
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
    return missing


@dataclass(frozen=True)
class Arrival:
    """Bytes of a response body and when they arrived, in seconds after the request went out."""

    at: float
    data: bytes


class Client:
    """Requests to one server, in the protocol the pair is tested with."""

    def __init__(self, server: Server, protocol: str) -> None:
        self.server = server
        self._http2 = (
            httpx.Client(base_url=server.url, http1=False, http2=True, timeout=TIMEOUT)
            if protocol == "h2c"
            else None
        )

    def close(self) -> None:
        if self._http2 is not None:
            self._http2.close()

    def request(self, method: str, path: str, headers: Mapping[str, str] | None = None) -> Response:
        if self._http2 is not None:
            reply = self._http2.request(method, path, headers=_h2_headers(headers))
            return _from_httpx(reply, reply.content)
        with self._socket() as sock, sock.makefile("rb") as reader:
            sock.sendall(_request_bytes(method, path, headers))
            return read_response(reader, head_request=method == "HEAD")

    def head_and_after(self, path: str, headers: Mapping[str, str]) -> tuple[Response, bytes]:
        """A HEAD response, and any bytes that followed it before the next response's status line.

        Over HTTP/1.1 a second request goes out on the same connection: body bytes after a HEAD
        would come before its status line. Over h2 a body would arrive as DATA frames.
        """
        if self._http2 is not None:
            reply = self._http2.request("HEAD", path, headers=_h2_headers(headers))
            return _from_httpx(reply, b""), reply.content
        with self._socket() as sock, sock.makefile("rb") as reader:
            sock.sendall(_request_bytes("HEAD", path, headers))
            response = read_response(reader, head_request=True)
            with contextlib.suppress(OSError):
                sock.sendall(_request_bytes("GET", "/hello", {}))
            sock.settimeout(2.0)
            try:
                first_line = reader.readline(65537)
            except (OSError, TimeoutError):
                first_line = b""
            return response, b"" if first_line.startswith(b"HTTP/") else first_line

    def stream(self, path: str) -> tuple[Response, list[Arrival]]:
        """A response and its body's pieces as they arrived off the connection."""
        arrivals: list[Arrival] = []
        if self._http2 is not None:
            started = time.monotonic()
            with self._http2.stream("GET", path, headers=_h2_headers({})) as reply:
                for data in reply.iter_raw():
                    arrivals.append(Arrival(time.monotonic() - started, data))
            return _from_httpx(reply, b"".join(a.data for a in arrivals)), arrivals
        with self._socket() as sock:
            # Connection: close, so the end of the response is the end of the connection.
            sock.sendall(_request_bytes("GET", path, {"Connection": "close"}))
            started = time.monotonic()
            while data := sock.recv(65536):
                arrivals.append(Arrival(time.monotonic() - started, data))
        raw = b"".join(a.data for a in arrivals)
        return read_response(io.BufferedReader(io.BytesIO(raw))), arrivals

    def _socket(self) -> socket.socket:
        return socket.create_connection((self.server.host, self.server.port), timeout=TIMEOUT)


def _request_bytes(method: str, path: str, headers: Mapping[str, str] | None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _h2_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    # httpx would otherwise ask for gzip, and a GZip middleware in the app would then compress.
    return {"Accept-Encoding": "identity", **(headers or {})}


def _from_httpx(reply: httpx.Response, body: bytes) -> Response:
    headers = [
        (name.decode().lower(), value.decode("latin-1")) for name, value in reply.headers.raw
    ]
    head = "\r\n".join([f"HTTP/2 {reply.status_code}", *(f"{k}: {v}" for k, v in headers)])
    return Response(reply.status_code, head.encode("latin-1") + b"\r\n", headers, body, True)


def websocket_echo(server: Server, messages: tuple[str, ...]) -> list[str]:
    """Send each message to ``/echo`` and collect what comes back, one at a time."""
    received = []
    with connect(f"ws://{server.host}:{server.port}/echo", open_timeout=5, close_timeout=2) as ws:
        for message in messages:
            ws.send(message)
            received.append(str(ws.recv(timeout=5)))
    return received


@dataclass(frozen=True)
class Deployment:
    pair: Pair
    #: The app as written, friendly_errors and all.
    ours: Client
    #: The same app on the same server with friendly_errors swapped for a pass-through.
    bare: Client


@contextlib.contextmanager
def deploy(pair: Pair) -> Iterator[Deployment]:
    """Both servers of ``pair``, started side by side and stopped by PID when the block ends."""
    argv = [arg.replace("{app}", pair.framework.target) for arg in pair.server.argv]
    environments = [
        {"PYTHONPATH": str(TESTS_DIR)},
        {"PYTHONPATH": os.pathsep.join([str(BARE_DIR), str(TESTS_DIR)])},
    ]
    contexts = [running(argv, cwd=TESTS_DIR, env=env, ready_timeout=40) for env in environments]
    # The pool outlives the stack: the stack's last act is to stop the servers through it.
    with ThreadPoolExecutor(len(contexts)) as pool, contextlib.ExitStack() as stack:
        futures = [pool.submit(context.__enter__) for context in contexts]
        started: list[Server] = []
        entered = []
        failure: BaseException | None = None
        for context, future in zip(contexts, futures, strict=True):
            try:
                started.append(future.result())
            except BaseException as exc:  # re-raised once the other one is stopped
                failure = failure or exc
            else:
                entered.append(context)
        # Stopping takes a server up to a second or two: stop both at once too.
        stack.callback(_stop_all, pool, entered)
        if failure is not None:
            raise failure
        clients = [Client(server, pair.server.protocol) for server in started]
        for client in clients:
            stack.callback(client.close)
        yield Deployment(pair, *clients)


def _stop_all(
    pool: ThreadPoolExecutor, contexts: Sequence[contextlib.AbstractContextManager[Server]]
) -> None:
    for stopping in [pool.submit(context.__exit__, None, None, None) for context in contexts]:
        stopping.result()
