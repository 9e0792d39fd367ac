"""One table of behaviour, run against both middlewares: same request, same answer.

Each case is an app's behaviour written once and turned into a raw WSGI callable and a raw ASGI app,
then requested in process (Werkzeug's test client for WSGI, httpx's ASGITransport for ASGI). The two
answers must agree on status, headers and body; only the timestamp on a page may differ.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from werkzeug.test import Client

from friendly_errors.asgi import FriendlyErrorsMiddleware
from friendly_errors.core import ErrorEvent
from friendly_errors.wsgi import FriendlyErrorsWSGIMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[Any], Awaitable[None]]

REQUEST_ID = "parity-request-1"
_TIMESTAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@dataclass(frozen=True)
class Behaviour:
    """What the app does; ``raises`` is "before" (no response started) or "after" (body begun)."""

    status: int = 200
    body: bytes = b"hello"
    media_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    raises: str | None = None


def wsgi_app(spec: Behaviour) -> Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if spec.raises == "before":
            raise RuntimeError("parity-before")
        headers = [("Content-Type", spec.media_type), *spec.headers]
        # An upper-case reason phrase, as Werkzeug sends: matching is by code.
        start_response(f"{spec.status} WHATEVER IT SAYS", headers)
        if spec.raises == "after":
            return _then_fail(spec.body)
        return [spec.body]

    return app


def _then_fail(first: bytes) -> Iterator[bytes]:
    yield first
    raise RuntimeError("parity-after")


def asgi_app(spec: Behaviour) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if spec.raises == "before":
            raise RuntimeError("parity-before")
        headers = [(b"content-type", spec.media_type.encode())]
        headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in spec.headers]
        await send({"type": "http.response.start", "status": spec.status, "headers": headers})
        if spec.raises == "after":
            await send({"type": "http.response.body", "body": spec.body, "more_body": True})
            raise RuntimeError("parity-after")
        await send({"type": "http.response.body", "body": spec.body})

    return app


@dataclass
class Outcome:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    events: list[ErrorEvent] = field(default_factory=list)
    traced: int = 0

    def comparable(self) -> tuple[int, list[tuple[str, str]], bytes]:
        # Header order is the core's; a content-length both compute from the same body.
        headers = sorted((n.lower(), v) for n, v in self.headers)
        return self.status, headers, _TIMESTAMP.sub(b"<now>", self.body)


def run_wsgi(
    spec: Behaviour, method: str, headers: dict[str, str], options: dict[str, Any]
) -> Outcome:
    events: list[ErrorEvent] = []
    app = FriendlyErrorsWSGIMiddleware(wsgi_app(spec), on_error=events.append, **options)
    response = Client(app).open("/page", method=method, headers=headers)
    body = response.get_data()
    response.close()
    return Outcome(response.status_code, response.headers.to_wsgi_list(), body, events)


def run_asgi(
    spec: Behaviour, method: str, headers: dict[str, str], options: dict[str, Any]
) -> Outcome:
    events: list[ErrorEvent] = []
    app = FriendlyErrorsMiddleware(asgi_app(spec), on_error=events.append, **options)
    reached_server: list[Exception] = []

    async def server(scope: Any, receive: Any, send: Any) -> None:
        # The ASGI middleware lets an exception go on after its page, for the server to log;
        # the WSGI one logs it itself (docs/asgi.md and docs/wsgi.md, "Exceptions").
        try:
            await app(scope, receive, send)
        except Exception as exc:
            reached_server.append(exc)
            raise

    async def request() -> httpx.Response:
        transport = httpx.ASGITransport(app=server, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.request(method, "/page", headers=headers)

    response = asyncio.run(request())
    # httpx adds nothing to a response; what it shows is what the middleware sent.
    return Outcome(
        response.status_code,
        list(response.headers.multi_items()),
        response.content,
        events,
        traced=len(reached_server),
    )


HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}
TEXT = {"Accept": "text/plain"}
XML = {"Accept": "application/xml"}
MARKDOWN = {"Accept": "text/markdown, text/html"}

CASES = [
    pytest.param(Behaviour(200), "GET", HTML, {}, id="200-passes"),
    pytest.param(Behaviour(404, b"missing"), "GET", JSON, {}, id="404-passes-by-default"),
    pytest.param(Behaviour(404, b"missing"), "GET", JSON, {"intercept": ["4xx"]}, id="404-4xx"),
    *(
        pytest.param(Behaviour(code, b"<p>x</p>", "text/html"), "GET", accept, {}, id=f"{code}-{n}")
        for code in (500, 502, 503, 504, 524, 599)
        for n, accept in (
            ("html", HTML),
            ("json", JSON),
            ("text", TEXT),
            ("xml", XML),
            ("markdown", MARKDOWN),
        )
    ),
    pytest.param(
        Behaviour(503, b"Back at 10:00", headers=(("Retry-After", "120"),)),
        "GET",
        JSON,
        {},
        id="503-text-detail-retry-after",
    ),
    pytest.param(
        Behaviour(503, b'{"detail": "DB down"}', "application/json"),
        "GET",
        HTML,
        {},
        id="503-json-detail-html",
    ),
    pytest.param(
        Behaviour(503, b"Back at 10:00"), "GET", JSON, {"use_app_detail": False}, id="no-detail"
    ),
    pytest.param(Behaviour(503, b"Back at 10:00"), "GET", {}, {}, id="no-accept-follows-response"),
    pytest.param(
        Behaviour(503, b"x", "text/html"), "GET", {}, {"default_format": "json"}, id="default-json"
    ),
    pytest.param(
        Behaviour(503, b'{"status":503}', "application/problem+json"),
        "GET",
        JSON,
        {},
        id="problem-json-left-alone",
    ),
    pytest.param(
        Behaviour(
            503,
            b"x",
            headers=(
                ("Set-Cookie", "a=1"),
                ("Set-Cookie", "b=2"),
                ("ETag", '"e"'),
                ("Cache-Control", "max-age=60"),
                ("Vary", "Cookie"),
                ("X-Rate-Limit", "10"),
                ("WWW-Authenticate", "Bearer"),
            ),
        ),
        "GET",
        JSON,
        {"keep_headers": ["X-Rate-*"]},
        id="headers-kept-and-dropped",
    ),
    pytest.param(Behaviour(503, b"x"), "HEAD", HTML, {}, id="head-html"),
    pytest.param(Behaviour(503, b"x"), "HEAD", JSON, {}, id="head-json"),
    pytest.param(Behaviour(503, b"x", "text/html"), "HEAD", MARKDOWN, {}, id="head-markdown"),
    pytest.param(
        Behaviour(503, b"Back at 10:00", headers=(("Retry-After", "120"),)),
        "GET",
        MARKDOWN,
        {"site_name": "Parity & Co", "home_url": "/"},
        id="503-markdown-detail-retry-after",
    ),
    pytest.param(Behaviour(503, b"x"), "POST", HTML, {}, id="post"),
    pytest.param(
        Behaviour(503, b"x"),
        "GET",
        {"Accept": "text/html", "Accept-Language": "fr-CA, fr;q=0.9"},
        {"site_name": "Parity & Co", "home_url": "/"},
        id="language-and-site",
    ),
    pytest.param(
        Behaviour(503, b"x"), "GET", JSON, {"request_id_response_header": None}, id="no-id-header"
    ),
    pytest.param(Behaviour(raises="before"), "GET", HTML, {}, id="raise-before-html"),
    pytest.param(Behaviour(raises="before"), "GET", JSON, {}, id="raise-before-json"),
    pytest.param(Behaviour(raises="before"), "GET", TEXT, {"debug": True}, id="raise-debug"),
]


@pytest.mark.parametrize(("spec", "method", "headers", "options"), CASES)
def test_both_middlewares_answer_alike(
    spec: Behaviour,
    method: str,
    headers: dict[str, str],
    options: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    headers = {**headers, "X-Request-ID": REQUEST_ID}
    wsgi = run_wsgi(spec, method, headers, options)
    wsgi.traced = _traced(caplog)
    caplog.clear()
    asgi = run_asgi(spec, method, headers, options)
    # Logged once either way: by us in WSGI, by the server the exception reaches in ASGI.
    asgi.traced += _traced(caplog)
    if options.get("debug"):
        # Tracebacks name the frames of each protocol's glue; everything around them agrees.
        assert wsgi.status == asgi.status == 500
        assert _without_length(wsgi) == _without_length(asgi)
        assert b"RuntimeError: parity-before" in wsgi.body
        assert b"RuntimeError: parity-before" in asgi.body
    else:
        assert wsgi.comparable() == asgi.comparable()
    assert [(e.status, type(e.exception), e.request_id) for e in wsgi.events] == [
        (e.status, type(e.exception), e.request_id) for e in asgi.events
    ]
    assert _requests(wsgi.events, headers) == _requests(asgi.events, headers)
    assert wsgi.traced == asgi.traced


def _requests(events: list[ErrorEvent], sent: dict[str, str]) -> list[tuple[Any, ...]]:
    """What the hook saw of each request; each test client adds headers of its own, so only the
    ones the test sent are compared."""
    return [
        (
            e.request.method,
            e.request.path,
            e.request.query,
            [e.request.headers.get(name.lower()) for name in sent],
        )
        for e in events
    ]


def _without_length(outcome: Outcome) -> list[tuple[str, str]]:
    return [(n, v) for n, v in outcome.comparable()[1] if n != "content-length"]


def _traced(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR)


def test_an_exception_after_the_body_began_reaches_the_server_in_both() -> None:
    spec = Behaviour(raises="after")
    with pytest.raises(RuntimeError, match="parity-after"):
        run_wsgi(spec, "GET", HTML, {})
    assert run_asgi(spec, "GET", HTML, {}).traced == 1
