"""Every framework on every server of its kind, over the wire on 127.0.0.1 (issue #14).

Each (framework, server) pair starts once, as two servers side by side: the app as written, and the
same app with friendly_errors swapped for a pass-through (the "bare" twin). The seven checks below
then run against it in order, with a bounded number of requests each. Where a framework or server
does something of its own accord (compat/matrix.py, ``LIMITATIONS``), the check asserts that, on
both servers, so a fix upstream fails the test and the footnote gets rewritten.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from servers import Response
from websockets.exceptions import InvalidHandshake, InvalidStatus

from compat.harness import Client, Deployment, deploy, missing_packages, websocket_echo
from compat.matrix import (
    ASGI_SERVERS,
    PAIRS,
    WSGI_FRAMEWORKS,
    WSGI_SERVERS,
    Framework,
    Limitation,
    Pair,
    Server,
    limitations,
)

pytestmark = [pytest.mark.compat, pytest.mark.timeout(90)]

DETAIL = "Orders are paused for maintenance."
SECRET = "compat-secret-6d1f"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ORIGIN = "https://app.example"
REQUEST_ID = "compat-request-0123456789"

#: The type of pytest's ``record_property`` fixture.
RecordProperty = Callable[[str, object], None]


@dataclass(frozen=True)
class KnownBug:
    """A bug of ours (issue #11, or new) that the check is expected to fail on, strictly."""

    check: str
    frameworks: frozenset[str]
    servers: frozenset[str]
    reason: str

    def applies(self, pair: Pair, check: str) -> bool:
        return (
            check == self.check
            and pair.framework.name in self.frameworks
            and pair.server.name in self.servers
        )


_WSGI_FRAMEWORKS = frozenset(f.name for f in WSGI_FRAMEWORKS)
_WSGI_SERVERS = frozenset(s.name for s in WSGI_SERVERS)
_ASGI_SERVERS = frozenset(s.name for s in ASGI_SERVERS)
_HEAD_LENGTH = (
    "documented (docs/wsgi.md, HEAD): an app that sends no body for HEAD (Werkzeug, Bottle, WebOb, "
    "Falcon) hides the detail a GET would quote, so HEAD leaves Content-Length out rather than "
    "give one that differs from the GET's; the servers then frame it their own way"
)
KNOWN_BUGS = (
    KnownBug(
        "head", frozenset({"flask", "bottle", "pyramid", "falcon"}), _WSGI_SERVERS, _HEAD_LENGTH
    ),
    KnownBug("head", frozenset({"falcon"}), _ASGI_SERVERS, _HEAD_LENGTH),
)


@pytest.fixture(scope="module", params=PAIRS, ids=lambda pair: pair.id)
def deployment(request: pytest.FixtureRequest) -> Iterator[Deployment]:
    pair: Pair = request.param
    missing = missing_packages(pair)
    if missing:
        pytest.skip(
            f"cannot be installed on this machine: {', '.join(missing)} "
            "(pip install 'friendly-http-errors[compat]')"
        )
    with deploy(pair) as started:
        yield started


@pytest.fixture
def ours(deployment: Deployment) -> Client:
    return deployment.ours


def _expect_our_bug(request: pytest.FixtureRequest, pair: Pair, check: str) -> None:
    """Mark the running check as an expected failure where one of our known bugs applies.

    Called after the parts of the check the bug cannot affect, so those still fail loudly.
    """
    for bug in KNOWN_BUGS:
        if bug.applies(pair, check):
            request.node.add_marker(pytest.mark.xfail(strict=True, reason=bug.reason))
            return


def _limited(
    record_property: RecordProperty, check: str, framework: Framework, server: Server
) -> dict[str, Limitation]:
    """The limitations this check asserts, recorded for the table's footnotes."""
    known = limitations(check, framework, server)
    for key in known:
        record_property("limitation", key)
    return known


def _framed_exactly(response: Response) -> None:
    assert response.complete, "the body ended before its framing said"
    assert response.header("content-length") == [str(len(response.body))]


def _without_date(response: Response) -> list[bytes]:
    return [line for line in response.head.split(b"\r\n") if not line.lower().startswith(b"date:")]


# -- 1. a 503 becomes our page and our problem+json ---------------------------------------------


def test_error_page(deployment: Deployment, ours: Client, request: pytest.FixtureRequest) -> None:
    _expect_our_bug(request, deployment.pair, "error_page")
    page = ours.request("GET", "/unavailable", {"Accept": BROWSER, "Origin": ORIGIN})
    assert page.status == 503
    assert page.header("content-type")[0].startswith("text/html")
    assert page.header("retry-after") == ["120"]
    _framed_exactly(page)
    assert b"Example Shop" in page.body
    if deployment.pair.framework.cors:
        assert page.header("access-control-allow-origin"), "the framework's CORS header was lost"

    problem = ours.request("GET", "/unavailable", {"Accept": "application/json"})
    assert problem.status == 503
    assert problem.header("content-type")[0].startswith("application/json")
    assert problem.header("retry-after") == ["120"]
    _framed_exactly(problem)
    document = json.loads(problem.body)
    assert (document["status"], document["retry_after"]) == (503, 120)

    # Falcon's errors say it in `description` ({"title": ..., "description": ...}), which counts.
    assert document["detail"] == DETAIL
    if deployment.pair.framework.name != "falcon":
        # Falcon answers a browser's Accept (which ranks XML above */*) with an XML error body,
        # from which no detail is read.
        assert DETAIL.encode() in page.body


# -- 2. an unhandled exception becomes our 500, with nothing of it in the body -----------------


@pytest.mark.parametrize("accept", [BROWSER, "application/json"], ids=["html", "json"])
def test_exception(
    deployment: Deployment, ours: Client, accept: str, request: pytest.FixtureRequest
) -> None:
    _expect_our_bug(request, deployment.pair, "exception")
    response = ours.request("GET", "/boom", {"Accept": accept})
    assert response.status == 500
    _framed_exactly(response)
    for leak in (SECRET.encode(), b"RuntimeError", b"Traceback"):
        assert leak not in response.body
    if accept == "application/json":
        assert json.loads(response.body)["status"] == 500
    else:
        assert b"Example Shop" in response.body


# -- 3. what is not an error is the framework's own, byte for byte -----------------------------


@pytest.mark.parametrize(("path", "status"), [("/hello", 200), ("/nowhere", 404)])
def test_pass_through(deployment: Deployment, path: str, status: int) -> None:
    headers = {"Accept": BROWSER}
    ours = deployment.ours.request("GET", path, headers)
    bare = deployment.bare.request("GET", path, headers)
    assert ours.status == bare.status == status
    assert _without_date(ours) == _without_date(bare)
    assert ours.body == bare.body
    assert ours.complete


# -- 4. a streamed 200 reaches the client chunk by chunk ---------------------------------------


def test_streaming(ours: Client) -> None:
    response, arrivals = ours.stream("/stream")
    assert response.status == 200
    assert response.body == b"chunk-1\nchunk-2\nchunk-3\n"
    first = next(a for a in arrivals if b"chunk-1" in a.data)
    last = next(a for a in arrivals if b"chunk-3" in a.data)
    assert b"chunk-2" not in first.data, "the first chunk waited for the second"
    # The app pauses 0.3 s before each of the last two chunks.
    assert last.at - first.at > 0.45, "the first chunk arrived only when the app had finished"


# -- 5. HEAD on the 503: the GET's headers, no body ----------------------------------------------


def test_head(
    deployment: Deployment,
    ours: Client,
    request: pytest.FixtureRequest,
    record_property: RecordProperty,
) -> None:
    pair = deployment.pair
    for known in _limited(record_property, "head", pair.framework, pair.server).values():
        for client in (deployment.ours, deployment.bare):
            refused, _ = client.head_and_after("/hello", {"Accept": BROWSER})
            assert refused.status == known.refusal, f"fixed upstream? {known.text}"

    _expect_our_bug(request, pair, "head")
    for accept in (BROWSER, "application/json"):
        headers = {"Accept": accept, "X-Request-ID": REQUEST_ID}
        get = ours.request("GET", "/unavailable", headers)
        head, after = ours.head_and_after("/unavailable", headers)
        assert head.status == get.status == 503
        assert after == b"", "HEAD got a body"
        assert _without_date(head) == _without_date(get)


# -- 6. a websocket echo works unchanged ----------------------------------------------------------


def test_websocket(deployment: Deployment, record_property: RecordProperty) -> None:
    pair = deployment.pair
    if pair.framework.interface == "wsgi":
        pytest.skip("n/a: WSGI has no websockets")
    if not pair.framework.websocket:
        pytest.skip(f"n/a: {pair.framework.title} has no websockets of its own")
    if not pair.server.websocket:
        pytest.skip("n/a: the websockets client speaks HTTP/1.1 only (see the HTTP/1.1 column)")
    messages = ("ping", "ünïcode ✓", "x" * 5000)
    if _limited(record_property, "websocket", pair.framework, pair.server):
        for client in (deployment.ours, deployment.bare):
            with pytest.raises((InvalidHandshake, InvalidStatus, EOFError, OSError)):
                websocket_echo(client.server, messages)
        assert "KeyError: 'scheme'" in deployment.ours.server.output()
        return
    assert websocket_echo(deployment.ours.server, messages) == list(messages)


# -- 7. the server logs no protocol error -----------------------------------------------------

# What servers print when a response breaks HTTP or ASGI: uvicorn, hypercorn, daphne, granian,
# gunicorn, waitress, uWSGI and Werkzeug, as seen in their sources. A server's report of the app's
# exception (uvicorn's "Exception in ASGI application", hypercorn's "Error in ASGI Framework",
# gunicorn's "Error handling request") is no protocol
# error: its traceback must be the planted exception's, which the second half of the test checks.
PROTOCOL_ERROR = re.compile(
    r"protocol error|ProtocolError|Invalid HTTP|malformed|Content-Length|content length"
    r"|ASGI callable returned without|Unexpected ASGI message|Expected ASGI message"
    r"|Task exception was never retrieved|broken pipe"
    r"|invalid response|response already started|headers already sent",
    re.IGNORECASE,
)
# A traceback's last line, unless another traceback in the same chain follows it.
TRACEBACK = re.compile(
    r"^Traceback \(most recent call last\):\n(?:[ \t].*\n|\n)*(\S.*)$"
    r"(?!\n\n(?:During handling of the above|The above exception))",
    re.MULTILINE,
)


def test_server_log(deployment: Deployment) -> None:
    """Checked last for each pair, after every request above, in the log of the server with us."""
    log = deployment.ours.server.output()
    protocol_errors = [line for line in log.splitlines() if PROTOCOL_ERROR.search(line)]
    assert protocol_errors == []
    # A traceback is fine when it is the planted exception, logged by the framework or by us.
    allowed = [f"RuntimeError: {SECRET}"]
    if limitations("websocket", deployment.pair.framework, deployment.pair.server):
        allowed.append("KeyError: 'scheme'")
    others = [last for last in TRACEBACK.findall(log) if last.strip() not in allowed]
    assert others == [], log
