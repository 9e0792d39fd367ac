"""Maintenance mode over real servers and a real Redis (#13).

uvicorn runs two worker processes, each importing the app; gunicorn forks two workers from a master
that imported the app first (``--preload``), so each worker polls with the thread the fork hook
restarted. While requests arrive on fresh connections from several threads, the real command
(``friendly-errors down``, then ``up``) switches the site: every worker must switch, and every request
must get exactly one whole response, its own.

The Redis source from ``examples/maintenance_redis.py`` runs against Debian's ``redis-server``, started
here on 127.0.0.1 and stopped by its PID, and is stopped mid-test to see requests flow on.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import itertools
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from servers import HOST, Server, free_port, http_request, python, running, stop
from werkzeug.test import Client

from friendly_errors import FriendlyErrorsMiddleware, FriendlyErrorsWSGIMiddleware

pytestmark = pytest.mark.wire

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent.parent / "examples"

SERVERS = {
    "uvicorn-2-workers": (
        "asgi",
        [
            python(), "-m", "uvicorn", "maintenance_app:app", "--host", "{host}",
            "--port", "{port}", "--workers", "2", "--no-access-log", "--log-level", "warning",
        ],
    ),
    "gunicorn-2-workers": (
        "wsgi",
        [
            python(), "-m", "gunicorn", "--bind", "{host}:{port}", "--workers", "2",
            "--worker-class", "sync", "--preload", "--log-level", "warning", "maintenance_app:app",
        ],
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def maintenance_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("maintenance") / "maintenance.json"


@pytest.fixture(params=list(SERVERS))
def server(request: pytest.FixtureRequest, maintenance_file: Path) -> Iterator[Server]:
    kind, command = SERVERS[request.param]
    maintenance_file.unlink(missing_ok=True)
    env = {
        "PYTHONPATH": str(HERE),
        "FRIENDLY_ERRORS_TEST_KIND": kind,
        "FRIENDLY_ERRORS_TEST_MAINTENANCE_FILE": str(maintenance_file),
    }
    with running(command, cwd=HERE, env=env, ready_timeout=30) as started:
        yield started


@dataclass(frozen=True)
class Exchange:
    """One request on its own connection, and what came back."""

    seq: int
    sent: float
    received: float
    status: int
    headers: dict[str, str]
    body: bytes


def _exchange(port: int, seq: int, method: str = "GET") -> Exchange:
    raw = (
        f"{method} /seq/{seq} HTTP/1.1\r\nHost: {HOST}\r\nAccept: text/plain\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    sent = time.monotonic()
    head, body, reset = http_request(port, raw)
    if reset:
        raise ConnectionResetError(f"request {seq} was reset")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Exchange(seq, sent, time.monotonic(), int(lines[0].split()[1]), headers, body)


class Load:
    """Threads sending numbered requests, each on a fresh connection, until stopped."""

    def __init__(self, port: int, threads: int = 4) -> None:
        self.port = port
        self.numbers = itertools.count()
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.exchanges: list[Exchange] = []
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        while not self.done.is_set():
            with self.lock:
                seq = next(self.numbers)
            try:
                exchange = _exchange(self.port, seq)
            except OSError as exc:
                with self.lock:
                    self.failures.append(f"request {seq}: {exc!r}")
                continue
            with self.lock:
                self.exchanges.append(exchange)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.done.set()
        for thread in self.threads:
            thread.join(timeout=30)


def _pid(exchange: Exchange) -> int:
    match = re.fullmatch(rb"app /seq/(\d+) pid (\d+)", exchange.body)
    assert match is not None, exchange.body[:200]
    assert int(match.group(1)) == exchange.seq
    return int(match.group(2))


def _worker_pids(server: Server) -> set[int]:
    """The server's two workers: its child processes, but multiprocessing's resource tracker."""
    deadline = time.monotonic() + 20
    while True:
        children = psutil.Process(server.process.pid).children()
        pids = {c.pid for c in children if "resource_tracker" not in " ".join(c.cmdline())}
        if len(pids) == 2:
            return pids
        if time.monotonic() > deadline:
            raise AssertionError(f"expected two workers, found {pids}")
        time.sleep(0.05)


def _friendly_errors(*argv: str) -> str:
    done = subprocess.run(
        [python(), "-m", "friendly_errors", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def _up(maintenance_file: Path) -> float:
    """Run ``friendly-errors up``; returns about when the file went (time.time())."""
    process = subprocess.Popen(
        [python(), "-m", "friendly_errors", "up", str(maintenance_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    while maintenance_file.exists() and process.poll() is None:
        time.sleep(0.005)
    removed = time.time()
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0, out
    assert out.startswith(f"Maintenance is off: removed {maintenance_file}".encode())
    return removed


def _when_each_worker_logs(server: Server, line: str, pids: set[int]) -> tuple[float, float]:
    """When every worker's log showed ``line``: by our clock, and the last worker's log time.

    Fails if a worker has not logged it within 15 s: that is a worker that never switched.
    """
    pattern = re.compile(rf"LOG (\d+) friendly_errors INFO {re.escape(line)}.* @([0-9.]+)\n")
    deadline = time.monotonic() + 15
    while True:
        seen = {int(pid): float(at) for pid, at in pattern.findall(server.output())}
        if set(seen) >= pids:
            return time.monotonic(), max(seen.values())
        if time.monotonic() > deadline:
            raise AssertionError(f"{line!r} logged by {set(seen)}, not by every worker {pids}")
        time.sleep(0.02)


def test_down_and_up_switch_every_worker_and_lose_no_request(
    server: Server, maintenance_file: Path
) -> None:
    pids = _worker_pids(server)
    with Load(server.port) as load:
        time.sleep(0.5)
        before_down = time.monotonic()
        out = _friendly_errors(
            "down", str(maintenance_file), "--message", "Wire test.", "--retry-after", "60"
        )
        assert out.startswith(f"Maintenance is on: wrote {maintenance_file}")
        written = maintenance_file.stat().st_mtime
        all_down, last_down = _when_each_worker_logs(server, "Maintenance mode on", pids)
        time.sleep(0.5)
        head = _exchange(server.port, 2_000_000, "HEAD")
        before_up = time.monotonic()
        removed = _up(maintenance_file)
        all_up, last_up = _when_each_worker_logs(server, "Maintenance mode off", pids)
        time.sleep(0.5)
    # Not asserted (timing is for benchmarks): how long the last worker took to switch.
    print(f"\nlast worker down {last_down - written:.2f} s after the file was written")
    print(f"last worker up {last_up - removed:.2f} s after the file was removed")

    assert load.failures == []
    exchanges = sorted(load.exchanges, key=lambda e: e.seq)
    assert [e.seq for e in exchanges] == list(range(len(exchanges)))  # each answered, once
    statuses = {e.status for e in exchanges}
    assert statuses == {200, 503}
    for exchange in exchanges:
        # Exactly one whole response: its own, framed by its Content-Length, nothing after it.
        assert exchange.headers["content-length"] == str(len(exchange.body))
        if exchange.status == 200:
            assert _pid(exchange) in pids
        else:
            text = exchange.body.decode()
            assert text.startswith("503 Down for Maintenance\n")
            assert f"GET /seq/{exchange.seq}\n" in text and "Wire test." in text
            assert exchange.headers["retry-after"] == "60"
    down_window = [e for e in exchanges if e.sent > all_down and e.received < before_up]
    assert down_window and all(e.status == 503 for e in down_window)
    after_up = [e for e in exchanges if e.sent > all_up]
    assert after_up and all(e.status == 200 for e in after_up)
    before = [e for e in exchanges if e.received < before_down]
    assert before and all(e.status == 200 for e in before)
    # HEAD: the headers of the page, and no body.
    assert (head.status, head.body) == (503, b"")
    assert int(head.headers["content-length"]) > 0
    # Each worker said so once when maintenance started and once when it ended.
    output = server.output()
    for pid in pids:
        assert output.count(f"LOG {pid} friendly_errors INFO Maintenance mode on") == 1
        assert output.count(f"LOG {pid} friendly_errors INFO Maintenance mode off") == 1


# -- a Redis-backed source -------------------------------------------------------------------------


def find_redis() -> str:
    """Debian's redis-server; fails, rather than skips, unless FRIENDLY_ERRORS_SKIP_REDIS=1."""
    found = shutil.which("redis-server")
    if found is None and os.access("/usr/bin/redis-server", os.X_OK):
        found = "/usr/bin/redis-server"
    if found is None:
        if os.environ.get("FRIENDLY_ERRORS_SKIP_REDIS") == "1":
            pytest.skip("redis-server is not installed and FRIENDLY_ERRORS_SKIP_REDIS=1")
        pytest.fail(
            "redis-server is not installed: install Debian's redis-server (scripts/test does) "
            "or set FRIENDLY_ERRORS_SKIP_REDIS=1 to skip these tests"
        )
    return found


@contextlib.contextmanager
def redis_server(binary: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """redis-server on 127.0.0.1:``port``, keeping nothing on disk; stopped by its PID."""
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection((HOST, port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield process
    finally:
        stop(process)


def _redis_example() -> Any:
    spec = importlib.util.spec_from_file_location(
        "_example_maintenance_redis", EXAMPLES / "maintenance_redis.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def _asgi_app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"app"})


def _wsgi_app(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


def _status(middleware: Any, kind: str) -> tuple[int, str]:
    """One request in process: the status and, for a 503, the problem's detail."""
    headers = {"Accept": "application/json"}
    if kind == "asgi":

        async def ask() -> httpx.Response:
            transport = httpx.ASGITransport(middleware)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await client.get("/", headers=headers)

        response = asyncio.run(ask())
        status, body = response.status_code, response.content
    else:
        answer = Client(middleware).get("/", headers=headers)
        status, body = answer.status_code, answer.data
    return status, json.loads(body)["detail"] if status == 503 else ""


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_a_redis_source_switches_and_survives_redis_going_away(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    binary = find_redis()
    caplog.set_level(logging.INFO, "friendly_errors")
    example = _redis_example()
    port = free_port()
    # As docs/maintenance.md configures it: no retries, or each poll while Redis is away waits out
    # redis-py's backoff.
    client = redis.Redis(
        host=HOST,
        port=port,
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), 0),
    )
    with redis_server(binary, port) as process:
        source = example.RedisMaintenance(client)
        if kind == "asgi":
            middleware: Any = FriendlyErrorsMiddleware(_asgi_app, maintenance=source)
        else:
            middleware = FriendlyErrorsWSGIMiddleware(_wsgi_app, maintenance=source)
        switch = middleware.maintenance.switch
        try:
            assert _status(middleware, kind) == (200, "")
            client.set("maintenance", json.dumps({"message": "Fleet-wide.", "retry_after": 60}))
            switch.refresh()
            assert _status(middleware, kind) == (503, "Fleet-wide.")

            # Redis goes away while the site is down: it stays down, and says so once.
            stop(process)
            for _ in range(3):
                switch.refresh()
                assert _status(middleware, kind) == (503, "Fleet-wide.")
            warned = [
                r.getMessage()
                for r in caplog.records
                if r.name == "friendly_errors" and r.levelno == logging.WARNING
            ]
            assert len(warned) == 1
            assert "RedisMaintenance(key='maintenance') failed" in warned[0]
            assert "(maintenance on)" in warned[0]

            # It comes back empty (nothing was saved): the site opens.
            with redis_server(binary, port) as again:
                switch.refresh()
                assert _status(middleware, kind) == (200, "")
                stop(again)
                # And goes away while the site is open: it stays open, never a 500.
                for _ in range(3):
                    switch.refresh()
                    assert _status(middleware, kind) == (200, "")
        finally:
            switch.close()
    ours = [r for r in caplog.records if r.name == "friendly_errors"]
    warned = [r.getMessage() for r in ours if r.levelno == logging.WARNING]
    assert [w.split(" failed")[0].split(" answers")[0] for w in warned] == [
        "Maintenance source RedisMaintenance(key='maintenance')"
    ] * 3
    assert warned[1].endswith("answers again") and "(maintenance off)" in warned[2]
    infos = [r.getMessage() for r in ours if r.levelno == logging.INFO]
    assert [i.split(":")[0] for i in infos] == ["Maintenance mode on", "Maintenance mode off"]
