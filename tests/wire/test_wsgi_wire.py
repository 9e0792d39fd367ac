"""The WSGI middleware behind real servers, read off a raw socket.

An HTTP client library would hide exactly the failures these tests look for: it drops a HEAD body,
forgives a Content-Length that lies or retries on a cut connection. Each server runs once per module
in a subprocess on a free 127.0.0.1 port and is stopped by its PID.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import Connection, Response, Server, python, running, wait_for_output

pytestmark = pytest.mark.wire

HERE = Path(__file__).resolve().parent

SERVERS = {
    "gunicorn-sync": [
        python(), "-m", "gunicorn", "--bind", "{host}:{port}", "--workers", "1",
        "--worker-class", "sync", "wsgi_app:app",
    ],
    "gunicorn-gthread": [
        python(), "-m", "gunicorn", "--bind", "{host}:{port}", "--workers", "1",
        "--worker-class", "gthread", "--threads", "4", "wsgi_app:app",
    ],
    "waitress": [
        python(), "-m", "waitress", "--listen={host}:{port}", "--threads=4", "wsgi_app:app",
    ],
    # granian ignores a start_response made during the first iteration of the body (allowed by
    # PEP 3333; granian declined to change it), so a response the app started before returning
    # is replaced before we return (#11). Routes that really start late are its limitation.
    "granian": [
        python(), "-m", "granian", "--interface", "wsgi", "--host", "{host}", "--port", "{port}",
        "--workers", "1", "wsgi_app:app",
    ],
}  # fmt: skip

#: Routes whose app calls start_response only from its first iteration.
STARTS_LATE = ("/late-502", "/late-stream-then-fail")


def server_name(request: pytest.FixtureRequest) -> str:
    name: str = request.node.callspec.params["server"]
    return name


def _skip_late_on_granian(request: pytest.FixtureRequest, path: str) -> None:
    if server_name(request) == "granian" and path in STARTS_LATE:
        pytest.skip("granian drops a start_response made while iterating (its own limitation)")


@pytest.fixture(scope="module", params=list(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    env = {"PYTHONPATH": str(HERE)}
    with running(SERVERS[request.param], cwd=HERE, env=env, ready_timeout=20) as started:
        yield started


def _next_is_intact(server: Server, conn: Connection, response: Response) -> None:
    """Stray body bytes would be read as the next status line, or as bytes before the close.

    gunicorn's sync worker closes every connection after one response; the others keep it alive.
    """
    if response.header("connection") != ["close"]:
        after = conn.request("GET", "/ok")
        assert (after.status, after.body) == (200, b"hello")
        return
    assert conn.closed(), "bytes followed a response that announced Connection: close"
    fresh = Connection(server)
    try:
        after = fresh.request("GET", "/ok")
        assert (after.status, after.body) == (200, b"hello")
    finally:
        fresh.close()


@pytest.mark.parametrize("path", ["/503", "/late-502"])
def test_a_replaced_response_is_framed_exactly(
    server: Server, conn: Connection, path: str, request: pytest.FixtureRequest
) -> None:
    _skip_late_on_granian(request, path)
    response = conn.request("GET", path, {"Accept": "text/html"})
    assert response.status == int(path[-3:])
    assert response.complete
    assert response.header("content-length") == [str(len(response.body))]
    assert response.body.lstrip().lower().startswith(b"<!doctype html")
    assert b"upstream sent garbage" not in response.body
    _next_is_intact(server, conn, response)


def test_the_apps_retry_after_and_detail_survive(conn: Connection) -> None:
    response = conn.request("GET", "/503", {"Accept": "application/json"})
    assert response.header("retry-after") == ["30"]
    assert b'"detail":"Down for maintenance"' in response.body
    assert response.head.startswith(b"HTTP/1.1 503 Service Unavailable")


@pytest.mark.parametrize("accept", ["text/html", "application/json", "text/plain", "text/markdown"])
def test_head_gets_headers_and_not_one_byte_of_body(
    server: Server, conn: Connection, accept: str
) -> None:
    head = conn.request("HEAD", "/503", {"Accept": accept})
    assert head.status == 503
    assert int(head.header("content-length")[0]) > 0
    _next_is_intact(server, conn, head)


@pytest.mark.parametrize("accept", ["text/html", "application/json", "text/plain"])
@pytest.mark.parametrize(("path", "known"), [("/503-html", True), ("/503-quiet-head", False)])
def test_head_has_the_gets_content_length_or_none(
    server: Server,
    conn: Connection,
    accept: str,
    path: str,
    known: bool,
    request: pytest.FixtureRequest,
) -> None:
    """RFC 9110 Section 9.3.2, over the wire (#11): an app that sends no body for HEAD, as
    Werkzeug and Falcon do, hides a detail the GET would quote; then Content-Length is left out
    rather than differ from the GET's (a server may add its own framing)."""
    got = conn.request("GET", path, {"Accept": accept})
    _next_is_intact(server, conn, got)
    fresh = Connection(server)
    try:
        head = fresh.request("HEAD", path, {"Accept": accept})
    finally:
        fresh.close()
    assert head.status == got.status == 503
    assert head.body == b""
    assert head.header("content-type") == got.header("content-type")
    if known:
        assert head.header("content-length") == got.header("content-length")
    elif server_name(request) == "waitress":
        # waitress writes Content-Length: 0 on a HEAD response that has none: its limitation,
        # asserted so that we notice when it changes.
        assert head.header("content-length") == ["0"]
    else:
        assert head.header("content-length") == []


def test_an_exception_is_a_500_page_logged_once(server: Server, conn: Connection) -> None:
    response = conn.request("GET", "/boom", {"Accept": "application/json"})
    assert response.status == 500
    assert response.complete
    assert response.header("content-length") == [str(len(response.body))]
    _next_is_intact(server, conn, response)
    output = wait_for_output(server, "RuntimeError: wire-boom")
    # Ours, exactly once; the server never saw the exception, so it logged nothing of its own.
    assert output.count("RuntimeError: wire-boom") == 1
    assert "LOG friendly_errors ERROR Unhandled exception while serving 'GET' '/boom'" in output


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param("/stream-then-fail", "wire-midway", id="handed-off"),
        pytest.param("/late-stream-then-fail", "wire-late-midway", id="late-start"),
    ],
)
def test_an_exception_after_the_start_truncates_the_response(
    server: Server, conn: Connection, path: str, message: str, request: pytest.FixtureRequest
) -> None:
    _skip_late_on_granian(request, path)
    if server_name(request) == "granian":
        # The body is the app's own iterable, untouched by us; granian may close the connection
        # before its first chunk went out when the iterable raises, its own way of cutting it short.
        pytest.skip("granian may drop the whole response when the app's body raises (its own)")
    response = conn.request("GET", path)
    assert response.status == 200
    assert response.body == b"first-chunk"
    assert not response.complete, "the response looked whole though the app failed midway"
    assert conn.closed()
    output = wait_for_output(server, f"RuntimeError: {message}")
    # The server logged it; the middleware did not add a second report.
    assert f"RuntimeError: {message}" in output
    assert f"Unhandled exception while serving 'GET' {path!r}" not in output


def test_a_streamed_200_reaches_the_client_before_the_app_finishes(server: Server) -> None:
    with server.connect(timeout=10) as sock:
        sock.sendall(b"GET /slow-stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        started = time.monotonic()
        received = b""
        sock.settimeout(1.5)
        while b"first-chunk" not in received:
            data = sock.recv(65536)
            assert data, "connection closed early"
            received += data
        assert time.monotonic() - started < 1.5
        assert b"second-chunk" not in received
