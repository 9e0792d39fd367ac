"""The ASGI middleware behind real servers, read off a raw socket.

An HTTP client library would hide exactly the failures these tests look for: it drops a HEAD body,
forgives a Content-Length that lies, decodes a stale Content-Encoding or retries on a cut connection.
Each server runs once per module in a subprocess on a free 127.0.0.1 port and is stopped by its PID.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import Connection, Server, python, running, wait_for_output

pytestmark = pytest.mark.wire

HERE = Path(__file__).resolve().parent

SERVERS = {
    "uvicorn-httptools": [
        python(), "-m", "uvicorn", "asgi_app:app", "--host", "{host}", "--port", "{port}",
        "--http", "httptools", "--no-access-log", "--log-level", "info",
    ],
    "uvicorn-h11": [
        python(), "-m", "uvicorn", "asgi_app:app", "--host", "{host}", "--port", "{port}",
        "--http", "h11", "--no-access-log", "--log-level", "info",
    ],
    "hypercorn": [
        python(), "-m", "hypercorn", "asgi_app:app", "--bind", "{host}:{port}",
    ],
}  # fmt: skip


@pytest.fixture(scope="module", params=list(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    env = {"PYTHONPATH": str(HERE)}
    with running(SERVERS[request.param], cwd=HERE, env=env, ready_timeout=20) as started:
        yield started


def test_a_replaced_response_is_framed_exactly_and_the_connection_stays_usable(
    conn: Connection,
) -> None:
    first = conn.request("GET", "/503", {"Accept": "text/html"})
    assert first.status == 503
    assert first.complete
    assert first.header("content-length") == [str(len(first.body))]
    assert first.header("retry-after") == ["30"]
    assert b"Down for maintenance" in first.body
    # Keep-alive: the next request on the same socket gets its own, intact response.
    second = conn.request("GET", "/ok")
    assert (second.status, second.body) == (200, b"hello")


@pytest.mark.parametrize("accept", ["text/html", "application/json", "text/plain", "text/markdown"])
def test_head_gets_headers_and_not_one_byte_of_body(conn: Connection, accept: str) -> None:
    head = conn.request("HEAD", "/503", {"Accept": accept})
    assert head.status == 503
    assert int(head.header("content-length")[0]) > 0
    # Had the server written a body, its first bytes would now be read as the next status line.
    after = conn.request("GET", "/ok")
    assert (after.status, after.body) == (200, b"hello")


def test_a_gzip_compressed_503_becomes_a_correct_page(conn: Connection) -> None:
    response = conn.request("GET", "/big-503", {"Accept": "text/html", "Accept-Encoding": "gzip"})
    assert response.status == 503
    assert response.complete
    encoding = response.header("content-encoding")
    assert encoding == []
    assert response.header("content-length") == [str(len(response.body))]
    assert response.body.lstrip().lower().startswith(b"<!doctype html")
    with pytest.raises(gzip.BadGzipFile):
        gzip.decompress(response.body)
    assert conn.request("GET", "/ok").status == 200


def test_an_exception_is_a_whole_500_page_then_goes_on_to_the_server(
    server: Server, conn: Connection
) -> None:
    """The page goes out whole, then the exception goes on, as with Starlette's own error
    middleware: the server logs it once, with our request ID among its notes (#11). Servers close
    the connection after an app fails, which costs a reconnect and nothing else."""
    response = conn.request("GET", "/boom", {"Accept": "application/json"})
    assert response.status == 500
    assert response.complete
    assert response.header("content-length") == [str(len(response.body))]
    (request_id,) = response.header("x-request-id")
    output = wait_for_output(server, f"request ID {request_id}")
    # The server's record carries the ID the visitor sees; nothing goes on our own logger.
    assert f"request ID {request_id}" in output
    assert "LOG friendly_errors" not in output
    again = Connection(server)
    try:
        assert again.request("GET", "/ok").status == 200
    finally:
        again.close()


def test_an_exception_after_the_start_truncates_the_response(conn: Connection) -> None:
    response = conn.request("GET", "/stream-then-fail")
    assert response.status == 200
    assert response.body == b"first-chunk"
    assert not response.complete, "the response looked whole though the app failed midway"
    assert conn.closed()


def test_a_streamed_200_reaches_the_client_before_the_app_finishes(server: Server) -> None:
    with server.connect(timeout=10) as sock:
        request = b"GET /slow-stream?pause=2 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        sock.sendall(request)
        started = time.monotonic()
        received = b""
        sock.settimeout(1.5)
        while b"first-chunk" not in received:
            data = sock.recv(65536)
            assert data, "connection closed early"
            received += data
        assert time.monotonic() - started < 1.5
        assert b"second-chunk" not in received


@pytest.mark.parametrize("example", ["fastapi_app", "starlette_app"])
def test_the_examples_run_with_their_documented_command(example: str) -> None:
    root = HERE.parent.parent
    command = [
        python(), "-m", "uvicorn", f"examples.{example}:app", "--host", "{host}", "--port", "{port}",
    ]  # fmt: skip
    with running(command, cwd=root, ready_timeout=20) as started:
        connection = Connection(started)
        try:
            page = connection.request("GET", "/slow-report", {"Accept": "text/html"})
            problem = connection.request("GET", "/maintenance", {"Accept": "application/json"})
        finally:
            connection.close()
    assert page.status == 524
    assert b"no need to ask for it again" in page.body
    assert problem.status == 503
    assert problem.header("retry-after") == ["120"]
    assert b"Down for maintenance until 14:00 UTC." in problem.body
