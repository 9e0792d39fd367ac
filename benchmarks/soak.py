"""A soak: 200,000 mixed requests through uvicorn and through gunicorn, counting errors and RSS (#10).

Run ``python benchmarks/soak.py`` (about five minutes on two cores; ``--requests`` and ``--minutes``
bound it). For each server in turn it starts one process on 127.0.0.1 serving an app behind our
middleware, sends the mix below from several keep-alive client threads, checks every response, and
stops the server by its PID. It reports:

* errors: any response that is not what its route should give (status, media type, a complete body
  by its framing, the friendly page rather than the static fallback) and any connection failure. Must
  be 0. After an exception the ASGI middleware re-raises once its page is sent, and uvicorn then
  closes the connection: the client reads the page and reconnects, which is not an error.
* RSS growth of the server process (the gunicorn worker) from the end of the warm-up (the first tenth
  of the requests, by which time every page in the mix is in the memo) to the end. Must be under 5 MB.

The mix, in turn: 200s, 503s returned on a path never used before (JSON and HTML), 503s whose body
is streamed, exceptions (JSON and HTML), HEAD of a 200 and of a 503, a streamed 200.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
from _servers import HOST, running

from friendly_errors.asgi import FriendlyErrorsMiddleware
from friendly_errors.wsgi import FriendlyErrorsWSGIMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

HERE = Path(__file__).resolve().parent
MB = 1024 * 1024

# -- the apps, one route table written twice -------------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

HELLO = b"hello"
CHUNKS = [b"chunk %d;" % i for i in range(8)]
BUSY = [b'{"detail":', b'"busy"}']


def _route(path: str) -> str:
    return path.split("/", 2)[1]


async def asgi_routes(scope: Scope, receive: Receive, send: Send) -> None:
    route = _route(scope["path"])
    if route == "raise":
        raise RuntimeError("the soak's exception")
    if route == "ok":
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"5")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": HELLO})
    elif route == "stream":
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for chunk in CHUNKS:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    else:  # busy, busy-stream
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        parts = BUSY if route == "busy-stream" else [b"".join(BUSY)]
        for part in parts:
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


def wsgi_routes(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    route = _route(environ["PATH_INFO"])
    if route == "raise":
        raise RuntimeError("the soak's exception")
    if route == "ok":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return [HELLO]
    if route == "stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter(CHUNKS)
    start_response("503 Service Unavailable", [("Content-Type", "application/json")])
    return iter(BUSY) if route == "busy-stream" else [b"".join(BUSY)]


asgi_app = FriendlyErrorsMiddleware(asgi_routes)
wsgi_app = FriendlyErrorsWSGIMiddleware(wsgi_routes)

# -- the mix ---------------------------------------------------------------------------------------

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JSON = "application/json"


@dataclass(frozen=True)
class Kind:
    """One kind of request in the mix and what its response must be."""

    method: str
    route: str
    accept: str
    status: int

    @property
    def replaced(self) -> bool:
        return self.status >= 500

    def path(self, n: int) -> str:
        # Every 503 and exception goes to a path never used before.
        return f"/{self.route}" if self.route in ("ok", "stream") else f"/{self.route}/{n}"


MIX = (
    Kind("GET", "ok", HTML, 200),
    Kind("GET", "busy", HTML, 503),
    Kind("GET", "busy", JSON, 503),
    Kind("HEAD", "ok", HTML, 200),
    Kind("HEAD", "busy", HTML, 503),
    Kind("GET", "stream", HTML, 200),
    Kind("GET", "busy-stream", JSON, 503),
    Kind("GET", "raise", HTML, 500),
    Kind("GET", "ok", JSON, 200),
    Kind("GET", "raise", JSON, 500),
)

# -- the client ------------------------------------------------------------------------------------


class ResponseError(Exception):
    """A response that is not what its route should give."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def read_response(reader: io.BufferedReader, head: bool) -> Response:
    """One HTTP/1.1 response by its framing (RFC 9112 Section 6.3); raises if it is cut short."""
    status_line = reader.readline(65537)
    if not status_line:
        raise ConnectionError("the server closed the connection before answering")
    status = int(status_line.split(b" ", 2)[1])
    headers: dict[str, str] = {}
    while True:
        line = reader.readline(65537)
        if line in (b"\r\n", b"\n", b""):
            if not line:
                raise ResponseError("connection closed inside the header section")
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if head:
        return Response(status, headers, b"")
    if "chunked" in headers.get("transfer-encoding", ""):
        parts: list[bytes] = []
        while True:
            size = int(reader.readline(1024).split(b";")[0], 16)
            data = reader.read(size + 2)
            if len(data) != size + 2 or not data.endswith(b"\r\n"):
                raise ResponseError("chunked body cut short")
            if size == 0:
                return Response(status, headers, b"".join(parts))
            parts.append(data[:-2])
    length = int(headers.get("content-length", "-1"))
    if length < 0:
        raise ResponseError("a response with neither Content-Length nor chunked framing")
    body = reader.read(length)
    if len(body) != length:
        raise ResponseError(f"body cut short: {len(body)} of {length} bytes")
    return Response(status, headers, body)


def check(kind: Kind, response: Response) -> None:
    """Raise ResponseError unless ``response`` is what ``kind``'s route should give."""
    if response.status != kind.status:
        raise ResponseError(f"status {response.status}, expected {kind.status}")
    content_type = response.headers.get("content-type", "")
    if not kind.replaced:
        expected = (
            b"" if kind.method == "HEAD" else HELLO if kind.route == "ok" else b"".join(CHUNKS)
        )
        if response.body != expected:
            raise ResponseError(f"body {response.body[:60]!r}")
        return
    request_id = response.headers.get("x-request-id", "")
    if len(request_id) != 32:
        raise ResponseError(f"request ID {request_id!r}")
    if kind.accept == JSON:
        if not content_type.startswith(JSON):
            raise ResponseError(f"content type {content_type!r}")
        if kind.method == "GET":
            document = json.loads(response.body)
            if document.get("status") != kind.status or document.get("request_id") != request_id:
                raise ResponseError(f"document {document!r:.200}")
        return
    if not content_type.startswith("text/html"):
        raise ResponseError(f"content type {content_type!r}")
    if "content-security-policy" not in response.headers:
        raise ResponseError("no Content-Security-Policy: the static fallback page?")
    if kind.method == "GET" and (
        not response.body.startswith(b"<!doctype html>") or request_id.encode() not in response.body
    ):
        raise ResponseError(f"page {response.body[:80]!r}")


@dataclass
class Tally:
    """What the client threads counted; each thread adds its own when it is done."""

    done: int = 0
    errors: list[str] = field(default_factory=list)
    reconnects: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    """One keep-alive connection in one thread, reconnecting where the server ended it."""

    def __init__(self, port: int, closes_after_exception: bool) -> None:
        self.port = port
        self.closes_after_exception = closes_after_exception
        self.sock: socket.socket | None = None
        self.reader: io.BufferedReader | None = None
        self.reconnects = 0

    def _connection(self) -> tuple[socket.socket, io.BufferedReader]:
        if self.sock is None or self.reader is None:
            self.sock = socket.create_connection((HOST, self.port), timeout=30)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.reader = self.sock.makefile("rb")
        return self.sock, self.reader

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
        if self.sock is not None:
            self.sock.close()
        self.sock = self.reader = None

    def send(self, kind: Kind, n: int) -> None:
        sock, reader = self._connection()
        request = f"{kind.method} {kind.path(n)} HTTP/1.1\r\nHost: {HOST}\r\nAccept: {kind.accept}\r\n\r\n"
        try:
            sock.sendall(request.encode())
            response = read_response(reader, kind.method == "HEAD")
        except (OSError, ValueError) as exc:
            self.close()
            raise ResponseError(f"{type(exc).__name__}: {exc}") from None
        ended = response.headers.get("connection", "").lower() == "close"
        if ended or (kind.route == "raise" and self.closes_after_exception):
            # uvicorn closes the connection once an exception reached it (our page went first).
            self.close()
            self.reconnects += 1
        check(kind, response)


def client_thread(
    port: int, closes_after_exception: bool, indexes: range, deadline: float, tally: Tally
) -> None:
    client = Client(port, closes_after_exception)
    done = 0
    errors = []
    try:
        for i in indexes:
            if time.monotonic() > deadline:
                break
            kind = MIX[i % len(MIX)]
            try:
                client.send(kind, i)
            except ResponseError as exc:
                errors.append(f"{kind.method} {kind.path(i)} ({kind.accept[:16]}): {exc}")
            done += 1
            if done % 500 == 0:
                with tally.lock:
                    tally.done += 500
    finally:
        client.close()
        with tally.lock:
            tally.done += done % 500
            tally.errors += errors
            tally.reconnects += client.reconnects


# -- one server ------------------------------------------------------------------------------------


@dataclass
class Result:
    server: str
    requests: int
    seconds: float
    errors: list[str]
    reconnects: int
    rss_start: int
    rss_warm: int
    rss_end: int
    rss_peak: int
    server_cpu: float
    client_cpu: float
    logged_exceptions: int
    logged_fallbacks: int


def _app_process(name: str, process: subprocess.Popen[bytes]) -> psutil.Process:
    """The process that runs the app: uvicorn itself, or gunicorn's one worker."""
    server = psutil.Process(process.pid)
    if name != "gunicorn":
        return server
    deadline = time.monotonic() + 20
    while not (children := server.children()):
        if time.monotonic() > deadline:
            raise RuntimeError("gunicorn started no worker")
        time.sleep(0.1)
    return children[0]


def soak(
    name: str, argv: Callable[[int], list[str]], requests: int, minutes: float, threads: int
) -> Result:
    closes_after_exception = name == "uvicorn"
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "server.log"
        with running(argv, log=log) as (port, process):
            worker = _app_process(name, process)
            tally = Tally()
            rss_start = worker.memory_info().rss
            cpu_start = sum(worker.cpu_times()[:2])
            client_start = time.process_time()
            started = time.monotonic()
            deadline = started + minutes * 60
            workers = [
                threading.Thread(
                    target=client_thread,
                    args=(
                        port,
                        closes_after_exception,
                        range(t, requests, threads),
                        deadline,
                        tally,
                    ),
                )
                for t in range(threads)
            ]
            for thread in workers:
                thread.start()
            warm_at = requests // 10
            rss_warm = 0
            rss_peak = rss_start
            shown = 0
            while any(thread.is_alive() for thread in workers):
                time.sleep(0.5)
                rss = worker.memory_info().rss
                rss_peak = max(rss_peak, rss)
                if not rss_warm and tally.done >= warm_at:
                    rss_warm = rss
                if tally.done >= shown + warm_at:
                    shown = tally.done
                    print(f"  {name}: {tally.done:>9,} requests, RSS {rss / MB:.2f} MB", flush=True)
            for thread in workers:
                thread.join()
            seconds = time.monotonic() - started
            rss_end = worker.memory_info().rss
            server_cpu = (sum(worker.cpu_times()[:2]) - cpu_start) / seconds
            client_cpu = (time.process_time() - client_start) / seconds
        text = log.read_text(errors="replace")
    exceptions = text.count("RuntimeError: the soak's exception")
    fallbacks = text.count("served the static fallback")
    return Result(
        name, tally.done, seconds, tally.errors, tally.reconnects, rss_start, rss_warm or rss_end,
        rss_end, rss_peak, server_cpu, client_cpu, exceptions, fallbacks,
    )  # fmt: skip


def uvicorn(port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "soak:asgi_app", "--app-dir", str(HERE),
        "--host", HOST, "--port", str(port), "--http", "httptools", "--loop", "asyncio",
        "--no-access-log", "--log-level", "warning", "--lifespan", "off",
    ]  # fmt: skip


def gunicorn(port: int) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "soak:wsgi_app", "--chdir", str(HERE),
        "--bind", f"{HOST}:{port}", "--workers", "1", "--worker-class", "gthread",
        "--threads", "8", "--keep-alive", "30", "--log-level", "warning",
    ]  # fmt: skip


SERVERS = {"uvicorn": uvicorn, "gunicorn": gunicorn}


def report(result: Result, requests: int) -> bool:
    exceptions_sent = sum(1 for i in range(result.requests) if MIX[i % len(MIX)].route == "raise")
    growth = result.rss_end - result.rss_warm
    ok = not result.errors and result.requests == requests and growth < 5 * MB
    print(f"  {result.server}: {result.requests:,} requests in {result.seconds:.0f} s "
          f"({result.requests / result.seconds:,.0f}/s), {len(result.errors)} errors, "
          f"{result.reconnects:,} reconnections after an exception")  # fmt: skip
    print(f"    RSS: {result.rss_start / MB:.1f} MB at the start, {result.rss_warm / MB:.1f} MB "
          f"after the warm-up, {result.rss_end / MB:.1f} MB at the end (peak "
          f"{result.rss_peak / MB:.1f} MB): growth after the warm-up {growth / MB:+.2f} MB")  # fmt: skip
    print(f"    CPU: server {result.server_cpu:.0%} of a core, client {result.client_cpu:.0%} "
          f"(all {os.cpu_count()} CPUs' load average {os.getloadavg()[0]:.1f})")  # fmt: skip
    print(f"    server log: {result.logged_exceptions:,} of the {exceptions_sent:,} exceptions "
          f"logged with their traceback, {result.logged_fallbacks} static fallbacks")  # fmt: skip
    for error in result.errors[:10]:
        print(f"    error: {error}")
    print(f"    {'PASS' if ok else 'FAIL'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--requests", type=int, default=200_000, help="requests per server")
    parser.add_argument("--minutes", type=float, default=15, help="time limit per server")
    parser.add_argument("--threads", type=int, default=8, help="client threads (connections)")
    parser.add_argument("--server", choices=sorted(SERVERS), action="append")
    args = parser.parse_args(argv)
    print(f"Soak: {args.requests:,} mixed requests per server, {args.threads} keep-alive client "
          f"threads, at most {args.minutes:g} minutes each; Python {sys.version.split()[0]}")  # fmt: skip
    ok = True
    for name in args.server or list(SERVERS):
        result = soak(name, SERVERS[name], args.requests, args.minutes, args.threads)
        ok = report(result, args.requests) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
