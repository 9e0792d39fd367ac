"""Behaviour of the ASGI middleware, in process, as a client and the server would see it.

Most tables run against the same behaviour written three ways (a raw ASGI app, Starlette and FastAPI),
because each framework sends its messages a little differently and the middleware must not care.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import gc
import gzip
import json
import logging
import os
import re
import sys
import tracemalloc
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi import HTTPException as FastAPIHTTPException
from litestar import Litestar
from litestar import Response as LitestarResponse
from litestar import get as litestar_get
from litestar.middleware import DefineMiddleware
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from friendly_errors.asgi import FriendlyErrorsMiddleware
from friendly_errors.catalogue import Catalogue
from friendly_errors.core import ErrorEvent
from friendly_errors.rendering import RequestInfo

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Any], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

LOGGER = "friendly_errors"
# The time a page shows, which differs between two renders a second apart.
_TIMESTAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
HTML = {"accept": "text/html"}
JSON = {"accept": "application/json"}
TEXT = {"accept": "text/plain"}
FLAVOURS = ("raw", "starlette", "fastapi")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


pytestmark = pytest.mark.anyio


# -- one behaviour, three ways to write it -------------------------------------------------------


@dataclass(frozen=True)
class Behaviour:
    """What an endpoint does, independent of the framework it is written in."""

    status: int = 200
    body: bytes = b"hello"
    media_type: str = "text/plain; charset=utf-8"
    headers: Sequence[tuple[str, str]] = ()
    raises: BaseException | None = None


def raw_app(routes: dict[str, Behaviour]) -> App:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        spec = routes.get(scope["path"])
        if spec is None:
            spec = Behaviour(404, b"Not Found")
        if spec.raises is not None:
            raise spec.raises
        headers = [(b"content-type", spec.media_type.encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in spec.headers]
        headers.append((b"content-length", str(len(spec.body)).encode()))
        await send({"type": "http.response.start", "status": spec.status, "headers": headers})
        await send({"type": "http.response.body", "body": spec.body})

    return app


def _respond(spec: Behaviour) -> Response:
    if spec.raises is not None:
        raise spec.raises
    response = Response(spec.body, spec.status, media_type=spec.media_type)
    for name, value in spec.headers:
        response.headers.append(name, value)
    return response


def starlette_app(routes: dict[str, Behaviour], middleware: Sequence[Middleware] = ()) -> Starlette:
    def endpoint_for(spec: Behaviour) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return _respond(spec)

        return endpoint

    return Starlette(
        routes=[Route(path, endpoint_for(spec)) for path, spec in routes.items()],
        middleware=list(middleware),
    )


def fastapi_app(routes: dict[str, Behaviour], middleware: Sequence[Middleware] = ()) -> FastAPI:
    def endpoint_for(spec: Behaviour) -> Callable[[], Response]:
        def endpoint() -> Response:
            return _respond(spec)

        return endpoint

    app = FastAPI(middleware=list(middleware))
    for path, spec in routes.items():
        app.add_api_route(path, endpoint_for(spec), methods=["GET", "HEAD"])
    return app


def build(flavour: str, routes: dict[str, Behaviour], **options: Any) -> App:
    """The flavour's app behind the middleware, added the way its users would add it."""
    if flavour == "raw":
        return FriendlyErrorsMiddleware(raw_app(routes), **options)
    if flavour == "starlette":
        return starlette_app(routes, [Middleware(FriendlyErrorsMiddleware, **options)])
    app = fastapi_app(routes)
    app.add_middleware(FriendlyErrorsMiddleware, **options)
    return app


def client(app: App) -> httpx.AsyncClient:
    # An exception goes on to the server after our page (docs/asgi.md, "Exceptions"); the client
    # sees the page, as it would over the wire. test_exceptions_go_on_after_the_page checks the rest.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def get(
    app: App, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> httpx.Response:
    async with client(app) as c:
        return await c.request(method, path, headers=headers)


@dataclass
class Hook:
    """An ``on_error`` hook that remembers what it was told."""

    events: list[ErrorEvent] = field(default_factory=list)

    def __call__(self, event: ErrorEvent) -> None:
        self.events.append(event)


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


# -- driving the raw protocol --------------------------------------------------------------------


def http_scope(
    path: str = "/", method: str = "GET", headers: Iterable[tuple[bytes, bytes]] = ()
) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": list(headers),
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }


@dataclass
class Server:
    """A stand-in for the server side of one request: what it receives and what was sent."""

    incoming: list[Message] = field(default_factory=list)
    sent: list[Message] = field(default_factory=list)
    fail_sends_with: BaseException | None = None

    async def receive(self) -> Message:
        if self.incoming:
            return self.incoming.pop(0)
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self.fail_sends_with is not None:
            raise self.fail_sends_with
        self.sent.append(message)

    @property
    def starts(self) -> list[Message]:
        return [m for m in self.sent if m["type"] == "http.response.start"]

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")

    def header(self, name: bytes) -> list[bytes]:
        (start,) = self.starts
        return [v for k, v in start["headers"] if k.lower() == name]


async def drive(app: App, scope: Scope | None = None, server: Server | None = None) -> Server:
    server = server or Server()
    await app(scope or http_scope(), server.receive, server.send)
    return server


async def drive_failing(
    app: App, scope: Scope | None = None, server: Server | None = None
) -> tuple[Server, Exception]:
    """One request whose app raises: what the server was sent, and the exception it then got.

    An exception goes on to the server after the page, as Starlette's ServerErrorMiddleware does,
    so the server logs it and error trackers around the app record it (docs/asgi.md).
    """
    server = server or Server()
    with pytest.raises(Exception) as raised:
        await app(scope or http_scope(), server.receive, server.send)
    return server, raised.value


# -- pass-through --------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize(
    ("spec", "options"),
    [
        pytest.param(Behaviour(200, b"hello"), {}, id="200"),
        pytest.param(Behaviour(201, b"{}", "application/json"), {}, id="201-json"),
        pytest.param(Behaviour(302, b"", headers=[("Location", "/x")]), {}, id="302"),
        pytest.param(Behaviour(404, b"nope", headers=[("ETag", '"1"')]), {}, id="404-default"),
        pytest.param(Behaviour(418, b"teapot"), {}, id="418-default"),
        pytest.param(Behaviour(503, b"busy"), {"intercept": [502]}, id="503-not-listed"),
        pytest.param(Behaviour(500, b"x"), {"intercept": ["4xx"]}, id="500-4xx-only"),
    ],
)
async def test_responses_not_intercepted_pass_through_unchanged(
    flavour: str, spec: Behaviour, options: dict[str, Any]
) -> None:
    bare = await get(raw_app({"/": spec}) if flavour == "raw" else _bare(flavour, spec), "/")
    wrapped = await get(build(flavour, {"/": spec}, **options), "/")
    assert wrapped.status_code == bare.status_code == spec.status
    assert wrapped.content == bare.content == spec.body
    assert wrapped.headers.multi_items() == bare.headers.multi_items()
    assert "x-request-id" not in wrapped.headers


def _bare(flavour: str, spec: Behaviour) -> App:
    return starlette_app({"/": spec}) if flavour == "starlette" else fastapi_app({"/": spec})


async def test_pass_through_forwards_the_apps_own_message_objects() -> None:
    start = {"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]}
    chunks = [{"type": "http.response.body", "body": b"a", "more_body": True}, {"type": "x"}]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for message in [start, *chunks]:
            await send(message)

    server = await drive(FriendlyErrorsMiddleware(app))
    assert [id(m) for m in server.sent] == [id(start), *(id(c) for c in chunks)]


async def test_a_streamed_200_reaches_the_server_before_the_app_finishes() -> None:
    server = Server()
    release = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        await release.wait()
        await send({"type": "http.response.body", "body": b"second"})

    task = asyncio.ensure_future(drive(FriendlyErrorsMiddleware(app), server=server))
    for _ in range(100):
        await asyncio.sleep(0)
        if server.body == b"first":
            break
    assert server.body == b"first", "the first chunk was held back"
    assert not task.done()
    release.set()
    await task
    assert server.body == b"firstsecond"


@pytest.mark.parametrize(
    "scope_type", ["websocket", "lifespan", "webtransport"], ids=lambda t: str(t)
)
async def test_other_scopes_get_the_servers_own_callables(scope_type: str) -> None:
    seen: list[tuple[Scope, Receive, Send]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope, receive, send))
        await send({"type": f"{scope_type}.anything", "status": 500})

    server = Server()
    scope: Scope = {"type": scope_type, "asgi": {"version": "3.0"}}
    await FriendlyErrorsMiddleware(app)(scope, server.receive, server.send)
    assert seen == [(scope, server.receive, server.send)]
    assert server.sent == [{"type": f"{scope_type}.anything", "status": 500}]


async def test_websocket_and_lifespan_work_through_starlette() -> None:
    started: list[str] = []

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        started.append("up")
        yield
        started.append("down")

    app = Starlette(
        routes=[WebSocketRoute("/ws", echo)],
        middleware=[Middleware(FriendlyErrorsMiddleware)],
        lifespan=lifespan,
    )
    life = Server(incoming=[{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    await drive(app, {"type": "lifespan", "asgi": {"version": "3.0"}}, life)
    assert [m["type"] for m in life.sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert started == ["up", "down"]

    ws_scope = {**http_scope("/ws"), "type": "websocket", "subprotocols": []}
    ws = Server(
        incoming=[
            {"type": "websocket.connect"},
            {"type": "websocket.receive", "text": "ping"},
            {"type": "websocket.disconnect", "code": 1000},
        ]
    )
    await drive(app, ws_scope, ws)
    assert [m["type"] for m in ws.sent] == [
        "websocket.accept",
        "websocket.send",
        "websocket.close",
    ]
    assert ws.sent[1]["text"] == "ping"


async def test_messages_before_the_start_are_forwarded() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.debug", "info": {"template": "x"}})
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    server = await drive(FriendlyErrorsMiddleware(app))
    assert server.sent[0] == {"type": "http.response.debug", "info": {"template": "x"}}
    assert server.starts[0]["status"] == 503


# -- replacement ---------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("status", [500, 502, 503, 504, 524, 599])
async def test_intercepted_statuses_become_a_friendly_page(flavour: str, status: int) -> None:
    app = build(flavour, {"/": Behaviour(status, b"upstream said no", "text/html")})
    response = await get(app, "/", HTML)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert str(status) in response.text
    assert "upstream said no" not in response.text
    assert int(response.headers["content-length"]) == len(response.content)


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        pytest.param("text/html", "text/html", id="html"),
        pytest.param("application/json", "application/json", id="json"),
        pytest.param("application/problem+json", "application/problem+json", id="problem-json"),
        pytest.param("text/plain", "text/plain", id="text"),
        pytest.param("text/markdown, text/html", "text/markdown", id="markdown"),
        pytest.param("text/html;q=0.5, application/json", "application/json", id="q-values"),
    ],
)
async def test_the_replacement_is_negotiated(flavour: str, accept: str, media_type: str) -> None:
    app = build(flavour, {"/": Behaviour(503, b"x")})
    response = await get(app, "/", {"accept": accept})
    assert response.headers["content-type"].split(";")[0] == media_type
    assert "accept" in response.headers["vary"].lower()


@pytest.mark.parametrize(
    ("options", "path", "replaced"),
    [
        pytest.param({}, "/404", False, id="default-leaves-4xx"),
        pytest.param({"intercept": ["4xx"]}, "/404", True, id="4xx-class"),
        pytest.param({"intercept": [404, 503]}, "/404", True, id="listed-404"),
        pytest.param({"intercept": [404]}, "/503", False, id="unlisted-503"),
        pytest.param({"intercept": ["4xx", "5xx"]}, "/503", True, id="both-classes"),
    ],
)
async def test_intercept_chooses_what_is_replaced(
    options: dict[str, Any], path: str, replaced: bool
) -> None:
    routes = {"/404": Behaviour(404, b"original"), "/503": Behaviour(503, b"original")}
    response = await get(build("starlette", routes, **options), path, JSON)
    assert (response.content != b"original") is replaced
    assert ("x-request-id" in response.headers) is replaced


# -- the app's own detail ------------------------------------------------------------------------

# Without a detail from the app, the problem's detail is the catalogue's own summary.
DEFAULT_503_DETAIL = Catalogue.default().get(503).summary


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize(
    ("body", "media_type", "options", "detail"),
    [
        pytest.param(b'{"detail": "DB down"}', "application/json", {}, "DB down", id="detail"),
        pytest.param(b'{"message": "DB down"}', "application/json", {}, "DB down", id="message"),
        pytest.param(b'{"error": "DB down"}', "application/json", {}, "DB down", id="error"),
        pytest.param(b"DB down", "text/plain", {}, "DB down", id="text"),
        pytest.param(b"<h1>DB down</h1>", "text/html", {}, None, id="html-ignored"),
        pytest.param(b"x" * 5000, "text/plain", {}, None, id="long-text-ignored"),
        pytest.param(b'{"detail": 3}', "application/json", {}, None, id="not-a-string"),
        pytest.param(b"{oops", "application/json", {}, None, id="bad-json"),
        pytest.param(
            b'{"detail": "DB down"}',
            "application/json",
            {"use_app_detail": False},
            None,
            id="switched-off",
        ),
    ],
)
async def test_the_apps_detail_becomes_the_problems_detail(
    flavour: str, body: bytes, media_type: str, options: dict[str, Any], detail: str | None
) -> None:
    app = build(flavour, {"/": Behaviour(503, body, media_type)}, **options)
    response = await get(app, "/", JSON)
    assert response.json()["detail"] == (detail or DEFAULT_503_DETAIL)


@pytest.mark.parametrize(
    ("flavour", "exception"),
    [
        pytest.param(
            "fastapi", FastAPIHTTPException(503, detail="Back at 10:00"), id="fastapi-http-exc"
        ),
        pytest.param(
            "starlette",
            StarletteHTTPException(503, detail="Back at 10:00"),
            id="starlette-http-exc",
        ),
    ],
)
async def test_http_exception_detail_is_shown(flavour: str, exception: Exception) -> None:
    app = build(flavour, {"/": Behaviour(raises=exception)})
    as_json = await get(app, "/", JSON)
    as_html = await get(app, "/", HTML)
    assert as_json.status_code == 503
    assert as_json.json()["detail"] == "Back at 10:00"
    assert "Back at 10:00" in as_html.text


async def test_a_detail_that_only_repeats_the_title_is_dropped() -> None:
    app = build("fastapi", {"/": Behaviour(raises=FastAPIHTTPException(503))})
    response = await get(app, "/", JSON)
    assert response.json()["detail"] == DEFAULT_503_DETAIL


async def test_a_gzipped_detail_is_not_shown_as_gibberish() -> None:
    body = gzip.compress(b"Short text detail " * 40)
    spec = Behaviour(503, body, "text/plain", headers=[("Content-Encoding", "gzip")])
    response = await get(build("raw", {"/": spec}), "/", JSON)
    assert response.json()["detail"] == DEFAULT_503_DETAIL
    assert "content-encoding" not in response.headers


# -- problem details the app wrote itself --------------------------------------------------------

PROBLEM = b'{"type": "https://example.com/busy", "title": "Busy", "status": 503}'


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("media_type", ["application/problem+json", "application/problem+xml"])
async def test_problem_details_from_the_app_are_left_alone(flavour: str, media_type: str) -> None:
    spec = Behaviour(503, PROBLEM, media_type, headers=[("ETag", '"v1"')])
    bare = await get(raw_app({"/": spec}) if flavour == "raw" else _bare(flavour, spec), "/")
    response = await get(build(flavour, {"/": spec}), "/", HTML)
    assert response.content == PROBLEM
    assert response.headers.multi_items() == bare.headers.multi_items()


async def test_replace_problem_details_replaces_them() -> None:
    spec = Behaviour(503, PROBLEM, "application/problem+json")
    response = await get(build("raw", {"/": spec}, replace_problem_details=True), "/", HTML)
    assert response.headers["content-type"].startswith("text/html")
    assert "x-request-id" in response.headers


# -- headers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize(
    ("status", "app_headers", "options", "expected", "absent"),
    [
        pytest.param(
            503,
            [("Retry-After", "120")],
            {},
            {"retry-after": ["120"]},
            (),
            id="retry-after-kept",
        ),
        pytest.param(
            401,
            [("WWW-Authenticate", 'Bearer realm="api"')],
            {"intercept": [401]},
            {"www-authenticate": ['Bearer realm="api"']},
            (),
            id="www-authenticate",
        ),
        pytest.param(
            405,
            [("Allow", "GET, HEAD")],
            {"intercept": [405]},
            {"allow": ["GET, HEAD"]},
            (),
            id="allow",
        ),
        pytest.param(
            500,
            [("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/")],
            {},
            {"set-cookie": ["a=1; Path=/", "b=2; Path=/"]},
            (),
            id="set-cookies",
        ),
        pytest.param(
            500,
            [("Access-Control-Allow-Origin", "https://a.example")],
            {},
            {"access-control-allow-origin": ["https://a.example"]},
            (),
            id="cors",
        ),
        pytest.param(
            500,
            [("ETag", '"abc"'), ("Last-Modified", "Tue, 01 Oct 2024 00:00:00 GMT")],
            {},
            {},
            ("etag", "last-modified", "content-encoding"),
            id="body-headers-dropped",
        ),
        pytest.param(
            500,
            [("X-Trace", "t"), ("X-Shard-Id", "7"), ("X-Other", "o")],
            {"keep_headers": ["X-Trace", "X-Shard-*"]},
            {"x-trace": ["t"], "x-shard-id": ["7"]},
            ("x-other",),
            id="keep-headers",
        ),
    ],
)
async def test_header_rules(
    flavour: str,
    status: int,
    app_headers: list[tuple[str, str]],
    options: dict[str, Any],
    expected: dict[str, list[str]],
    absent: tuple[str, ...],
) -> None:
    app = build(flavour, {"/": Behaviour(status, b"x", headers=app_headers)}, **options)
    response = await get(app, "/", HTML)
    assert response.status_code == status
    for name, values in expected.items():
        assert response.headers.get_list(name) == values
    for name in absent:
        assert name not in response.headers
    assert int(response.headers["content-length"]) == len(response.content)


async def test_vary_from_the_app_is_merged_into_ours() -> None:
    spec = Behaviour(503, b"x", headers=[("Vary", "Origin, accept")])
    response = await get(build("raw", {"/": spec}), "/", HTML)
    (vary,) = response.headers.get_list("vary")
    items = [v.strip().lower() for v in vary.split(",")]
    assert sorted(items) == sorted(set(items))
    assert {"origin", "accept"} <= set(items)


async def test_the_apps_retry_after_wins_over_the_catalogues_hint() -> None:
    spec = Behaviour(503, b"x", headers=[("Retry-After", "7")])
    response = await get(build("raw", {"/": spec}), "/", HTML)
    assert response.headers.get_list("retry-after") == ["7"]


async def test_non_ascii_header_bytes_survive_as_latin1() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"set-cookie", "n=caf\xe9".encode("latin-1"))]
        await send({"type": "http.response.start", "status": 500, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    server = await drive(FriendlyErrorsMiddleware(app))
    assert server.header(b"set-cookie") == [b"n=caf\xe9"]


# -- draining a replaced body --------------------------------------------------------------------


async def test_a_huge_replaced_body_is_drained_in_constant_memory() -> None:
    chunk = b"x" * (1024 * 1024)
    total = 100

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 503, "headers": []})
        for _ in range(total):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    middleware = FriendlyErrorsMiddleware(app)
    await drive(middleware)  # warm caches, templates and the like
    tracemalloc.start()
    try:
        server = await drive(middleware)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert server.starts[0]["status"] == 503
    assert peak < 2 * 1024 * 1024, f"peak {peak} bytes while draining {total} MB"


async def test_a_response_ended_by_pathsend_is_replaced() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.pathsend", "path": "/etc/hostname"})

    server = await drive(FriendlyErrorsMiddleware(app))
    assert len(server.starts) == 1
    assert server.sent[-1]["type"] == "http.response.body"


async def test_trailers_of_a_replaced_response_are_dropped() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        start = {"type": "http.response.start", "status": 502, "headers": [], "trailers": True}
        await send(start)
        await send({"type": "http.response.body", "body": b"x"})
        await send({"type": "http.response.trailers", "headers": [(b"x-t", b"1")]})

    server = await drive(FriendlyErrorsMiddleware(app))
    assert [m["type"] for m in server.sent] == ["http.response.start", "http.response.body"]
    assert "trailers" not in server.starts[0]


async def test_an_unfinished_replaced_body_is_still_answered() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})

    server = await drive(FriendlyErrorsMiddleware(app))
    assert server.starts[0]["status"] == 503
    assert server.sent[-1].get("more_body", False) is False


@pytest.mark.parametrize(
    ("options", "sent"),
    [
        pytest.param({}, True, id="500-intercepted"),
        pytest.param({"intercept": [503]}, False, id="not"),
    ],
)
async def test_an_app_that_never_starts_a_response(
    options: dict[str, Any], sent: bool, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    server = await drive(FriendlyErrorsMiddleware(app, **options))
    assert bool(server.starts) is sent
    assert len(error_records(caplog)) == int(sent)
    if sent:
        assert server.starts[0]["status"] == 500
        assert "without starting a response" in caplog.text


# -- HEAD ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "accept", [b"text/html", b"application/json", b"text/plain", b"text/markdown"]
)
async def test_head_gets_the_gets_headers_and_body_for_the_server_to_drop(accept: bytes) -> None:
    """As Starlette's own responses do: ASGI servers drop a HEAD body (the wire tests check that
    not one byte goes out), and a middleware outside ours (GZip) sees what it sees for GET."""
    spec = Behaviour(503, b"", "text/plain")
    middleware = FriendlyErrorsMiddleware(raw_app({"/": spec}))
    head = [(b"accept", accept), (b"x-request-id", b"r-1")]
    server = await drive(middleware, http_scope(method="HEAD", headers=head))
    request = RequestInfo("GET", "/", "", {"accept": accept.decode(), "x-request-id": "r-1"})
    app_headers = [("content-type", "text/plain"), ("content-length", "0")]
    expected = middleware.handler.respond(
        503, request, request_id="r-1", original_headers=app_headers
    )
    assert server.starts[0]["status"] == 503
    (length,) = server.header(b"content-length")
    assert int(length) > 0
    assert length == dict(expected.headers)["Content-Length"].encode()
    assert _TIMESTAMP.sub(b"", server.body) == _TIMESTAMP.sub(b"", expected.body)


async def test_head_behind_gzip_is_framed_as_get() -> None:
    """Starlette's GZipMiddleware decides Vary and Content-Encoding from the body it sees (#14)."""
    app = starlette_app(
        {"/": Behaviour(503, b"down")},
        [Middleware(GZipMiddleware), Middleware(FriendlyErrorsMiddleware)],
    )
    headers = [(b"accept", b"text/html"), (b"accept-encoding", b"gzip"), (b"x-request-id", b"r-1")]
    got = await drive(app, http_scope(headers=headers))
    head = await drive(app, http_scope(method="HEAD", headers=headers))
    for name in (b"vary", b"content-encoding", b"content-length", b"content-type"):
        assert head.header(name) == got.header(name), name


def head_without_body(content_type: bytes) -> App:
    """An app that answers HEAD as Werkzeug, Falcon or Bottle do: the GET's headers, no body."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body = b"Back in five minutes" if content_type == b"text/plain" else b"<p>busy</p>"
        headers = [(b"content-type", content_type), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )

    return app


@pytest.mark.parametrize(
    "accept", [b"text/html", b"application/json", b"text/plain", b"text/markdown"]
)
@pytest.mark.parametrize(
    ("app", "length_known"),
    [
        (build("raw", {"/": Behaviour(503, b"Back in five minutes")}), True),
        (build("starlette", {"/": Behaviour(503, b"Back in five minutes")}), True),
        (build("fastapi", {"/": Behaviour(503, b"Back in five minutes")}), True),
        (FriendlyErrorsMiddleware(head_without_body(b"text/html")), True),
        (FriendlyErrorsMiddleware(head_without_body(b"text/plain")), False),
    ],
    ids=["raw", "starlette", "fastapi", "no-body-html", "no-body-text"],
)
async def test_head_has_the_gets_content_length_or_none(
    accept: bytes, app: App, length_known: bool
) -> None:
    """RFC 9110 Section 9.3.2: HEAD gets the GET's fields. An app that sends no body for HEAD hides
    the detail a GET would quote, so Content-Length is left out rather than differ from the GET's
    (#11); an HTML body is never quoted, so its length is known all the same."""
    headers = [(b"accept", accept), (b"x-request-id", b"r-1")]
    got = await drive(app, http_scope(headers=headers))
    head = await drive(app, http_scope(method="HEAD", headers=headers))
    for name in (b"content-type", b"x-request-id", b"content-language", b"vary"):
        assert head.header(name) == got.header(name)
    expected = got.header(b"content-length") if length_known else []
    assert head.header(b"content-length") == expected
    # A known length comes with the GET's body, for the server to drop; an unknown one, none.
    assert bool(head.body) is length_known


# -- exceptions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_an_exception_before_the_start_is_a_500_page_then_goes_on_to_the_server(
    flavour: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Answer, then re-raise, as Starlette's ServerErrorMiddleware does: the server logs the
    exception (with our request ID in its notes), and error trackers and tracing around the app
    record it; our own logger stays quiet, so it is logged once (#11)."""
    hook = Hook()
    error = RuntimeError("kaboom")
    app = build(flavour, {"/": Behaviour(raises=error)}, on_error=hook)
    server, raised = await drive_failing(app, http_scope(headers=[(b"accept", b"text/html")]))
    assert raised is error
    assert [m["status"] for m in server.starts] == [500]
    assert server.header(b"content-type")[0].startswith(b"text/html")
    (request_id,) = server.header(b"x-request-id")
    if sys.version_info >= (3, 11):
        assert request_id.decode() in "".join(error.__notes__)
    assert not [r for r in caplog.records if r.name == LOGGER]
    (event,) = hook.events
    assert (event.status, event.exception) == (500, error)
    assert event.request_id == request_id.decode()


async def test_an_exception_when_500_is_not_intercepted_goes_to_the_server(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook = Hook()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        await drive(FriendlyErrorsMiddleware(app, intercept=[503], on_error=hook))
    assert not caplog.records
    assert not hook.events


async def test_an_exception_after_the_start_propagates_and_sends_nothing_more(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook = Hook()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise RuntimeError("midway")

    server = Server()
    with pytest.raises(RuntimeError, match="midway"):
        await drive(FriendlyErrorsMiddleware(app, on_error=hook), server=server)
    assert len(server.starts) == 1
    assert server.body == b"part"
    assert server.sent[-1]["more_body"] is True
    # The server logs what propagates; logging it here too would log it twice.
    assert not caplog.records
    assert not hook.events


async def test_an_exception_after_a_streaming_response_started_through_starlette() -> None:
    async def chunks() -> Any:
        yield b"first"
        raise RuntimeError("midway")

    async def endpoint(request: Request) -> Response:
        return StreamingResponse(chunks())

    app = Starlette(
        routes=[Route("/", endpoint)], middleware=[Middleware(FriendlyErrorsMiddleware)]
    )
    server = Server()
    with pytest.raises(RuntimeError, match="midway"):
        await drive(app, server=server)
    assert [m["status"] for m in server.starts] == [200]


async def test_an_exception_while_draining_a_replaced_body_is_a_500_page(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook = Hook()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 503, "headers": [(b"x-a", b"1")]})
        await send({"type": "http.response.body", "body": b"{}", "more_body": True})
        raise RuntimeError("while streaming the 503")

    server, raised = await drive_failing(
        FriendlyErrorsMiddleware(app, on_error=hook, keep_headers=["x-a"])
    )
    assert [m["status"] for m in server.starts] == [500]
    assert server.header(b"x-a") == []
    assert str(raised) == "while streaming the 503"
    assert not error_records(caplog)  # the server logs what goes on to it
    assert [(e.status, e.exception) for e in hook.events] == [(500, raised)]


async def test_an_exception_after_the_replacement_was_sent_propagates(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        raise RuntimeError("in a background task")

    server = Server()
    with pytest.raises(RuntimeError, match="background task"):
        await drive(FriendlyErrorsMiddleware(app), server=server)
    assert [m["status"] for m in server.starts] == [503]
    assert not error_records(caplog)


BASE_EXCEPTIONS = [
    pytest.param(asyncio.CancelledError(), id="cancelled"),
    pytest.param(KeyboardInterrupt(), id="keyboard-interrupt"),
    pytest.param(SystemExit(3), id="system-exit"),
    pytest.param(GeneratorExit(), id="generator-exit"),
]
if sys.version_info >= (3, 11):
    BASE_EXCEPTIONS.append(
        pytest.param(builtins.BaseExceptionGroup("g", [KeyboardInterrupt()]), id="base-group")
    )


@pytest.mark.parametrize("exception", BASE_EXCEPTIONS)
@pytest.mark.parametrize("started", [False, True], ids=["before-start", "held-503"])
async def test_base_exceptions_pass_through_untouched(
    exception: BaseException, started: bool, caplog: pytest.LogCaptureFixture
) -> None:
    hook = Hook()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if started:
            await send({"type": "http.response.start", "status": 503, "headers": []})
        raise exception

    server = Server()
    with pytest.raises(type(exception)) as raised:
        await drive(FriendlyErrorsMiddleware(app, on_error=hook), server=server)
    assert raised.value is exception
    assert server.sent == []
    assert not caplog.records
    assert not hook.events


def exception_group(message: str, members: list[Exception]) -> Exception:
    if sys.version_info >= (3, 11):
        return builtins.ExceptionGroup(message, members)
    pytest.skip("ExceptionGroup is new in Python 3.11")  # pragma: no cover


async def test_an_exception_group_shows_its_members_in_debug_output() -> None:
    members = [ValueError("first-member"), KeyError("second-member")]
    group = exception_group("two failures", members)
    app = build("starlette", {"/": Behaviour(raises=group)}, debug=True)
    response = await get(app, "/", JSON)
    trace = response.json()["traceback"]
    assert "ExceptionGroup: two failures" in trace
    assert "first-member" in trace
    assert "second-member" in trace


# -- client disconnects --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [None, 503], ids=["before-start", "held-503"])
async def test_an_app_failing_after_the_client_left_is_not_a_server_error(
    status: int | None, caplog: pytest.LogCaptureFixture
) -> None:
    hook = Hook()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if status is not None:
            await send({"type": "http.response.start", "status": status, "headers": []})
        message = await receive()
        assert message["type"] == "http.disconnect"
        raise OSError("client went away")

    server = await drive(FriendlyErrorsMiddleware(app, on_error=hook))
    assert server.sent == []
    assert not error_records(caplog)
    assert not hook.events


async def test_starlette_client_disconnect_is_not_a_server_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook = Hook()

    async def endpoint(request: Request) -> Response:
        await request.body()
        return Response("never")

    app = Starlette(
        routes=[Route("/", endpoint, methods=["POST"])],
        middleware=[Middleware(FriendlyErrorsMiddleware, on_error=hook)],
    )
    server = Server(incoming=[{"type": "http.request", "body": b"a", "more_body": True}])
    await drive(app, http_scope(method="POST"), server)
    assert server.sent == []
    assert not error_records(caplog)
    assert not hook.events


async def test_a_send_failing_before_the_start_marks_a_disconnect(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.debug", "info": {}})

    server = Server(fail_sends_with=ConnectionResetError("reset"))
    await drive(FriendlyErrorsMiddleware(app), server=server)
    assert not error_records(caplog)


async def test_the_page_failing_to_send_still_reports_the_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook = Hook()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("real bug")

    server = Server(fail_sends_with=ConnectionResetError("reset"))
    _, raised = await drive_failing(FriendlyErrorsMiddleware(app, on_error=hook), server=server)
    assert str(raised) == "real bug"  # the server logs it
    assert [e.status for e in hook.events] == [500]


async def test_receive_is_handed_over_once_the_response_passes_through() -> None:
    received: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        received.append(await receive())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        received.append(await receive())
        await send({"type": "http.response.body", "body": b""})

    incoming: list[Message] = [
        {"type": "http.request", "body": b"", "more_body": False},
        {"type": "http.disconnect"},
    ]
    server = await drive(FriendlyErrorsMiddleware(app), server=Server(incoming=list(incoming)))
    assert received == incoming
    assert server.starts[0]["status"] == 200


# -- request IDs ---------------------------------------------------------------------------------

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"X-Request-ID": "req-123"}, "req-123", id="x-request-id"),
        pytest.param({"X-Correlation-ID": "corr-9"}, "corr-9", id="x-correlation-id"),
        pytest.param(
            {"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}, TRACE_ID, id="traceparent"
        ),
        pytest.param({"CF-Ray": "8f1c2a3b4c5d6e7f-AMS"}, "8f1c2a3b4c5d6e7f-AMS", id="cf-ray"),
        pytest.param({"X-Request-ID": "first", "X-Correlation-ID": "second"}, "first", id="order"),
        pytest.param({"X-Request-ID": "x" * 10240}, None, id="10kb-ignored"),
        pytest.param({"X-Request-ID": "<script>"}, None, id="markup-ignored"),
        pytest.param({}, None, id="generated"),
    ],
)
async def test_request_id(flavour: str, headers: dict[str, str], expected: str | None) -> None:
    hook = Hook()
    app = build(flavour, {"/": Behaviour(503, b"x")}, on_error=hook)
    as_json = await get(app, "/", {**JSON, **headers})
    as_html = await get(app, "/", {**HTML, **headers})
    for response in (as_json, as_html):
        request_id = response.headers["x-request-id"]
        if expected is None:
            assert GENERATED.fullmatch(request_id)
        else:
            assert request_id == expected
        assert request_id in response.text
    assert as_json.json()["request_id"] == as_json.headers["x-request-id"]
    assert [e.request_id for e in hook.events] == [
        as_json.headers["x-request-id"],
        as_html.headers["x-request-id"],
    ]


async def test_a_request_id_with_crlf_is_ignored() -> None:
    scope = http_scope(headers=[(b"x-request-id", b"abc\r\nSet-Cookie: x=1"), *_accept(JSON)])
    server = await drive(FriendlyErrorsMiddleware(raw_app({"/": Behaviour(503)})), scope)
    (request_id,) = server.header(b"x-request-id")
    assert GENERATED.fullmatch(request_id.decode())
    assert server.header(b"set-cookie") == []


def _accept(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode()) for k, v in headers.items()]


@pytest.mark.parametrize(
    ("option", "header"),
    [pytest.param("X-Trace-Id", "x-trace-id", id="renamed"), pytest.param(None, None, id="off")],
)
async def test_request_id_response_header(option: str | None, header: str | None) -> None:
    app = build("raw", {"/": Behaviour(503)}, request_id_response_header=option)
    response = await get(app, "/", {**JSON, "X-Request-ID": "abc"})
    assert "x-request-id" not in response.headers
    if header is not None:
        assert response.headers[header] == "abc"
    assert response.json()["request_id"] == "abc"


# -- debug ---------------------------------------------------------------------------------------


def _chained() -> None:
    try:
        raise KeyError("inner-cause")
    except KeyError as exc:
        raise RuntimeError("outer <b>failure</b>") from exc


class ChainedRaiser:
    def __init__(self, fn: Callable[[], None]) -> None:
        self.fn = fn

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.fn()


async def test_debug_shows_the_chained_traceback_escaped_in_html_and_in_json() -> None:
    app = FriendlyErrorsMiddleware(ChainedRaiser(_chained), debug=True)
    as_json = (await get(app, "/", JSON)).json()
    as_html = (await get(app, "/", HTML)).text
    assert "inner-cause" in as_json["traceback"]
    assert "direct cause" in as_json["traceback"]
    assert "outer <b>failure</b>" in as_json["traceback"]
    assert "outer &lt;b&gt;failure&lt;/b&gt;" in as_html
    assert "<b>failure</b>" not in as_html
    assert "inner-cause" in as_html


async def test_debug_shows_the_context_chain() -> None:
    def raise_with_context() -> None:
        try:
            raise ValueError("first-context")
        except ValueError:
            raise RuntimeError("second-while-handling")  # noqa: B904

    app = FriendlyErrorsMiddleware(ChainedRaiser(raise_with_context), debug=True)
    trace = (await get(app, "/", JSON)).json()["traceback"]
    assert "first-context" in trace
    assert "During handling of the above exception" in trace


@pytest.mark.parametrize(
    "request_headers",
    [
        pytest.param({"X-Debug": "1"}, id="header"),
        pytest.param({"Cookie": "debug=1"}, id="cookie"),
        pytest.param({"X-Forwarded-For": "127.0.0.1"}, id="localhost"),
    ],
)
@pytest.mark.parametrize("query", ["", "?debug=1", "?debug=true&traceback=1"])
async def test_nothing_in_a_request_switches_debug_on(
    request_headers: dict[str, str], query: str
) -> None:
    app = FriendlyErrorsMiddleware(ChainedRaiser(_chained))
    for accept in (JSON, HTML, TEXT):
        response = await get(app, "/" + query, {**accept, **request_headers})
        assert response.status_code == 500
        assert "inner-cause" not in response.text
        assert "Traceback (most recent call last)" not in response.text
    assert "traceback" not in (await get(app, "/" + query, JSON)).json()


# -- secrets never leak --------------------------------------------------------------------------

SECRET = "s3cr3t-Zebra-42"


class LeakyApp:
    """Puts the secret into a local variable and the exception message, then fails."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        password = SECRET
        raise RuntimeError(f"could not log in with {password}")


class QuietlyLeakyApp:
    """Holds a secret only in a local variable: even a debug traceback must not show it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        password = "".join(reversed(SECRET[::-1]))
        raise RuntimeError(f"login failed for a password of {len(password)} characters")


ALL_ACCEPTS = [
    "text/html",
    "application/json",
    "application/problem+json",
    "application/xml",
    "text/plain",
    "*/*",
    "",
]


@pytest.mark.parametrize("accept", ALL_ACCEPTS, ids=lambda a: a or "none")
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
async def test_a_secret_appears_in_no_response_byte_when_debug_is_off(
    accept: str, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_PASSWORD", SECRET)
    assert os.environ["DATABASE_PASSWORD"] == SECRET
    headers = [(b"accept", accept.encode())] if accept else []
    scope = http_scope(method=method, headers=headers)
    server, _ = await drive_failing(FriendlyErrorsMiddleware(LeakyApp()), scope)
    assert server.starts[0]["status"] == 500
    assert SECRET.encode() not in _every_byte(server)


def _every_byte(server: Server) -> bytes:
    (start,) = server.starts
    return b"".join(k + b": " + v for k, v in start["headers"]) + server.body


@pytest.mark.parametrize("accept", ALL_ACCEPTS, ids=lambda a: a or "none")
async def test_debug_shows_no_local_variable_and_no_environment(
    accept: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_PASSWORD", SECRET)
    headers = [(b"accept", accept.encode())] if accept else []
    server, _ = await drive_failing(
        FriendlyErrorsMiddleware(QuietlyLeakyApp(), debug=True), http_scope(headers=headers)
    )
    every_byte = _every_byte(server)
    assert b"login failed for a password" in every_byte  # debug is on: the traceback is there
    assert SECRET.encode() not in every_byte


async def test_the_secret_check_can_fail() -> None:
    """debug=True shows the exception message, so the same check catches it: the test has teeth."""
    scope = http_scope(headers=[(b"accept", b"application/json")])
    server, _ = await drive_failing(FriendlyErrorsMiddleware(LeakyApp(), debug=True), scope)
    assert SECRET.encode() in _every_byte(server)


# -- on_error ------------------------------------------------------------------------------------


async def test_an_async_hook_is_awaited_once_per_error() -> None:
    events: list[ErrorEvent] = []

    async def hook(event: ErrorEvent) -> None:
        await asyncio.sleep(0)
        events.append(event)

    app = build("starlette", {"/503": Behaviour(503), "/ok": Behaviour()}, on_error=hook)
    await get(app, "/503", {"X-Request-ID": "r1"})
    await get(app, "/ok")
    (event,) = events
    assert (event.status, event.exception, event.request_id) == (503, None, "r1")
    assert event.scope["path"] == "/503"
    assert event.request.path == "/503"


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_failing_hook_is_logged_and_the_page_still_served(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    def sync_hook(event: ErrorEvent) -> None:
        raise ValueError("hook broke")

    async def async_hook(event: ErrorEvent) -> None:
        raise ValueError("hook broke")

    hook = sync_hook if kind == "sync" else async_hook
    app = build("raw", {"/": Behaviour(503)}, on_error=hook)
    response = await get(app, "/", HTML)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    (record,) = error_records(caplog)
    assert "on_error hook failed" in record.getMessage()


# -- CORS and GZip -------------------------------------------------------------------------------

ORIGIN = "https://front.example"
ERRORS = {
    "/503": Behaviour(503, b'{"detail": "busy"}' * 60, "application/json"),
    "/boom": Behaviour(raises=RuntimeError("boom")),
}


def layered(order: str) -> Starlette:
    """Starlette's middleware list runs outermost first."""
    friendly = Middleware(FriendlyErrorsMiddleware)
    cors = Middleware(CORSMiddleware, allow_origins=[ORIGIN], expose_headers=["X-Request-ID"])
    gzip_mw = Middleware(GZipMiddleware, minimum_size=100)
    stacks = {
        "outside": [cors, gzip_mw, friendly],
        "inside": [friendly, cors, gzip_mw],
    }
    return starlette_app(ERRORS, stacks[order])


@pytest.mark.parametrize("order", ["outside", "inside"])
@pytest.mark.parametrize("path", ["/503", "/boom"])
@pytest.mark.parametrize("accept", [HTML, JSON], ids=["html", "json"])
async def test_cors_and_gzip_around_or_within(
    order: str, path: str, accept: dict[str, str]
) -> None:
    request_headers = {**accept, "Origin": ORIGIN, "Accept-Encoding": "gzip"}
    app = layered(order)
    async with client(app) as c:
        response = await c.get(path, headers=request_headers)
    status = 503 if path == "/503" else 500
    assert response.status_code == status
    assert response.headers["x-request-id"] in response.text
    encoding = response.headers.get("content-encoding")
    if order == "outside":
        assert response.headers["access-control-allow-origin"] == ORIGIN
        assert encoding == "gzip"
    else:
        assert encoding is None
        assert int(response.headers["content-length"]) == len(response.content)
        # CORS inside us only decorates responses the app produced; an exception has none.
        expected = ORIGIN if path == "/503" else None
        assert response.headers.get("access-control-allow-origin") == expected


@pytest.mark.parametrize("order", ["outside", "inside"])
async def test_no_stale_framing_reaches_the_client(order: str) -> None:
    app = layered(order)
    server = await drive(
        app, http_scope("/503", headers=[(b"accept", b"text/html"), (b"accept-encoding", b"gzip")])
    )
    (length,) = server.header(b"content-length")
    assert int(length) == len(server.body)
    encodings = server.header(b"content-encoding")
    body = gzip.decompress(server.body) if encodings == [b"gzip"] else server.body
    assert body.startswith(b"<!") or body.lower().startswith(b"<html")
    assert encodings == ([b"gzip"] if order == "outside" else [])


# -- construction --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        pytest.param({"debgu": True}, TypeError, "debgu", id="unknown-option"),
        pytest.param({"debug": "yes"}, TypeError, "debug", id="debug-type"),
        pytest.param({"intercept": "5xx"}, TypeError, "intercept", id="intercept-str"),
        pytest.param({"intercept": [200]}, ValueError, "intercept", id="intercept-2xx"),
        pytest.param({"default_format": "pdf"}, ValueError, "default_format", id="format"),
        pytest.param({"keep_headers": ["bad header"]}, ValueError, "keep_headers", id="keep"),
        pytest.param({"on_error": 3}, TypeError, "on_error", id="hook"),
    ],
)
def test_bad_options_fail_when_the_middleware_is_built(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError

    with pytest.raises(error, match=message):
        FriendlyErrorsMiddleware(app, **options)


async def test_bad_options_fail_when_starlette_builds_its_stack() -> None:
    app = Starlette(middleware=[Middleware(FriendlyErrorsMiddleware, debug="yes")])
    life = Server(incoming=[{"type": "lifespan.startup"}])
    with pytest.raises(TypeError, match="debug"):
        await drive(app, {"type": "lifespan", "asgi": {"version": "3.0"}}, life)


def test_options_are_keyword_only() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError

    with pytest.raises(TypeError):
        FriendlyErrorsMiddleware(app, True)  # type: ignore[call-arg]


async def test_concurrent_requests_share_no_state() -> None:
    """A 503 held back while a 200 passes through on the same middleware: neither sees the other."""
    release = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        status = 503 if scope["path"] == "/slow" else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        if status == 503:
            await release.wait()
        await send({"type": "http.response.body", "body": b"done"})

    middleware = FriendlyErrorsMiddleware(app)
    slow, fast = Server(), Server()
    slow_task = asyncio.ensure_future(drive(middleware, http_scope("/slow"), slow))
    await asyncio.sleep(0)
    await drive(middleware, http_scope("/fast"), fast)
    release.set()
    await slow_task
    assert (fast.starts[0]["status"], fast.body) == (200, b"done")
    assert slow.starts[0]["status"] == 503
    assert slow.body != b"done"
    # Options and the maintenance switch only; nothing about a request.
    assert set(vars(middleware)) == {"app", "handler", "maintenance", "_switch"}


# -- framework exception handlers ----------------------------------------------------------------


class OutOfStock(Exception):
    pass


@pytest.mark.parametrize("flavour", ["starlette", "fastapi"])
async def test_exception_handlers_inside_run_and_catch_all_handlers_outside_do_not(
    flavour: str,
) -> None:
    """What docs/asgi.md says about add_exception_handler, as a user would meet it."""
    calls: list[str] = []

    async def catch_all(request: Request, exc: Exception) -> Response:
        calls.append("catch-all")
        return Response("catch-all page", 500)

    async def out_of_stock(request: Request, exc: Exception) -> Response:
        calls.append("out-of-stock")
        return JSONResponse({"detail": "Out of stock"}, 503)

    routes = {
        "/crash": Behaviour(raises=RuntimeError("crash")),
        "/stock": Behaviour(raises=OutOfStock()),
    }
    app: Starlette = starlette_app(routes) if flavour == "starlette" else fastapi_app(routes)
    app.add_exception_handler(Exception, catch_all)
    app.add_exception_handler(OutOfStock, out_of_stock)
    app.add_middleware(FriendlyErrorsMiddleware)
    crash = await get(app, "/crash", JSON)
    stock = await get(app, "/stock", JSON)
    assert crash.status_code == 500
    assert crash.json()["title"] == "Internal Server Error"
    assert (stock.status_code, stock.json()["detail"]) == (503, "Out of stock")
    # The exception goes on past our page to Starlette's ServerErrorMiddleware, which calls the
    # catch-all handler but sends nothing, since a response already went out.
    assert calls == ["catch-all", "out-of-stock"]


async def test_a_pathological_json_body_still_gets_its_page() -> None:
    nested = b"[" * 4000 + b"]" * 4000
    app = build("raw", {"/": Behaviour(503, nested, "application/json")})
    response = await get(app, "/", JSON)
    assert response.status_code == 503
    assert response.json()["detail"] == DEFAULT_503_DETAIL


@pytest.mark.parametrize("kind", [list, iter], ids=["list", "iterator"])
async def test_repeated_request_headers_reach_the_hook_combined(
    kind: Callable[[list[tuple[bytes, bytes]]], Iterable[tuple[bytes, bytes]]],
) -> None:
    hook = Hook()
    app = FriendlyErrorsMiddleware(raw_app({"/": Behaviour(503)}), on_error=hook)
    scope = http_scope(headers=[(b"accept", b"text/html"), (b"X-Tag", b"a"), (b"x-tag", b"b")])
    scope["headers"] = kind(scope["headers"])  # ASGI allows any iterable
    server = await drive(app, scope)
    assert server.starts[0]["status"] == 503
    (event,) = hook.events
    assert dict(event.request.headers) == {"accept": "text/html", "x-tag": "a, b"}


async def test_each_page_gets_its_own_headers_over_many_errors() -> None:
    for i in range(300):
        routes = {"/": Behaviour(503, headers=[("Set-Cookie", f"s={i}")])}
        app = FriendlyErrorsMiddleware(raw_app(routes))
        server = await drive(app, http_scope(headers=[(b"accept", b"text/html")]))
        assert server.header(b"set-cookie") == [f"s={i}".encode()]


# -- #11: wrapped from outside, installed twice, bad statuses, Litestar ---------------------------


@pytest.mark.parametrize("debug", [False, True])
async def test_a_whole_starlette_app_wrapped_from_outside_keeps_its_exception(debug: bool) -> None:
    """Starlette's ServerErrorMiddleware inside sends a plain 500 and then re-raises: the 500 is
    held until the app raises, so the page, the hook and the server all get the exception."""
    hook = Hook()
    error = RuntimeError("deep-inside")
    app = FriendlyErrorsMiddleware(
        starlette_app({"/": Behaviour(raises=error)}), debug=debug, on_error=hook
    )
    server, raised = await drive_failing(app, http_scope(headers=[(b"accept", b"text/plain")]))
    assert raised is error
    assert [m["status"] for m in server.starts] == [500]
    assert (b"RuntimeError: deep-inside" in server.body) is debug
    assert b"Internal Server Error\n" != server.body  # ours, not Starlette's plain text
    (event,) = hook.events
    assert event.exception is error
    (request_id,) = server.header(b"x-request-id")
    assert event.request_id == request_id.decode()


async def test_a_held_500_is_still_answered_when_the_app_returns() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 500, "headers": []})
        await send({"type": "http.response.body", "body": b"plain"})

    server = await drive(FriendlyErrorsMiddleware(app))
    assert [m["status"] for m in server.starts] == [500]
    assert b"plain" != server.body


@pytest.mark.parametrize("fails", ["raises", "returns-503"])
async def test_installed_twice_one_page_one_id_one_hook_call(fails: str) -> None:
    """Around a sub-app and again around the whole app: the outer instance passes the inner
    one's page on untouched (#11)."""
    inner_hook, outer_hook = Hook(), Hook()
    spec = Behaviour(raises=RuntimeError("once")) if fails == "raises" else Behaviour(503)
    inner = FriendlyErrorsMiddleware(raw_app({"/": spec}), on_error=inner_hook)
    outer = FriendlyErrorsMiddleware(inner, on_error=outer_hook, site_name="Outer")
    scope = http_scope(headers=[(b"accept", b"application/json")])
    if fails == "raises":
        server, _ = await drive_failing(outer, scope)
    else:
        server = await drive(outer, scope)
    assert len(server.starts) == 1
    (request_id,) = server.header(b"x-request-id")
    assert json.loads(server.body)["request_id"] == request_id.decode()
    assert [e.request_id for e in inner_hook.events] == [request_id.decode()]
    assert outer_hook.events == []


@pytest.mark.parametrize(
    ("status", "expected"),
    [(503, 503), (503.0, 500), ("503", "503"), (True, True), (1000, 1000)],
    ids=["int", "float", "str", "bool", "out-of-range"],
)
async def test_a_bad_status_from_the_app_is_logged_and_answered_500(
    status: Any, expected: int, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/plain"), (b"x-app", b"own")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"Back soon"})

    server = await drive(FriendlyErrorsMiddleware(app))
    if expected == status:
        # Not equal to an intercepted code, so never looked at (the pass-through path pays for
        # one set lookup and no more): it goes on to the server as sent, which refuses it.
        assert server.starts[0]["status"] == status
        return
    assert [m["status"] for m in server.starts] == [expected]
    records = [r for r in caplog.records if r.name == LOGGER]
    if expected == 500:
        (record,) = records
        assert record.getMessage() == (
            f"The app sent an invalid HTTP status {status!r}; answered 500 instead"
        )
        assert record.exc_info is None  # never a traceback from our internals
        assert server.header(b"x-app") == []
    else:
        assert records == []


@litestar_get("/")
async def litestar_busy() -> LitestarResponse[str]:
    return LitestarResponse("busy", status_code=503, media_type="text/plain")


async def test_litestar_builds_the_middleware_by_keyword() -> None:
    """Litestar constructs middleware as cls(app=app, **kwargs) (#11)."""
    for middleware in (
        DefineMiddleware(FriendlyErrorsMiddleware, site_name="Lite"),
        FriendlyErrorsMiddleware,
    ):
        app = Litestar(route_handlers=[litestar_busy], middleware=[middleware])
        response = await get(app, "/", HTML)  # type: ignore[arg-type]  # Litestar's own types
        assert response.status_code == 503
        assert "<!doctype html>" in response.text
        assert ("Lite" in response.text) is isinstance(middleware, DefineMiddleware)


def test_the_app_is_required() -> None:
    with pytest.raises(TypeError, match="needs the ASGI app"):
        FriendlyErrorsMiddleware(site_name="X")


# -- the documented order: CORS, GZip, ours, then the user's own middleware (#11) ---------------


class Unavailable(Exception):
    pass


async def _maps_exceptions(request: Request, call_next: Any) -> Response:
    """A user's exception-mapping middleware, as Starlette's docs write one."""
    try:
        response: Response = await call_next(request)
    except Unavailable:
        return JSONResponse({"detail": "mapped by the app"}, 400)
    return response


def _documented_order(flavour: str) -> App:
    routes = {
        "/mapped": Behaviour(raises=Unavailable()),
        "/crash": Behaviour(raises=RuntimeError("crash")),
    }
    cors = Middleware(CORSMiddleware, allow_origins=["https://app.example"])
    if flavour == "starlette":
        return starlette_app(
            routes,
            [
                cors,
                Middleware(GZipMiddleware),
                Middleware(FriendlyErrorsMiddleware),
                Middleware(BaseHTTPMiddleware, dispatch=_maps_exceptions),
            ],
        )
    app = fastapi_app(routes)
    # Decorated functions are added when their module runs, before the lines below.
    app.middleware("http")(_maps_exceptions)
    app.add_middleware(FriendlyErrorsMiddleware)
    app.add_middleware(GZipMiddleware)
    app.add_middleware(CORSMiddleware, allow_origins=["https://app.example"])
    return app


@pytest.mark.parametrize("flavour", ["starlette", "fastapi"])
async def test_the_documented_order_keeps_exception_mapping_and_cors(flavour: str) -> None:
    app = _documented_order(flavour)
    origin = {"accept": "application/json", "origin": "https://app.example"}
    mapped = await get(app, "/mapped", origin)
    assert (mapped.status_code, mapped.json()) == (400, {"detail": "mapped by the app"})
    crash = await get(app, "/crash", origin)
    assert crash.status_code == 500
    assert crash.json()["title"] == "Internal Server Error"
    assert crash.headers["access-control-allow-origin"] == "https://app.example"


# -- memory --------------------------------------------------------------------------------------


@pytest.mark.timeout(600)  # each middleware compiles the built-in page's template when it is built
async def test_dropped_middlewares_are_freed_without_the_garbage_collector() -> None:
    """1,000 middlewares, each having served a 200, a replaced 503 and an exception, then dropped.

    Nothing of a request may keep its middleware alive: no cycle through the responder, the memo,
    the exception that went on to the server or its traceback. The collector is off throughout and
    never run, so a reference cycle would leave its middleware alive; the control shows it would.
    """

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/raise":
            raise RuntimeError("boom")  # a new exception each time: a reused one keeps its frames
        status = 503 if scope["path"] == "/503" else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"busy"})

    headers = [(b"accept", b"text/html")]
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        control = FriendlyErrorsMiddleware(app)
        cycle: dict[str, Any] = {"middleware": control}
        cycle["self"] = cycle
        control_ref = weakref.ref(control)
        del control, cycle
        refs = []
        for _ in range(1_000):
            middleware = FriendlyErrorsMiddleware(app)
            passed = await drive(middleware, http_scope("/", headers=headers))
            replaced = await drive(middleware, http_scope("/503", headers=headers))
            failed = Server()
            try:
                await middleware(http_scope("/raise", headers=headers), failed.receive, failed.send)
            except RuntimeError:
                pass
            assert [s.starts[0]["status"] for s in (passed, replaced, failed)] == [200, 503, 500]
            refs.append(weakref.ref(middleware))
            del middleware, passed, replaced, failed
        alive = sum(ref() is not None for ref in refs)
        assert control_ref() is not None  # a cycle does keep a middleware alive here
    finally:
        if was_enabled:
            gc.enable()
    assert alive == 0
