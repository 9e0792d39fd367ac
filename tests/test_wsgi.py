"""Behaviour of the WSGI middleware, in process, as the client and the server would see it.

The tables run against the same behaviour written three ways (a raw WSGI callable, a bare Werkzeug
app and Flask), because each sends its status line and body a little differently and the middleware
must not care. PEP 3333 details are checked against a strict stand-in server that records every
call, against ``wsgiref``'s own handler, and under ``wsgiref.validate`` on both sides.
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
import logging
import sys
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from wsgiref.handlers import SimpleHandler
from wsgiref.validate import validator

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException, abort
from werkzeug.test import Client, EnvironBuilder
from werkzeug.test import TestResponse as WerkzeugResponse
from werkzeug.wrappers import Request, Response

from friendly_errors.catalogue import Catalogue
from friendly_errors.core import ErrorEvent
from friendly_errors.integrations.flask import init_app
from friendly_errors.wsgi import FriendlyErrorsWSGIMiddleware

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

LOGGER = "friendly_errors"
HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}
TEXT = {"Accept": "text/plain"}
FLAVOURS = ("raw", "werkzeug", "flask")
PHRASES = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


# -- one behaviour, three ways to write it -------------------------------------------------------


@dataclass(frozen=True)
class Behaviour:
    """What an endpoint does, independent of the framework it is written in."""

    status: int = 200
    body: bytes = b"hello"
    media_type: str = "text/plain; charset=utf-8"
    headers: Sequence[tuple[str, str]] = ()
    raises: Exception | None = None


def raw_app(routes: dict[str, Behaviour]) -> WSGIApplication:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        spec = routes.get(environ["PATH_INFO"], Behaviour(404, b"Not Found"))
        if spec.raises is not None:
            raise spec.raises
        headers = [("Content-Type", spec.media_type), *spec.headers]
        headers.append(("Content-Length", str(len(spec.body))))
        start_response(f"{spec.status} {PHRASES.get(spec.status, 'Whatever')}", headers)
        return [spec.body]

    return app


def _response(spec: Behaviour) -> Response:
    if spec.raises is not None:
        raise spec.raises
    response = Response(spec.body, spec.status, content_type=spec.media_type)
    for name, value in spec.headers:
        response.headers.add(name, value)
    return response


def werkzeug_app(routes: dict[str, Behaviour]) -> WSGIApplication:
    @Request.application
    def app(request: Request) -> Response:
        return _response(routes.get(request.path, Behaviour(404, b"Not Found")))

    return app


def flask_app(routes: dict[str, Behaviour], **config: Any) -> Flask:
    app = Flask("table")
    app.config.update(config)
    for path, spec in routes.items():

        def view(spec: Behaviour = spec) -> Response:
            return _response(spec)

        app.add_url_rule(path, path, view, methods=["GET", "POST"])
    return app


def build(flavour: str, routes: dict[str, Behaviour], **options: Any) -> WSGIApplication:
    """The flavour's app behind the middleware, added the way its users would add it."""
    if flavour == "raw":
        return FriendlyErrorsWSGIMiddleware(raw_app(routes), **options)
    if flavour == "werkzeug":
        return FriendlyErrorsWSGIMiddleware(werkzeug_app(routes), **options)
    app = flask_app(routes)
    init_app(app, **options)
    return app


def bare(flavour: str, routes: dict[str, Behaviour]) -> WSGIApplication:
    if flavour == "raw":
        return raw_app(routes)
    if flavour == "werkzeug":
        return werkzeug_app(routes)
    return flask_app(routes)


def get(
    app: WSGIApplication,
    path: str = "/",
    headers: dict[str, str] | None = None,
    method: str = "GET",
) -> WerkzeugResponse:
    response = Client(app).open(path, method=method, headers=headers)
    response.get_data()
    response.close()
    return response


@dataclass
class Hook:
    """An ``on_error`` hook that remembers what it was told."""

    events: list[ErrorEvent] = field(default_factory=list)

    def __call__(self, event: ErrorEvent) -> None:
        self.events.append(event)


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def traced_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info]


# -- a strict server in miniature ----------------------------------------------------------------


class Body:
    """An app's body that counts how often it is closed and can fail at a chosen chunk."""

    def __init__(
        self,
        chunks: Sequence[bytes],
        *,
        fail_at: int | None = None,
        before: Callable[[int], None] | None = None,
        close_fails: bool = False,
    ) -> None:
        self.chunks = chunks
        self.fail_at = fail_at
        self.before = before
        self.close_fails = close_fails
        self.closed = 0
        self.produced = 0

    def __iter__(self) -> Iterator[bytes]:
        for index, chunk in enumerate(self.chunks):
            if self.before is not None:
                self.before(index)
            if index == self.fail_at:
                raise RuntimeError(f"failed at chunk {index}")
            self.produced += 1
            yield chunk
        if self.fail_at == len(self.chunks):
            raise RuntimeError("failed after the last chunk")

    def close(self) -> None:
        self.closed += 1
        if self.close_fails:
            raise OSError("close failed")


@dataclass
class Recorder:
    """A server keeping PEP 3333's promises: headers go out with the first non-empty body bytes."""

    calls: list[tuple[str, list[tuple[str, str]], OptExcInfo | None]] = field(default_factory=list)
    written: list[bytes] = field(default_factory=list)
    headers_sent: bool = False

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
    ) -> Callable[[bytes], object]:
        if exc_info is not None and exc_info[1] is not None:
            if self.headers_sent:
                raise exc_info[1].with_traceback(exc_info[2])
        elif self.calls:
            raise AssertionError("start_response called a second time without exc_info")
        self.calls.append((status, headers, exc_info))
        return self.write

    def write(self, data: bytes) -> None:
        assert self.calls, "write() before start_response()"
        if data:
            self.headers_sent = True
        self.written.append(data)

    def run(self, app: WSGIApplication, environ: WSGIEnvironment | None = None) -> Any:
        """Call the app, send its body, close it: returns the iterable the server was given."""
        result = app(environ or environ_for(), self.start_response)
        try:
            for chunk in result:
                self.write(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return result

    @property
    def status(self) -> str:
        return self.calls[-1][0]

    @property
    def headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.calls[-1][1]}

    @property
    def body(self) -> bytes:
        return b"".join(self.written)


def environ_for(
    path: str = "/", method: str = "GET", headers: dict[str, str] | None = None
) -> WSGIEnvironment:
    environ: WSGIEnvironment = EnvironBuilder(
        path=path, method=method, headers=list((headers or JSON).items())
    ).get_environ()
    return environ


def wsgiref_serve(
    app: WSGIApplication, environ: WSGIEnvironment | None = None
) -> tuple[bytes, bytes, str]:
    """Serve one request with the standard library's handler: (head, body, what it logged)."""
    environ = environ or environ_for()
    stdout, stderr = io.BytesIO(), io.StringIO()
    handler = SimpleHandler(environ["wsgi.input"], stdout, stderr, environ, multithread=False)
    handler.run(app)
    head, _, body = stdout.getvalue().partition(b"\r\n\r\n")
    return head, body, stderr.getvalue()


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
def test_responses_not_intercepted_pass_through_unchanged(
    flavour: str, spec: Behaviour, options: dict[str, Any]
) -> None:
    expected = get(bare(flavour, {"/": spec}))
    response = get(build(flavour, {"/": spec}, **options))
    assert response.status == expected.status
    assert response.data == expected.data == spec.body
    assert response.headers.to_wsgi_list() == expected.headers.to_wsgi_list()
    assert "X-Request-ID" not in response.headers


def test_pass_through_returns_the_apps_own_iterable() -> None:
    body = Body([b"a", b"b"])

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    server = Recorder()
    assert server.run(FriendlyErrorsWSGIMiddleware(app)) is body
    assert server.body == b"ab"
    assert body.closed == 1


def test_a_status_line_seen_once_passes_on_sight_afterwards() -> None:
    body = Body([b"a"])

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    middleware = FriendlyErrorsWSGIMiddleware(app)
    assert [Recorder().run(middleware) for _ in range(3)] == [body, body, body]
    assert body.closed == 3


def test_pass_through_hands_the_server_its_own_write_and_file_wrapper() -> None:
    """Nothing stands between the app and the server: sendfile keeps working."""
    environ = environ_for()
    sentinel = object()
    environ["wsgi.file_wrapper"] = lambda file, size=8192: sentinel

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        assert write == server.write
        return environ["wsgi.file_wrapper"](io.BytesIO(b"file"))

    server = Recorder()
    middleware = FriendlyErrorsWSGIMiddleware(app)
    assert middleware(environ, server.start_response) is sentinel


# -- replacement ---------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("status", [500, 502, 503, 504, 524, 599])
def test_intercepted_statuses_become_a_friendly_page(flavour: str, status: int) -> None:
    app = build(flavour, {"/": Behaviour(status, b"upstream said no", "text/html")})
    response = get(app, "/", HTML)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert str(status) in response.text
    assert "upstream said no" not in response.text
    assert int(response.headers["Content-Length"]) == len(response.data)


@pytest.mark.parametrize(
    "status_line",
    [
        "503 Service Unavailable",
        "503 SERVICE UNAVAILABLE",
        "503 service unavailable",
        "503 Down for lunch",
        "503 ",
    ],
)
def test_status_lines_are_matched_by_code_whatever_the_reason_phrase(status_line: str) -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response(status_line, [("Content-Type", "text/plain")])
        return [b"x"]

    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(app))
    assert server.status == "503 Service Unavailable"
    assert server.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("status", "expected", "logged"),
    [
        ("503 Service Unavailable", "503", False),
        ("503", "503", False),
        ("abc", "500", True),
        ("5031 X", "500", True),
        ("5xx oops", "500", True),
        ("", "500", True),
    ],
    ids=["valid", "no-reason", "letters", "four-digits", "5xx", "empty"],
)
def test_a_malformed_status_line_gets_a_500_page_and_a_log_line_naming_it(
    status: str, expected: str, logged: bool, caplog: pytest.LogCaptureFixture
) -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response(status, [("Content-Type", "text/plain"), ("X-Secret", "app's own")])
        return [b"x"]

    server = Recorder()
    with caplog.at_level(logging.ERROR, LOGGER):
        body = server.run(FriendlyErrorsWSGIMiddleware(app))
    assert server.status.startswith(expected + " ")
    page = b"".join(body)
    assert page.startswith(b'{"type":"about:blank"')
    # The app's own words belong to a response that was not valid: never quoted.
    assert (b'"detail":"x"' in page) is not logged
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert bool(messages) is logged
    if logged:
        assert messages == [f"The app sent an invalid HTTP status {status!r}; answered 500 instead"]
        assert not caplog.records[0].exc_info  # our own mistake would show a traceback
        assert "X-Secret" not in dict(server.headers)


def test_status_line_of_a_code_the_catalogue_titles_in_other_letters() -> None:
    catalogue = Catalogue.default().extend({599: {"title": "Ошибка сети"}})

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("599 Network Error", [("Content-Type", "text/plain")])
        return [b""]

    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(app, catalogue=catalogue))
    # PEP 3333 status lines are latin-1; the reason phrase is cosmetic anyway.
    assert server.status == "599 Error"


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        pytest.param("text/html", "text/html", id="html"),
        pytest.param("application/json", "application/json", id="json"),
        pytest.param("application/problem+json", "application/problem+json", id="problem-json"),
        pytest.param("text/plain", "text/plain", id="text"),
        pytest.param("application/xml", "application/xml", id="xml"),
        pytest.param("text/markdown, text/html", "text/markdown", id="markdown"),
        pytest.param("text/html;q=0.5, application/json", "application/json", id="q-values"),
    ],
)
def test_the_replacement_is_negotiated(flavour: str, accept: str, media_type: str) -> None:
    response = get(build(flavour, {"/": Behaviour(503, b"x")}), "/", {"Accept": accept})
    assert response.headers["Content-Type"].split(";")[0] == media_type
    assert "accept" in response.headers["Vary"].lower()


@pytest.mark.parametrize(
    ("options", "path", "replaced"),
    [
        pytest.param({}, "/404", False, id="default-leaves-4xx"),
        pytest.param({"intercept": ["4xx"]}, "/404", True, id="4xx-class"),
        pytest.param({"intercept": [404, 503]}, "/404", True, id="listed-404"),
        pytest.param({"intercept": [404]}, "/503", False, id="unlisted-503"),
    ],
)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_intercept_chooses_what_is_replaced(
    flavour: str, options: dict[str, Any], path: str, replaced: bool
) -> None:
    routes = {"/404": Behaviour(404, b"original"), "/503": Behaviour(503, b"original")}
    response = get(build(flavour, routes, **options), path, JSON)
    assert (response.data != b"original") is replaced
    assert ("X-Request-ID" in response.headers) is replaced


# -- the app's own detail and headers ------------------------------------------------------------

DEFAULT_503_DETAIL = Catalogue.default().get(503).summary


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize(
    ("body", "media_type", "options", "detail"),
    [
        pytest.param(b"Back at 10:00", "text/plain", {}, "Back at 10:00", id="text"),
        pytest.param(b'{"detail": "DB down"}', "application/json", {}, "DB down", id="json-detail"),
        pytest.param(b'{"message": "DB down"}', "application/json", {}, "DB down", id="message"),
        pytest.param(b'{"error": "DB down"}', "application/json", {}, "DB down", id="error"),
        pytest.param(b"<h1>DB down</h1>", "text/html", {}, DEFAULT_503_DETAIL, id="html-ignored"),
        pytest.param(b"x" * 5000, "text/plain", {}, DEFAULT_503_DETAIL, id="long-text-ignored"),
        pytest.param(b"x" * 20000, "text/plain", {}, DEFAULT_503_DETAIL, id="over-limit"),
        pytest.param(
            b"Back at 10:00",
            "text/plain",
            {"use_app_detail": False},
            DEFAULT_503_DETAIL,
            id="switched-off",
        ),
    ],
)
def test_the_apps_own_short_explanation_is_carried_over(
    flavour: str, body: bytes, media_type: str, options: dict[str, Any], detail: str
) -> None:
    response = get(build(flavour, {"/": Behaviour(503, body, media_type)}, **options), "/", JSON)
    assert response.json is not None
    assert response.json["detail"] == detail


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_headers_that_still_mean_something_survive_the_others_go(flavour: str) -> None:
    spec = Behaviour(
        503,
        b"busy",
        headers=[
            ("Retry-After", "120"),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
            ("ETag", '"abc"'),
            ("Cache-Control", "public, max-age=3600"),
            ("Vary", "Cookie"),
            ("Access-Control-Allow-Origin", "*"),
            ("X-Internal", "yes"),
        ],
    )
    response = get(build(flavour, {"/": spec}), "/", JSON)
    headers = response.headers
    assert headers["Retry-After"] == "120"
    assert headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert "ETag" not in headers
    assert "X-Internal" not in headers
    assert headers["Cache-Control"] == "no-store"
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert [v.strip() for v in headers["Vary"].split(",")] == [
        "Accept",
        "Accept-Language",
        "Cookie",
    ]
    assert response.json is not None
    assert response.json["retry_after"] == 120


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize(
    ("options", "left_alone"),
    [
        pytest.param({}, True, id="default"),
        pytest.param({"replace_problem_details": True}, False, id="replace_problem_details"),
    ],
)
def test_problem_details_from_the_app_are_left_alone(
    flavour: str, options: dict[str, Any], left_alone: bool
) -> None:
    body = b'{"type":"https://example.com/out-of-credit","status":503}'
    spec = Behaviour(503, body, "application/problem+json")
    response = get(build(flavour, {"/": spec}, **options), "/", JSON)
    assert response.status_code == 503
    assert (response.data == body) is left_alone


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_request_ids_are_taken_from_the_request_and_echoed(flavour: str) -> None:
    hook = Hook()
    app = build(flavour, {"/": Behaviour(503)}, on_error=hook)
    response = get(app, "/", {"Accept": "application/json", "X-Request-ID": "req-42"})
    assert response.headers["X-Request-ID"] == "req-42"
    assert response.json is not None
    assert response.json["request_id"] == "req-42"
    assert [e.request_id for e in hook.events] == ["req-42"]


@pytest.mark.parametrize("accept", ["application/json", "text/markdown"])
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_head_gets_the_headers_of_get_and_no_body(flavour: str, accept: str) -> None:
    # An HTML body: Werkzeug sends no body for HEAD, so a detail taken from it would differ.
    app = build(flavour, {"/": Behaviour(503, b"<p>busy</p>", "text/html")})
    got = get(app, "/", {"Accept": accept})
    head = get(app, "/", {"Accept": accept}, method="HEAD")
    assert head.status_code == 503
    assert head.data == b""
    assert head.headers["Content-Length"] == got.headers["Content-Length"] == str(len(got.data))
    assert head.headers["Content-Type"] == got.headers["Content-Type"]


# -- exceptions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["raw", "werkzeug"])
def test_an_exception_becomes_a_500_page_logged_once(
    flavour: str, caplog: pytest.LogCaptureFixture
) -> None:
    hook = Hook()
    error = RuntimeError("kaboom")
    app = build(flavour, {"/": Behaviour(raises=error)}, on_error=hook)
    response = get(app, "/", HTML)
    assert response.status_code == 500
    assert response.status == "500 Internal Server Error"
    assert response.headers["Content-Type"].startswith("text/html")
    assert "kaboom" not in response.text
    (record,) = traced_records(caplog)
    assert record.name == LOGGER
    assert record.exc_info is not None and record.exc_info[1] is error
    (event,) = hook.events
    assert (event.status, event.exception) == (500, error)
    assert event.scope["PATH_INFO"] == "/"


@pytest.mark.parametrize("flavour", ["raw", "werkzeug"])
def test_without_500_in_intercept_the_exception_goes_to_the_server(
    flavour: str, caplog: pytest.LogCaptureFixture
) -> None:
    hook = Hook()
    app = build(flavour, {"/": Behaviour(raises=KeyError("x"))}, intercept=[503], on_error=hook)
    with pytest.raises(KeyError):
        get(app)
    assert traced_records(caplog) == []
    assert hook.events == []


def test_http_exceptions_raised_through_werkzeug_are_pages_too() -> None:
    @Request.application
    def app(request: Request) -> Response:
        abort(502)

    response = get(FriendlyErrorsWSGIMiddleware(app), "/", JSON)
    assert response.status == "502 Bad Gateway"
    assert response.json is not None
    assert response.json["status"] == 502


def test_base_exceptions_are_not_swallowed() -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Recorder().run(FriendlyErrorsWSGIMiddleware(app))


# -- Flask's three ways of failing ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "our_log"),
    [
        # Flask logs the exception and answers 500 itself; the middleware replaces that answer.
        pytest.param({}, False, id="production"),
        # Flask re-raises; told not to let it go on (init_app follows Flask's choice by
        # default), the middleware catches it, logs it once and serves the page.
        pytest.param({"TESTING": True}, True, id="testing"),
        pytest.param({"PROPAGATE_EXCEPTIONS": True}, True, id="propagate-exceptions"),
    ],
)
@pytest.mark.parametrize("accept", [HTML, JSON, TEXT], ids=["html", "json", "text"])
def test_flask_exceptions_give_the_friendly_page_in_every_mode(
    config: dict[str, Any],
    our_log: bool,
    accept: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook = Hook()
    app = flask_app({"/": Behaviour(raises=ZeroDivisionError("secret sauce"))}, **config)
    init_app(app, on_error=hook, propagate_exceptions=False)
    response = get(app, "/", accept)
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith(accept["Accept"])
    assert "secret sauce" not in response.text
    assert "X-Request-ID" in response.headers
    (record,) = traced_records(caplog)
    assert (record.name == LOGGER) is our_log
    (event,) = hook.events
    assert event.status == 500
    assert isinstance(event.exception, ZeroDivisionError) is our_log


def test_flask_error_handler_that_fails_still_gives_the_page(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook = Hook()
    app = flask_app({"/": Behaviour(raises=ZeroDivisionError("first"))})

    @app.errorhandler(500)
    def broken(error: HTTPException) -> Response:
        raise LookupError("the handler broke too")

    init_app(app, on_error=hook)
    response = get(app, "/", JSON)
    assert response.status_code == 500
    assert response.json is not None
    assert response.json["status"] == 500
    # Each exception is logged once: Flask logs the view's, the middleware the handler's.
    logged = [r.exc_info[1] for r in traced_records(caplog) if r.exc_info]
    assert [type(e) for e in logged] == [ZeroDivisionError, LookupError]
    assert [type(e.exception) for e in hook.events] == [LookupError]


def test_flask_abort_and_error_tuples_are_replaced() -> None:
    app = Flask("aborts")

    @app.route("/abort")
    def aborting() -> str:
        abort(504)

    @app.route("/tuple")
    def as_tuple() -> tuple[dict[str, str], int]:
        return {"error": "upstream slow"}, 503

    init_app(app)
    aborted = get(app, "/abort", JSON)
    assert aborted.status == "504 Gateway Timeout"
    told = get(app, "/tuple", JSON)
    assert told.json is not None
    assert told.json["detail"] == "upstream slow"


# -- PEP 3333: start_response and exc_info -------------------------------------------------------


def _failing_after_start(keyword: bool, late: bool) -> WSGIApplication:
    """An app whose error handler replaces the status it started with, the PEP's own example."""

    def produce(start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("while rendering")
        except ValueError:
            if keyword:
                start_response(  # type: ignore[call-arg]
                    "500 Oops", [("Content-Type", "text/plain")], exc_info=sys.exc_info()
                )
            else:
                start_response("500 Oops", [("Content-Type", "text/plain")], sys.exc_info())
        yield b"error page of the app"

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if late:
            return produce(start_response)
        return list(produce(start_response))

    return app


@pytest.mark.parametrize("keyword", [False, True], ids=["positional", "keyword"])
@pytest.mark.parametrize("late", [False, True], ids=["before-return", "late"])
def test_exc_info_lets_the_app_replace_a_status_not_sent_yet(
    keyword: bool, late: bool, caplog: pytest.LogCaptureFixture
) -> None:
    hook = Hook()
    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(_failing_after_start(keyword, late), on_error=hook))
    assert server.status == "500 Internal Server Error"
    assert server.headers["content-type"].startswith("application/json")
    assert json.loads(server.body)["status"] == 500
    if late:
        # The app's 200 waited for a body byte that never came: the server only saw the page.
        assert [call[2] for call in server.calls] == [None]
    else:
        # The server held the app's 200 already: the page replaced it the PEP's way, with exc_info.
        assert server.calls[0][0] == "200 OK"
        assert server.calls[-1][2] is not None
    (event,) = hook.events
    assert isinstance(event.exception, ValueError)
    assert len(traced_records(caplog)) == 1


def test_exc_info_may_pass_on_a_different_status_the_server_was_asked_about() -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("moved after all")
        except ValueError:
            start_response("302 Found", [("Location", "/elsewhere")], sys.exc_info())
        return [b""]

    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(app))
    assert [call[0] for call in server.calls] == ["200 OK", "302 Found"]
    assert server.headers["location"] == "/elsewhere"


def test_exc_info_after_body_bytes_is_re_raised_into_the_app() -> None:
    seen: list[BaseException] = []

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"first"
        try:
            raise ValueError("too late")
        except ValueError:
            try:
                start_response("500 Oops", [], sys.exc_info())
            except ValueError as exc:
                seen.append(exc)
                raise

    server = Recorder()
    with pytest.raises(ValueError, match="too late"):
        server.run(FriendlyErrorsWSGIMiddleware(app))
    assert len(seen) == 1
    assert server.body == b"first"


def test_exc_info_after_write_is_re_raised_by_the_server_that_sent_it() -> None:
    """On the fast path only the server knows write() sent bytes; it is asked, and it says so."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written")
        try:
            raise ValueError("too late")
        except ValueError:
            start_response("500 Oops", [], sys.exc_info())
        return []

    server = Recorder()
    with pytest.raises(ValueError, match="too late"):
        server.run(FriendlyErrorsWSGIMiddleware(app))
    assert server.body == b"written"


def test_exc_info_on_a_handed_off_body_goes_to_the_server() -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])

        def body() -> Iterator[bytes]:
            try:
                raise ValueError("while streaming")
            except ValueError:
                start_response("503 Later", [("Content-Type", "text/plain")], sys.exc_info())
            yield b"the app's own 503"

        return body()

    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(app))
    # The server iterates the app's body itself, so the app's own answer stands.
    assert server.status == "503 Later"
    assert server.body == b"the app's own 503"


@pytest.mark.parametrize(
    ("first", "second", "status", "replaced"),
    [
        pytest.param("503 Busy", "200 OK", "200 OK", False, id="held-then-passed"),
        pytest.param("503 Busy", "502 Bad", "502 Bad Gateway", True, id="held-then-held"),
        pytest.param("200 OK", "504 Slow", "504 Gateway Timeout", True, id="passed-then-held"),
    ],
)
def test_a_status_not_sent_yet_can_change_before_the_body(
    first: str, second: str, status: str, replaced: bool
) -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        write = start_response(first, [("Content-Type", "text/plain")])
        write(b"")
        yield b""
        try:
            raise ValueError("changed my mind")
        except ValueError:
            start_response(second, [("Content-Type", "text/plain")], sys.exc_info())
        yield b"second body"

    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(app))
    assert server.status == status
    assert (server.body != b"second body") is replaced


def test_exc_info_after_a_held_body_started_is_re_raised_into_the_app() -> None:
    """To the app we are the server: its 503 body "went out", so its headers cannot change."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        start_response("503 Busy", [("Content-Type", "text/plain")])
        yield b"partial"
        try:
            raise ValueError("during the error body")
        except ValueError:
            start_response("500 Oops", [], sys.exc_info())
        yield b"never"

    hook = Hook()
    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(app, on_error=hook))
    # The re-raised exception ended the app's body before anything reached the client: a 500 page.
    assert server.status == "500 Internal Server Error"
    assert [type(e.exception) for e in hook.events] == [ValueError]


def test_a_second_start_response_without_exc_info_is_an_app_error() -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [])
        start_response("200 OK", [])
        return []

    hook = Hook()
    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(app, on_error=hook))
    assert server.status == "500 Internal Server Error"
    (event,) = hook.events
    assert "exc_info" in str(event.exception)


def test_a_second_held_start_response_without_exc_info_is_an_app_error() -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("503 Busy", [])
        start_response("503 Busy", [])
        return []

    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(app))
    assert server.status == "500 Internal Server Error"
    assert len(server.calls) == 1


def test_an_exc_info_of_nones_counts_as_none() -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        start_response("503 Busy", [("Content-Type", "text/plain")], (None, None, None))
        yield b"x"

    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(app))
    assert server.status == "503 Service Unavailable"


# -- PEP 3333: late start_response and write() ---------------------------------------------------


@pytest.mark.parametrize(
    ("status", "replaced"), [("200 OK", False), ("503 Busy", True)], ids=["passed", "held"]
)
def test_start_response_may_come_from_the_first_iteration(status: str, replaced: bool) -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        start_response(status, [("Content-Type", "text/plain")])
        yield b"first "
        yield b"second"

    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(app))
    assert server.status.startswith(status[:3])
    assert (server.body != b"first second") is replaced


def test_write_still_works_for_a_passed_response_started_late() -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written ")
        write(b"twice ")
        yield b"yielded"

    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(app))
    assert server.body == b"written twice yielded"
    assert len(server.calls) == 1


def test_a_late_status_with_an_empty_body_still_reaches_the_server() -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        start_response("204 No Content", [])
        yield from ()

    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(app))
    assert server.status == "204 No Content"
    assert server.body == b""


@pytest.mark.parametrize("late", [False, True], ids=["before-return", "late"])
def test_bytes_written_to_a_replaced_response_are_drained_for_its_detail(late: bool) -> None:
    def produce(start_response: StartResponse) -> Iterator[bytes]:
        write = start_response("503 Busy", [("Content-Type", "text/plain")])
        write(b"Back ")
        write(b"")
        yield b"at 10:00"

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return produce(start_response) if late else list(produce(start_response))

    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(app))
    assert json.loads(server.body)["detail"] == "Back at 10:00"


@pytest.mark.parametrize(
    "body",
    [pytest.param([], id="empty"), pytest.param([b"", b"x"], id="bytes-first")],
)
def test_a_body_without_start_response_is_an_app_error(body: list[bytes]) -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return body

    hook = Hook()
    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(app, on_error=hook))
    assert server.status == "500 Internal Server Error"
    (event,) = hook.events
    assert "start_response" in str(event.exception)


# -- PEP 3333: close() exactly once --------------------------------------------------------------


def _starting(start_response: StartResponse, status: str) -> Callable[[int], None]:
    """A Body hook that starts the response from the first iteration, as a generator app does."""

    def start_first(index: int) -> None:
        if index == 0:
            start_response(status, [("Content-Type", "text/plain")])

    return start_first


def _closing_app(body: Body, status: str, *, late: bool) -> WSGIApplication:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if late:
            body.before = _starting(start_response, status)
        else:
            start_response(status, [("Content-Type", "text/plain")])
        return body

    return app


@pytest.mark.parametrize("late", [False, True], ids=["before-return", "late"])
@pytest.mark.parametrize(
    ("status", "fail_at", "outcome"),
    [
        pytest.param("200 OK", None, "passed", id="pass-through"),
        pytest.param("503 Busy", None, "replaced", id="replaced"),
        pytest.param("503 Busy", 1, "500", id="replaced-raising"),
        pytest.param("200 OK", 2, "propagated", id="raising-after-bytes"),
    ],
)
def test_the_apps_close_is_called_exactly_once(
    status: str, fail_at: int | None, outcome: str, late: bool
) -> None:
    body = Body([b"a", b"b"], fail_at=fail_at)
    server = Recorder()
    app = FriendlyErrorsWSGIMiddleware(_closing_app(body, status, late=late))
    if outcome == "propagated":
        with pytest.raises(RuntimeError):
            server.run(app)
    else:
        server.run(app)
        expected = {"passed": "200", "replaced": "503", "500": "500"}[outcome]
        assert server.status.startswith(expected)
    assert body.closed == 1


@pytest.mark.parametrize("late", [False, True], ids=["before-return", "late"])
@pytest.mark.parametrize("status", ["200 OK", "503 Busy"])
def test_close_reaches_the_app_when_the_client_goes_away(status: str, late: bool) -> None:
    body = Body([b"a", b"b", b"c"])
    result = FriendlyErrorsWSGIMiddleware(_closing_app(body, status, late=late))(
        environ_for(), Recorder().start_response
    )
    iterator = iter(result)
    next(iterator)
    # A response replaced before the app returned was drained and closed already (granian, #11).
    getattr(result, "close", lambda: None)()
    assert body.closed == 1


def test_close_without_iterating_reaches_the_app() -> None:
    body = Body([b"a"])
    result = FriendlyErrorsWSGIMiddleware(_closing_app(body, "503 Busy", late=True))(
        environ_for(), Recorder().start_response
    )
    result.close()  # type: ignore[attr-defined]
    assert body.closed == 1
    assert body.produced == 0


def test_close_that_fails_on_the_way_to_a_page_is_logged_not_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = Body([b"a"], fail_at=0, close_fails=True)
    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(_closing_app(body, "200 OK", late=True)))
    assert server.status == "500 Internal Server Error"
    assert body.closed == 1
    messages = [r.getMessage() for r in error_records(caplog)]
    assert any("Closing the WSGI app's response failed" in m for m in messages)


def test_close_that_fails_after_a_replaced_body_gives_a_500() -> None:
    body = Body([b"a"], close_fails=True)
    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(_closing_app(body, "503 Busy", late=False)))
    assert server.status == "500 Internal Server Error"
    assert body.closed == 1


# -- exceptions while the body is produced -------------------------------------------------------


@pytest.mark.parametrize("late", [False, True], ids=["before-return", "late"])
def test_an_exception_before_any_body_byte_is_a_500_page(
    late: bool, caplog: pytest.LogCaptureFixture
) -> None:
    hook = Hook()
    body = Body([b"", b"never"], fail_at=1)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if late:
            body.before = _starting(start_response, "200 OK")
            return body
        start_response("503 Busy", [])
        return body

    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(app, on_error=hook))
    assert server.status == "500 Internal Server Error"
    assert [type(e.exception) for e in hook.events] == [RuntimeError]
    assert len(traced_records(caplog)) == 1


def test_an_exception_after_body_bytes_went_out_reaches_the_server(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The server cuts the response short and logs; the middleware logs nothing more."""
    hook = Hook()
    body = Body([b"partial", b"never"], fail_at=1)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body.before = _starting(start_response, "200 OK")
        return body

    head, sent, logged = wsgiref_serve(FriendlyErrorsWSGIMiddleware(app, on_error=hook))
    assert head.startswith(b"HTTP/1.0 200 OK")
    assert sent == b"partial"
    assert "RuntimeError: failed at chunk 1" in logged
    assert traced_records(caplog) == []
    assert hook.events == []
    assert body.closed == 1


def test_an_exception_before_return_after_a_passed_status_is_a_page_with_a_real_server() -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        raise RuntimeError("after starting")

    head, body, logged = wsgiref_serve(FriendlyErrorsWSGIMiddleware(app))
    assert head.startswith(b"HTTP/1.0 500 Internal Server Error")
    assert json.loads(body)["status"] == 500
    assert logged == ""


def test_an_exception_after_write_reaches_the_server() -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])(b"written")
        raise RuntimeError("after writing")

    head, body, logged = wsgiref_serve(FriendlyErrorsWSGIMiddleware(app))
    assert head.startswith(b"HTTP/1.0 200 OK")
    assert body == b"written"
    assert "RuntimeError: after writing" in logged


def test_an_exception_while_a_replaced_body_drains_lends_it_nothing() -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        start_response("503 Busy", [("Retry-After", "60"), ("Content-Type", "text/plain")])
        yield b"Back soon"
        raise RuntimeError("while draining")

    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(app))
    assert server.status == "500 Internal Server Error"
    assert "retry-after" not in server.headers
    assert json.loads(server.body)["detail"] != "Back soon"


# -- wsgiref.validate on both sides --------------------------------------------------------------


def _validated_apps() -> dict[str, WSGIApplication]:
    def passed(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    def late(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written")
        yield b"ok"

    def replaced(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("503 SERVICE UNAVAILABLE", [("Content-Type", "text/plain")])
        return [b"busy"]

    def replaced_late(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        start_response("502 Bad Gateway", [("Content-Type", "text/plain")])
        yield b"bad"

    def raising(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        raise RuntimeError("boom")

    def raising_in_body(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield from Body([b"never"], fail_at=0)

    def changed(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("x")
        except ValueError:
            start_response(
                "500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info()
            )
        return [b"x"]

    return {
        "passed": passed,
        "late": late,
        "replaced": replaced,
        "replaced-late": replaced_late,
        "raising": raising,
        "raising-in-body": raising_in_body,
        "changed": changed,
        "flask": flask_app({"/": Behaviour(503, b"x")}).wsgi_app,
        "werkzeug": werkzeug_app({"/": Behaviour(500, b"x")}),
    }


@pytest.mark.parametrize("name", list(_validated_apps()))
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_wsgiref_validator_is_happy_on_both_sides(name: str, method: str) -> None:
    app = validator(FriendlyErrorsWSGIMiddleware(validator(_validated_apps()[name])))
    head, body, logged = wsgiref_serve(app, environ_for(method=method))
    assert logged == ""
    assert head.startswith(b"HTTP/1.0 ")
    if method == "HEAD" and b" 200 " not in head.split(b"\r\n")[0]:
        assert body == b""


# -- request data that is not what it should be --------------------------------------------------


@pytest.mark.parametrize(
    ("raw_path", "shown"),
    [
        pytest.param("/café".encode(), "/café", id="utf-8"),
        pytest.param(b"/caf\xe9", "/caf\ufffd", id="latin-1-bytes"),
        pytest.param(b"/\xff\xfe", "/\ufffd\ufffd", id="garbage"),
    ],
)
def test_paths_are_read_as_utf8_from_pep3333_latin1(raw_path: bytes, shown: str) -> None:
    hook = Hook()
    environ = environ_for()
    environ["PATH_INFO"] = raw_path.decode("latin-1")
    environ["HTTP_X_WEIRD"] = "caf\xe9 \x00"
    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(raw_app({}), intercept=[404], on_error=hook), environ)
    assert server.status.startswith("404")
    (event,) = hook.events
    assert event.request.path == shown
    assert event.request.headers["x-weird"] == "caf\xe9 \x00"


def test_kept_header_values_stay_the_latin1_text_the_app_gave() -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("503 Busy", [("Set-Cookie", "name=caf\xe9"), ("Content-Type", "text/plain")])
        return [b"busy"]

    server = Recorder()
    server.run(validator(FriendlyErrorsWSGIMiddleware(validator(app))))
    cookies = [value for name, value in server.calls[-1][1] if name == "Set-Cookie"]
    assert cookies == ["name=caf\xe9"]
    assert all(isinstance(v, str) and v.encode("latin-1") for _, v in server.calls[-1][1])


def test_a_server_that_decoded_the_path_itself_is_believed() -> None:
    hook = Hook()
    environ = environ_for()
    environ["PATH_INFO"] = "/日本"
    Recorder().run(
        FriendlyErrorsWSGIMiddleware(raw_app({}), intercept=[404], on_error=hook), environ
    )
    assert hook.events[0].request.path == "/日本"


def test_request_info_comes_from_the_environ() -> None:
    hook = Hook()
    environ = environ_for(
        "/a b", "POST", {"Accept": "text/plain", "Content-Type": "text/csv", "X-Request-ID": "r1"}
    )
    environ["SCRIPT_NAME"] = "/mounted"
    environ["QUERY_STRING"] = "q=%C3%A9&x=1"
    server = Recorder()
    server.run(FriendlyErrorsWSGIMiddleware(raw_app({}), intercept=[404], on_error=hook), environ)
    (event,) = hook.events
    request = event.request
    assert (request.method, request.path, request.query) == ("POST", "/mounted/a b", "q=%C3%A9&x=1")
    assert request.headers["content-type"] == "text/csv"
    assert request.headers["x-request-id"] == "r1"
    assert server.headers["x-request-id"] == "r1"
    assert event.scope is environ


# -- bounded memory ------------------------------------------------------------------------------

GIB = 1 << 30
CHUNK = b"x" * (1 << 20)


def _huge(start_response: StartResponse, status: str) -> Iterator[bytes]:
    start_response(status, [("Content-Type", "application/octet-stream")])
    for _ in range(GIB // len(CHUNK)):
        yield CHUNK


def _peak_while(consume: Callable[[], int]) -> tuple[int, int]:
    import tracemalloc

    tracemalloc.start()
    try:
        total = consume()
        return total, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("status", "late"),
    [
        pytest.param("200 OK", False, id="pass-through"),
        pytest.param("200 OK", True, id="pass-through-late"),
        pytest.param("503 Busy", True, id="replaced"),
    ],
)
def test_a_gigabyte_body_streams_through_in_constant_memory(status: str, late: bool) -> None:
    import psutil

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = _huge(start_response, status)
        if not late:
            # Start before returning, as a framework's streaming response does.
            return _Started(body)
        return body

    def consume() -> int:
        result = FriendlyErrorsWSGIMiddleware(app)(environ_for(), Recorder().start_response)
        try:
            return sum(len(chunk) for chunk in result)
        finally:
            result.close()  # type: ignore[attr-defined]

    rss_before = psutil.Process().memory_info().rss
    started = time.monotonic()
    total, peak = _peak_while(consume)
    elapsed = time.monotonic() - started
    growth = psutil.Process().memory_info().rss - rss_before
    if status.startswith("200"):
        assert total == GIB
    else:
        assert 0 < total < 100_000, "the replacement is a page, not the drained gigabyte"
    assert peak < 4 << 20, f"traced peak {peak} bytes"
    assert growth < 64 << 20, f"RSS grew by {growth} bytes"
    assert elapsed < 30, f"took {elapsed:.1f} s"


class _Started:
    """Runs a generator up to its start_response before the app returns it."""

    def __init__(self, body: Iterator[bytes]) -> None:
        self.first = next(body)
        self.body = body

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        yield from self.body

    def close(self) -> None:
        self.body.close()  # type: ignore[attr-defined]


# -- hooks ---------------------------------------------------------------------------------------


def test_an_async_hook_runs_to_completion() -> None:
    seen: list[int] = []

    async def hook(event: ErrorEvent) -> None:
        await asyncio.sleep(0)
        seen.append(event.status)

    get(build("raw", {"/": Behaviour(502)}, on_error=hook))
    assert seen == [502]


def test_an_async_hook_runs_when_the_wsgi_app_is_called_from_async_code() -> None:
    seen: list[int] = []

    async def hook(event: ErrorEvent) -> None:
        await asyncio.sleep(0)
        seen.append(event.status)

    async def main() -> None:
        get(build("raw", {"/": Behaviour(504)}, on_error=hook))

    asyncio.run(main())
    assert seen == [504]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_failing_hook_is_logged_and_the_page_still_served(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    def sync_hook(event: ErrorEvent) -> None:
        raise LookupError("hook broke")

    async def async_hook(event: ErrorEvent) -> None:
        raise LookupError("hook broke")

    hook = sync_hook if kind == "sync" else async_hook
    response = get(build("raw", {"/": Behaviour(503)}, on_error=hook), "/", JSON)
    assert response.status_code == 503
    assert any("on_error hook failed" in r.getMessage() for r in error_records(caplog))


# -- options -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error"),
    [
        pytest.param({"debug": "yes"}, TypeError, id="debug"),
        pytest.param({"intercept": [200]}, ValueError, id="intercept"),
        pytest.param({"default_format": "pdf"}, ValueError, id="format"),
        pytest.param({"on_eror": print}, TypeError, id="misspelt"),
    ],
)
def test_bad_options_fail_when_the_middleware_is_built(
    options: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        FriendlyErrorsWSGIMiddleware(raw_app({}), **options)


def test_debug_shows_the_traceback() -> None:
    app = build("raw", {"/": Behaviour(raises=RuntimeError("visible in debug"))}, debug=True)
    response = get(app, "/", TEXT)
    assert "visible in debug" in response.text
    assert "Traceback" in response.text


# -- nothing secret reaches the client -----------------------------------------------------------

SECRET = "s3cr3t-7f1b2c9e"


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",
        "application/json",
        "application/problem+json",
        "text/plain",
        "application/xml",
        "*/*",
    ],
)
@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("where", ["call", "body"])
def test_secrets_of_the_failure_never_reach_the_client(
    flavour: str, accept: str, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRIENDLY_ERRORS_TEST_SECRET", SECRET)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        password = SECRET  # a local variable a traceback formatter could show
        if where == "call":
            raise RuntimeError(f"database password {password} rejected")

        def fail(index: int) -> None:
            start_response("200 OK", [("Content-Type", "text/plain")])
            raise RuntimeError(f"database password {password} rejected")

        return Body([b"never"], before=fail)

    if flavour == "raw":
        wrapped: WSGIApplication = FriendlyErrorsWSGIMiddleware(app)
    elif flavour == "werkzeug":
        wrapped = FriendlyErrorsWSGIMiddleware(_as_werkzeug(app))
    else:
        flask = Flask("secrets")
        flask.wsgi_app = app  # type: ignore[method-assign]
        init_app(flask)
        wrapped = flask
    response = get(
        wrapped,
        f"/?token={SECRET[:4]}",
        {"Accept": accept, "Cookie": f"session={SECRET}", "Authorization": f"Bearer {SECRET}"},
    )
    assert response.status_code == 500
    everything = response.data + str(response.headers).encode()
    assert SECRET.encode() not in everything
    assert b"database password" not in everything


def _as_werkzeug(app: WSGIApplication) -> WSGIApplication:
    """The same failure, reached through Werkzeug's request machinery."""

    @Request.application
    def wrapped(request: Request) -> WSGIApplication:
        return app

    return wrapped


def test_a_server_that_sends_headers_on_an_empty_chunk_is_believed() -> None:
    """wsgiref sends the headers on b"" already; asked with exc_info, it says so and we yield."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b""
        raise RuntimeError("after an empty chunk")

    head, body, logged = wsgiref_serve(FriendlyErrorsWSGIMiddleware(app))
    assert head.startswith(b"HTTP/1.0 200 OK")
    assert body == b""
    assert "RuntimeError: after an empty chunk" in logged


# -- #11: installed twice; HEAD without a body ---------------------------------------------------


@pytest.mark.parametrize("fails", ["raises", "returns-503"])
def test_installed_twice_one_page_one_id_one_hook_call(
    fails: str, caplog: pytest.LogCaptureFixture
) -> None:
    inner_hook, outer_hook = Hook(), Hook()
    spec = Behaviour(raises=RuntimeError("once")) if fails == "raises" else Behaviour(503)
    inner = FriendlyErrorsWSGIMiddleware(raw_app({"/": spec}), on_error=inner_hook)
    outer = FriendlyErrorsWSGIMiddleware(inner, on_error=outer_hook, site_name="Outer")
    response = get(outer, "/", JSON)
    request_id = response.headers["X-Request-ID"]
    assert response.json is not None and response.json["request_id"] == request_id
    assert [e.request_id for e in inner_hook.events] == [request_id]
    assert outer_hook.events == []
    logged = [r for r in traced_records(caplog) if r.name == LOGGER]
    assert len(logged) == (1 if fails == "raises" else 0)
    assert all(request_id in r.getMessage() for r in logged)


@pytest.mark.parametrize(
    ("content_type", "length_known"),
    [("text/html", True), ("text/plain", False), ("application/json", False)],
)
def test_head_without_a_body_has_the_gets_content_length_or_none(
    content_type: str, length_known: bool
) -> None:
    """Werkzeug, Falcon, Bottle and Pyramid send no body for HEAD: a detail the GET would quote
    is unknown, so Content-Length is left out rather than differ from the GET's (#11)."""
    body = b'{"detail": "Back soon"}' if content_type == "application/json" else b"Back soon"

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response(
            "503 Service Unavailable",
            [("Content-Type", content_type), ("Content-Length", str(len(body)))],
        )
        return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [body]

    middleware = FriendlyErrorsWSGIMiddleware(app)
    got = get(middleware, "/", JSON)
    head = get(middleware, "/", JSON, method="HEAD")
    assert head.data == b""
    assert head.headers.get("Content-Type") == got.headers.get("Content-Type")
    expected = got.headers["Content-Length"] if length_known else None
    assert head.headers.get("Content-Length") == expected


# -- memory --------------------------------------------------------------------------------------


@pytest.mark.timeout(600)  # each middleware compiles the built-in page's template when it is built
def test_dropped_middlewares_are_freed(monkeypatch: pytest.MonkeyPatch) -> None:
    """1,000 middlewares, each having served a 200, a replaced 503 and an exception, then dropped.

    Nothing of a request may keep its middleware alive once the server is done with it. The
    exception's record goes to a handler that formats and forgets it, as a server's log does
    (pytest's own capture would keep the record, its traceback and so the middleware).
    """

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/raise":
            raise RuntimeError("boom")  # a new exception each time: a reused one keeps its frames
        status = "503 Service Unavailable" if environ["PATH_INFO"] == "/503" else "200 OK"
        start_response(status, [("Content-Type", "text/plain")])
        return [b"busy"]

    logger = logging.getLogger(LOGGER)
    monkeypatch.setattr(logger, "propagate", False)
    monkeypatch.setattr(logger, "handlers", [logging.StreamHandler(io.StringIO())])
    refs = []
    for _ in range(1_000):
        middleware = FriendlyErrorsWSGIMiddleware(app)
        statuses = []
        for path in ("/", "/503", "/raise"):
            server = Recorder()
            server.run(middleware, environ_for(path, headers=HTML))
            statuses.append(server.status[:3])
        assert statuses == ["200", "503", "500"]
        refs.append(weakref.ref(middleware))
        del middleware, server
    gc.collect()
    assert sum(ref() is not None for ref in refs) == 0
