"""A repeated error is answered from a prepared response: it must be the very response a full render
gives, for both middlewares, whatever the request.

The reference is a second middleware over the same app with the memos switched off
(``renderer._memo_limit = 0``), which renders every response in full. The clock is frozen so that both
show the same second; request IDs are supplied by the client where bytes are compared, and swapped
for a placeholder where each side made up its own.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder

from friendly_errors.asgi import FriendlyErrorsMiddleware
from friendly_errors.catalogue import Catalogue
from friendly_errors.core import ErrorEvent
from friendly_errors.wsgi import FriendlyErrorsWSGIMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

Headers = list[tuple[str, str]]
Response = tuple[int, Headers, bytes]
NOW = 1_790_000_000.25


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A frozen time.time; the test moves it by changing ``clock[0]``."""
    now = [NOW]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


# -- the apps and how they are called ------------------------------------------------------------


def asgi_app(status: int, headers: Headers, body: bytes) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raw = [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    return app


def wsgi_app(status: int, headers: Headers, body: bytes) -> Any:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response(f"{status} WHATEVER", list(headers))
        return [body]

    return app


def call_asgi(
    app: Any, method: str, path: str, query: bytes, headers: list[tuple[bytes, Any]]
) -> Response:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start, *bodies = sent
    decoded = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in start["headers"]]
    return start["status"], decoded, b"".join(m.get("body", b"") for m in bodies)


def call_wsgi(
    app: Any, method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]]
) -> Response:
    environ = EnvironBuilder(method=method, path="/").get_environ()
    environ["PATH_INFO"] = path.encode("utf-8", "surrogateescape").decode("latin-1")
    environ["QUERY_STRING"] = query.decode("latin-1")
    for name, value in headers:
        key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
        text = value.decode("latin-1")
        environ[key] = f"{environ[key]}, {text}" if key in environ else text  # as servers combine
    return run_environ(app, environ)


def run_environ(app: Any, environ: WSGIEnvironment) -> Response:
    started: list[tuple[str, Headers]] = []

    def start_response(status: str, response_headers: Headers, exc_info: Any = None) -> Any:
        started.append((status, response_headers))
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, response_headers = started[-1]
    return int(status[:3]), response_headers, body


PROTOCOLS = {
    "asgi": (FriendlyErrorsMiddleware, asgi_app, call_asgi),
    "wsgi": (FriendlyErrorsWSGIMiddleware, wsgi_app, call_wsgi),
}


def pair(protocol: str, status: int, headers: Headers, body: bytes, **options: Any) -> Any:
    """The middleware under test and its reference, which renders everything in full."""
    middleware, make_app, _ = PROTOCOLS[protocol]
    fast = middleware(make_app(status, headers, body), **options)
    full = middleware(make_app(status, headers, body), **options)
    full.handler.renderer._memo_limit = 0
    return fast, full


def hdr(headers: Headers) -> dict[str, str]:
    """Headers by lower-case name: ASGI sends them in lower case, WSGI as the core spells them."""
    return {name.lower(): value for name, value in headers}


_NEW_ID = re.compile(rb"[0-9a-f]{32}")


def without_id(response: Response) -> Response:
    """The response with the request ID the middleware made up (one per response) as a placeholder.

    The X-Request-ID header names it; without that header (switched off), it is the only run of 32
    hex digits a page holds. Content-Length may differ by the IDs' lengths: it is left out.
    """
    status, headers, body = response
    found = [v for n, v in headers if n.lower() == "x-request-id"]
    if found:
        (rid,) = found
        body = body.replace(rid.encode(), b"ID")
    else:
        body = _NEW_ID.sub(b"ID", body)
    headers = [
        (n.lower(), "ID" if n.lower() == "x-request-id" else v)
        for n, v in headers
        if n.lower() != "content-length"
    ]
    return status, headers, body


def assert_same(response: Response, reference: Response, client_id: str | None) -> None:
    if client_id is not None and len(client_id) >= 16 and " " not in client_id:
        assert response == reference  # a valid ID the client chose: every byte must agree
    else:
        assert without_id(response) == without_id(reference)


# -- the property --------------------------------------------------------------------------------

STATUSES = st.sampled_from([500, 502, 503, 504, 520, 524, 599])
ACCEPTS = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "application/json",
            "application/problem+json",
            "application/xml",
            "text/plain",
            "*/*",
            "text/html;q=0, */*;q=0.1",
        ]
    ),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
)
LANGUAGES = st.one_of(
    st.none(), st.sampled_from(["en", "fr", "fr-CH, fr;q=0.9", "*", "de;q=0", "fr;q=0, en"])
)
REQUEST_IDS = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "0123456789abcdef0123456789abcdef",  # plain, the usual length
            "abc-DEF_123.456-7890",  # plain, 20 characters
            "short-id",  # too short to prepare, still valid
            "a:b@c+d=e/f-0123456789",  # valid, but percent-encoded in an instance URI
            "bad id with spaces",  # invalid: a new one is made
        ]
    ),
)
PATHS = st.text(st.characters(exclude_categories=["Cs"]), max_size=20).map(lambda s: "/" + s)
APP_RESPONSES: list[tuple[Headers, bytes]] = [
    ([("Content-Type", "application/json")], b'{"detail": "Database is down"}'),
    ([("Content-Type", "application/json")], b'{"detail": "Cache is down"}'),
    ([("Content-Type", "text/plain"), ("Retry-After", "30")], b"Back soon"),
    ([("Content-Type", "text/html"), ("Set-Cookie", "a=1"), ("Vary", "Cookie")], b"<p>x"),
    ([("Content-Type", "application/problem+json")], b'{"title": "Own"}'),
    ([("Content-Type", "text/plain"), ("Content-Encoding", "gzip")], b"\x1f\x8b..."),
    ([("Access-Control-Allow-Origin", "*")], b""),
]
# French text for two of the codes, so that Accept-Language changes some responses.
FRENCH = Catalogue.default().extend(
    {503: {"title": "Service indisponible"}, 500: {"title": "Erreur interne du serveur"}},
    locale="fr",
)
# A user template that prints every per-request value verbatim, the query among them.
TEMPLATES = Path(__file__).parent / "data" / "verbatim_templates"
OPTIONS: list[dict[str, Any]] = [
    {"catalogue": FRENCH},
    {"catalogue": FRENCH, "template_dirs": [TEMPLATES]},
    {"problem_instance": "urn:request:{request_id}"},
    {"request_id_response_header": None},
]


def chosen_asgi_app() -> Any:
    """Answers with the status and the response the request's X-Status and X-App headers name."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        asked = dict(scope["headers"])
        headers, body = APP_RESPONSES[int(asked[b"x-app"])]
        raw = [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers]
        status = int(asked[b"x-status"])
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    return app


def chosen_wsgi_app() -> Any:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        headers, body = APP_RESPONSES[int(environ["HTTP_X_APP"])]
        start_response(f"{environ['HTTP_X_STATUS']} WHATEVER", list(headers))
        return [body]

    return app


# One pair per protocol and options for every example: the memo fills up across examples (the clock
# never moves), so a key that left out an input would hand one example another's response.
_SHARED: dict[tuple[str, int], tuple[Any, Any]] = {}


def shared_pair(protocol: str, options: int) -> tuple[Any, Any]:
    found = _SHARED.get((protocol, options))
    if found is None:
        middleware = PROTOCOLS[protocol][0]
        app = chosen_asgi_app() if protocol == "asgi" else chosen_wsgi_app()
        fast, full = middleware(app, **OPTIONS[options]), middleware(app, **OPTIONS[options])
        full.handler.renderer._memo_limit = 0
        found = _SHARED[(protocol, options)] = (fast, full)
    return found


@dataclass(frozen=True)
class Request:
    status: int
    method: str
    path: str
    query: bytes
    accept: str | None
    language: str | None
    xhr: bool
    request_id: str | None
    app_response: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"host", b"example.test"),
            (b"x-status", str(self.status).encode()),
            (b"x-app", str(self.app_response).encode()),
        ]
        if self.accept is not None:
            headers.append((b"accept", self.accept.encode()))
        if self.language is not None:
            headers.append((b"accept-language", self.language.encode()))
        if self.xhr:
            headers.append((b"x-requested-with", b"XMLHttpRequest"))
        if self.request_id is not None:
            headers.append((b"x-request-id", self.request_id.encode()))
        return headers


REQUESTS = st.builds(
    Request,
    status=STATUSES,
    method=st.sampled_from(["GET", "POST", "DELETE", "HEAD"]),
    path=st.one_of(st.sampled_from(["/", "/a", "/b"]), PATHS),
    query=st.one_of(st.just(b""), st.binary(max_size=12).map(lambda b: b.replace(b"#", b""))),
    accept=ACCEPTS,
    language=LANGUAGES,
    xhr=st.booleans(),
    request_id=REQUEST_IDS,
    app_response=st.integers(0, len(APP_RESPONSES) - 1),
)


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(base=REQUESTS, other=REQUESTS, options=st.integers(0, len(OPTIONS) - 1))
def test_a_repeated_error_gets_the_response_a_full_render_gives(
    clock: list[float], protocol: str, base: Request, other: Request, options: int
) -> None:
    # The base request, then its neighbours, each with one input taken from the other request: a
    # memo key that missed an input would answer a neighbour with the base's response.
    requests = [base] + [
        replace(base, **{name: getattr(other, name)})
        for name in Request.__dataclass_fields__
        if getattr(other, name) != getattr(base, name)
    ]
    fast, full = shared_pair(protocol, options)
    call = PROTOCOLS[protocol][2]
    for request in requests:
        args = (request.method, request.path, request.query, request.headers())
        reference = call(full, *args)
        first = call(fast, *args)
        again = call(fast, *args)  # from the memo, when it can be
        assert_same(first, reference, request.request_id)
        assert_same(again, reference, request.request_id)


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
@pytest.mark.parametrize("options", range(len(OPTIONS)))
def test_every_input_is_part_of_the_key(clock: list[float], protocol: str, options: int) -> None:
    # Requests that differ from the first in one input each, all in the same second.
    base = Request(503, "GET", "/k", b"q=1", "text/html", "fr", False, None, 3)
    changes: dict[str, list[Any]] = {
        "status": [500, 502, 524],
        "method": ["POST", "DELETE"],
        "path": ["/k2", "/K"],
        "query": [b"q=2", b""],
        "accept": ["application/json", "application/xml", "text/plain", None],
        "language": ["en", None],
        "xhr": [True],
        "request_id": ["0123456789abcdef0123456789abcdef", "abc-DEF_123.456-7890"],
        "app_response": list(range(len(APP_RESPONSES))),
    }
    fast, full = shared_pair(protocol, options)
    call = PROTOCOLS[protocol][2]
    requests = [base] + [
        replace(base, **{name: value}) for name, values in changes.items() for value in values
    ]
    # Without an Accept, X-Requested-With decides the format.
    bare = replace(base, accept=None)
    requests += [bare, replace(bare, xhr=True)]
    for request in requests + requests[::-1]:
        args = (request.method, request.path, request.query, request.headers())
        assert_same(call(fast, *args), call(full, *args), request.request_id)


def count_renders(middleware: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one each time the middleware's renderer renders."""
    renders: list[int] = []
    render = middleware.handler.renderer.render

    def counted(*args: Any, **kwargs: Any) -> Any:
        renders.append(1)
        return render(*args, **kwargs)

    monkeypatch.setattr(middleware.handler.renderer, "render", counted)
    return renders


# -- what the memo may and may not do ------------------------------------------------------------

PAGE_HEADERS: list[tuple[bytes, bytes]] = [(b"accept", b"text/html")]


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_the_page_is_rendered_once_a_second(
    clock: list[float], protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, _ = pair(protocol, 503, [("Content-Type", "text/plain")], b"")
    call = PROTOCOLS[protocol][2]
    renders = count_renders(fast, monkeypatch)
    pages = [call(fast, "GET", "/x", b"", PAGE_HEADERS) for _ in range(3)]
    assert len(renders) == 1
    ids = {hdr(headers)["x-request-id"] for _, headers, _ in pages}
    assert len(ids) == 3  # a fresh ID each time, each on its own page
    for _, headers, body in pages:
        assert hdr(headers)["x-request-id"].encode() in body
        assert int(hdr(headers)["content-length"]) == len(body)
        assert b"2026-09-21T14:13:20Z" in body
    clock[0] += 1
    _, _, body = call(fast, "GET", "/x", b"", PAGE_HEADERS)
    assert len(renders) == 2
    assert b"2026-09-21T14:13:21Z" in body


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_request_ids_of_other_lengths_fill_the_same_page(clock: list[float], protocol: str) -> None:
    fast, full = pair(protocol, 502, [], b"")
    call = PROTOCOLS[protocol][2]
    for rid in (b"a" * 16, b"B-" * 20, b"0123456789abcdef0123456789abcdef", b"c" * 128):
        headers = [*PAGE_HEADERS, (b"x-request-id", rid)]
        response = call(fast, "GET", "/y", b"", headers)
        assert response == call(full, "GET", "/y", b"", headers)
        assert hdr(response[1])["x-request-id"] == rid.decode()


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_a_template_that_transforms_the_request_id_is_rendered_each_time(
    clock: list[float], protocol: str, tmp_path: Path
) -> None:
    (tmp_path / "error.html").write_text("<p>{{ request_id|reverse }}</p>\n")
    fast, _ = pair(protocol, 503, [], b"", template_dirs=[tmp_path])
    call = PROTOCOLS[protocol][2]
    for _ in range(3):
        _, headers, body = call(fast, "GET", "/z", b"", PAGE_HEADERS)
        rid = hdr(headers)["x-request-id"]
        assert body == f"<p>{rid[::-1]}</p>".encode()


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_the_hook_hears_of_every_repeat(clock: list[float], protocol: str) -> None:
    events: list[ErrorEvent] = []
    fast, _ = pair(protocol, 504, [("Content-Type", "text/plain")], b"", on_error=events.append)
    call = PROTOCOLS[protocol][2]
    ids = [
        hdr(call(fast, "POST", "/hook", b"a=1", PAGE_HEADERS)[1])["x-request-id"] for _ in range(3)
    ]
    assert [e.request_id for e in events] == ids
    assert {(e.status, e.request.method, e.request.path, e.request.query) for e in events} == {
        (504, "POST", "/hook", "a=1")
    }
    assert all(e.request.headers.get("accept") == "text/html" for e in events)


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_head_gets_the_get_length_and_no_body(clock: list[float], protocol: str) -> None:
    fast, _ = pair(protocol, 503, [], b"")
    call = PROTOCOLS[protocol][2]
    headers = [*PAGE_HEADERS, (b"x-request-id", b"0123456789abcdef0123456789abcdef")]
    get_body = call(fast, "GET", "/h", b"", headers)[2]
    for _ in range(2):
        _, head_headers, head_body = call(fast, "HEAD", "/h", b"", headers)
        assert head_body == b""
        assert hdr(head_headers)["content-length"] == str(len(get_body))


def test_asgi_header_names_out_of_spec_are_still_read(clock: list[float]) -> None:
    # The ASGI spec wants lower-case names; a server that sends others still gets the right format.
    fast, full = pair("asgi", 503, [], b"")
    headers = [(b"Accept", b"application/json"), (b"X-Request-ID", b"0123456789abcdef")]
    for _ in range(2):
        response = call_asgi(fast, "GET", "/c", b"", headers)
        assert response == call_asgi(full, "GET", "/c", b"", headers)
        assert json.loads(response[2])["request_id"] == "0123456789abcdef"


def test_asgi_repeated_request_id_headers_read_as_the_full_path_reads_them(
    clock: list[float],
) -> None:
    fast, full = pair("asgi", 503, [], b"")
    headers = [
        (b"accept", b"application/json"),
        (b"x-request-id", b"0123456789abcdef"),
        (b"x-request-id", b"fedcba9876543210"),
        (b"x-correlation-id", b"corr-0123456789abc"),
    ]
    for _ in range(2):
        response = call_asgi(fast, "GET", "/d", b"", headers)
        assert response == call_asgi(full, "GET", "/d", b"", headers)
        # Combined, the two X-Request-IDs are no valid ID; the correlation ID is next in line.
        assert json.loads(response[2])["request_id"] == "corr-0123456789abc"


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_the_memo_stays_bounded(clock: list[float], protocol: str) -> None:
    fast, _ = pair(protocol, 503, [], b"")
    call = PROTOCOLS[protocol][2]
    for number in range(300):
        call(fast, "GET", f"/many/{number}", b"", PAGE_HEADERS)
    assert 0 < len(fast.handler._prepared) <= 256
    before = dict(fast.handler._prepared)
    _, headers, body = call(fast, "GET", "/" + "l" * 3000, b"", PAGE_HEADERS)
    assert hdr(headers)["x-request-id"].encode() in body
    # Long inputs, which a client may vary at will, are answered but not kept.
    assert fast.handler._prepared.keys() <= before.keys() | set()
    assert not any(len(str(key)) > 3000 for key in fast.handler._prepared)


def _pages(call: Callable[..., Response], app: Any, n: int) -> Iterator[bytes]:
    for _ in range(n):
        yield call(app, "GET", "/p", b"", PAGE_HEADERS)[2]


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_pages_differ_only_in_their_request_id(clock: list[float], protocol: str) -> None:
    fast, _ = pair(protocol, 524, [("Content-Type", "application/json")], b'{"detail":"slow"}')
    call = PROTOCOLS[protocol][2]
    ids = re.compile(rb"[0-9a-f]{32}")
    pages = list(_pages(call, fast, 3))
    assert len({ids.sub(b"ID", page) for page in pages}) == 1
    assert len(set(pages)) == 3
    assert b"slow" in pages[0]


def test_asgi_lists_and_odd_values_take_the_full_path(clock: list[float]) -> None:
    # [name, value] lists in the app's start and a bytearray in the scope: fine by the ASGI spec,
    # not hashable. Both middlewares must still agree.
    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        headers = [[b"content-type", b"application/json"]]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"detail": "listed"}'})

    fast = FriendlyErrorsMiddleware(app)
    full = FriendlyErrorsMiddleware(app)
    full.handler.renderer._memo_limit = 0
    variants: list[list[tuple[bytes, Any]]] = [
        [(b"accept", b"application/json"), (b"x-request-id", b"0123456789abcdef")],
        [(b"accept", bytearray(b"application/json")), (b"x-request-id", b"0123456789abcdef")],
    ]
    for headers in variants:
        for _ in range(2):
            response = call_asgi(fast, "GET", "/l", b"", headers)
            assert response == call_asgi(full, "GET", "/l", b"", headers)
            assert json.loads(response[2])["detail"] == "listed"


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_a_request_id_header_that_is_also_negotiated_takes_the_full_path(
    clock: list[float], protocol: str
) -> None:
    fast, full = pair(protocol, 503, [], b"", request_id_headers=["Accept", "X-Request-ID"])
    call = PROTOCOLS[protocol][2]
    headers = [(b"accept", b"application/json"), (b"x-request-id", b"0123456789abcdef")]
    for _ in range(2):
        response = call(fast, "GET", "/o", b"", headers)
        assert without_id(response) == without_id(call(full, "GET", "/o", b"", headers))
        assert json.loads(response[2])["title"] == "Service Unavailable"


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_a_template_that_fails_is_logged_once_per_response(
    clock: list[float], protocol: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "503.html").write_text("{{ 1 / 0 }}")
    fast, _ = pair(protocol, 503, [], b"", template_dirs=[tmp_path])
    call = PROTOCOLS[protocol][2]
    with caplog.at_level(logging.ERROR, logger="friendly_errors"):
        responses = [call(fast, "GET", "/f", b"", PAGE_HEADERS) for _ in range(3)]
    failures = [r for r in caplog.records if "could not render" in r.getMessage()]
    assert len(failures) == 3
    for status, headers, body in responses:
        assert status == 503
        assert b"The full error page could not be shown." in body
        assert hdr(headers)["content-length"] == str(len(body))
        assert len(hdr(headers)["x-request-id"]) == 32
    assert len({hdr(headers)["x-request-id"] for _, headers, _ in responses}) == 3


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
@pytest.mark.parametrize("length", [64, 66, 67, 100, 128])
def test_long_request_ids_reach_the_text_page_whole(
    clock: list[float], protocol: str, length: int
) -> None:
    # The text format cuts lines at 80 columns: an ID that does not fit next to its label is cut
    # too, and must never leave the stand-in in its place.
    fast, full = pair(protocol, 503, [], b"")
    call = PROTOCOLS[protocol][2]
    rid = ("b1" * 64)[:length].encode()
    headers = [(b"accept", b"text/plain"), (b"x-request-id", rid)]
    for _ in range(2):
        response = call(fast, "GET", "/t", b"", headers)
        assert response == call(full, "GET", "/t", b"", headers)
    assert fast.handler._stand_in[:8].encode() not in response[2]


def test_asgi_miscased_names_never_steer_another_request(clock: list[float]) -> None:
    # Servers should send lower-case names; one that does not must not get a French page (or
    # its own request ID) served to the next visitor, who asked for neither.
    fast, full = pair("asgi", 503, [], b"", catalogue=FRENCH)
    requests = [
        [(b"accept", b"text/html"), (b"Accept-language", b"fr")],
        [(b"accept", b"text/html")],
        [(b"Accept", b"application/json"), (b"X-Request-ID", b"client-chosen-id-0001")],
        [(b"accept", b"text/html"), (b"X-Correlation-ID", b"client-chosen-id-0002")],
        [(b"accept", b"text/html")],
    ]
    for headers in requests:
        assert without_id(call_asgi(fast, "GET", "/m", b"", headers)) == without_id(
            call_asgi(full, "GET", "/m", b"", headers)
        )
    _, response_headers, body = call_asgi(fast, "GET", "/m", b"", requests[2])
    assert hdr(response_headers)["x-request-id"] == "client-chosen-id-0001"
    assert json.loads(body)["request_id"] == "client-chosen-id-0001"


# Odd but seen in the wild: [name, value] lists, and values that are not strings, in a header the
# core drops and in one it keeps.
@pytest.mark.parametrize(
    "app_headers",
    [
        [["Content-Type", "text/plain"]],
        [("Content-Type", "text/plain"), ("X-Attempts", 3)],
        [("Content-Type", "text/plain"), ("Allow", 5)],
    ],
    ids=["lists", "int-dropped", "int-kept"],
)
def test_wsgi_odd_response_headers_get_the_page_the_full_path_gives(
    clock: list[float], app_headers: list[Any]
) -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("503 Busy", app_headers)
        return [b"Queue full"]

    fast = FriendlyErrorsWSGIMiddleware(app)
    full = FriendlyErrorsWSGIMiddleware(app)
    full.handler.renderer._memo_limit = 0
    headers = [(b"accept", b"text/plain"), (b"x-request-id", b"0123456789abcdef")]
    for _ in range(2):
        response = call_wsgi(fast, "GET", "/v", b"", headers)
        assert response == call_wsgi(full, "GET", "/v", b"", headers)
        assert response[0] == 503
        assert b"Queue full" in response[2]


def body_from_request(protocol: str) -> Any:
    """An app that answers 503 in plain text with the body its request's X-Body header gives."""

    async def asgi(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": dict(scope["headers"])[b"x-body"]})

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("503 Busy", [("Content-Type", "text/plain")])
        return [environ["HTTP_X_BODY"].encode("latin-1")]

    return asgi if protocol == "asgi" else wsgi


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_a_style_with_the_request_id_on_a_rarer_branch_keeps_its_csp_true(
    clock: list[float], protocol: str, tmp_path: Path
) -> None:
    # The double render checks the branch a short detail takes; a long detail puts the ID in a
    # <style>, whose hash the CSP pins. The page served must match its own CSP.
    (tmp_path / "503.html").write_text(
        "<p>{{ request_id }}</p>{% if detail|length > 200 %}"
        "<style>/* {{ request_id }} */</style>{% endif %}"
    )
    middleware, _, call = PROTOCOLS[protocol]
    fast = middleware(body_from_request(protocol), template_dirs=[tmp_path])
    full = middleware(body_from_request(protocol), template_dirs=[tmp_path])
    full.handler.renderer._memo_limit = 0
    for body in (b"Short and sweet", b"L" * 300):
        asked = [*PAGE_HEADERS, (b"x-body", body), (b"x-request-id", b"0123456789abcdef")]
        response = call(fast, "GET", "/s", b"", asked)
        assert response == call(full, "GET", "/s", b"", asked)
    _, headers, page = response
    style = re.search(rb"<style>(.*?)</style>", page)
    assert style is not None and b"0123456789abcdef" in style.group(1)
    digest = base64.b64encode(hashlib.sha256(style.group(1)).digest()).decode()
    assert f"'sha256-{digest}'" in hdr(headers)["content-security-policy"]


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_long_inputs_are_rendered_once_per_request(
    clock: list[float], protocol: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "error.html").write_text("<p>{{ request_id|reverse }}</p>")
    for dirs in ([], [tmp_path]):  # repeatable output, and output that is not
        fast, _ = pair(protocol, 503, [], b"", template_dirs=dirs)
        call = PROTOCOLS[protocol][2]
        renders = count_renders(fast, monkeypatch)
        for _ in range(3):
            call(fast, "GET", "/" + "x" * 3000, b"", PAGE_HEADERS)
        assert len(renders) == 3


def test_wsgi_environ_keys_cgi_would_spell_otherwise_never_steer_another_request(
    clock: list[float],
) -> None:
    fast, full = pair("wsgi", 503, [], b"", catalogue=FRENCH)
    plain = EnvironBuilder(method="GET", path="/e", headers=[("Accept", "text/html")]).get_environ()
    odd = dict(plain, HTTP_Accept_Language="fr")
    for environ in (odd, plain, dict(plain, HTTP_X_Request_Id="client-chosen-id-0001"), plain):
        assert without_id(run_environ(fast, dict(environ))) == without_id(
            run_environ(full, dict(environ))
        )


def test_asgi_a_miscased_name_that_is_not_ours_keeps_the_fast_path(
    clock: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, full = pair("asgi", 503, [], b"")
    renders = count_renders(fast, monkeypatch)
    headers = [(b"accept", b"text/html"), (b"User-Agent", b"curl/8")]
    for _ in range(3):
        assert without_id(call_asgi(fast, "GET", "/u", b"", headers)) == without_id(
            call_asgi(full, "GET", "/u", b"", headers)
        )
    assert len(renders) == 1


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_a_template_that_computes_from_the_request_id_sees_the_real_one(
    clock: list[float],
    protocol: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Not verbatim, so never prepared; and never rendered with anything but the request's own ID,
    # which such a template may depend on. One render per request.
    (tmp_path / "error.html").write_text('<p>shard {{ request_id.split("-")[1] }}</p>')
    fast, _ = pair(protocol, 503, [], b"", template_dirs=[tmp_path])
    call = PROTOCOLS[protocol][2]
    renders = count_renders(fast, monkeypatch)
    headers = [*PAGE_HEADERS, (b"x-request-id", b"acme-eu1-0123456789abcdef")]
    with caplog.at_level(logging.ERROR, logger="friendly_errors"):
        for number in range(5):
            for _ in range(2):
                assert (
                    call(fast, "GET", f"/orders/{number}", b"", headers)[2] == b"<p>shard eu1</p>"
                )
    assert caplog.records == []
    assert len(renders) == 10


def test_asgi_a_status_that_is_not_an_int_is_treated_as_before(clock: list[float]) -> None:
    # The ASGI spec wants an int; 503.0 == 503 must not find the int's memo entries.
    def app(status: object) -> Any:
        async def send_status(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        return send_status

    outcomes: list[object] = []
    for memo in (True, False):
        middleware = FriendlyErrorsMiddleware(app(503))
        odd = FriendlyErrorsMiddleware(app(503.0))
        odd.handler = middleware.handler  # one handler, so one memo, for both statuses
        if not memo:
            middleware.handler.renderer._memo_limit = 0
        headers = [(b"accept", b"text/html"), (b"x-request-id", b"0123456789abcdef")]
        call_asgi(middleware, "GET", "/n", b"", headers)
        try:
            outcomes.append(call_asgi(odd, "GET", "/n", b"", headers))
        except Exception as exc:
            outcomes.append(type(exc))
    assert outcomes[0] == outcomes[1]
