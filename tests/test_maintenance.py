"""Maintenance mode (#13), in process, through both middlewares: what a visitor, an API client, the
team and the log see while a site is down for planned work.

Each behaviour runs against the ASGI and the WSGI middleware wrapped around the same tiny app, driven
the way a server drives them. The state is switched by writing the file, as ``friendly-errors down``
does, and then asking the switch to look now instead of waiting for its next poll.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from werkzeug.test import EnvironBuilder

from friendly_errors import FriendlyErrorsMiddleware, FriendlyErrorsWSGIMiddleware
from friendly_errors.core import ErrorEvent
from friendly_errors.maintenance import (
    WEBSOCKET_TRY_AGAIN_LATER,
    MaintenanceFile,
    MaintenanceState,
    allowed,
)
from friendly_errors.rendering import RequestInfo

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

Message = MutableMapping[str, Any]
LOGGER = "friendly_errors"
KINDS = ("asgi", "wsgi")
SECRET = "team-preview-7f3a9c2e5b"


# -- the app behind, written twice ---------------------------------------------------------------


async def asgi_app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        message = await receive()
        await send({"type": f"{message['type']}.complete"})
        return
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})
        return
    body = f"app {scope['path']}".encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def wsgi_app(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    body = f"app {environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        found = [value for key, value in self.headers if key.lower() == name.lower()]
        return ", ".join(found) if found else None

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Site:
    """One middleware around the app, its maintenance file, and a way to ask it things."""

    kind: str
    middleware: Any
    file: Path
    calls: list[ErrorEvent] = field(default_factory=list)

    def down(self, document: str | dict[str, Any] = "") -> None:
        text = document if isinstance(document, str) else json.dumps(document)
        self.file.write_text(text, encoding="utf-8")
        self.look()

    def up(self) -> None:
        self.file.unlink(missing_ok=True)
        self.look()

    def look(self) -> None:
        self.middleware.maintenance.switch.refresh()

    def get(
        self,
        path: str = "/",
        headers: dict[str, str] | None = None,
        *,
        method: str = "GET",
        scheme: str = "http",
    ) -> Answer:
        headers = headers or {}
        if self.kind == "asgi":
            return asyncio.run(_asgi(self.middleware, path, headers, method, scheme))
        return _wsgi(self.middleware, path, headers, method, scheme)


async def _asgi(
    middleware: Any, path: str, headers: dict[str, str], method: str, scheme: str
) -> Answer:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await middleware(scope, receive, send)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]]
    return Answer(start["status"], pairs, body)


def _wsgi(middleware: Any, path: str, headers: dict[str, str], method: str, scheme: str) -> Answer:
    environ = EnvironBuilder(
        path=path, method=method, headers=list(headers.items()), base_url=f"{scheme}://localhost"
    ).get_environ()
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((status, headers))
        return lambda data: None

    result = middleware(environ, start_response)
    body = b"".join(result)
    close = getattr(result, "close", None)
    if close is not None:
        close()
    status, pairs = started[-1]
    return Answer(int(status[:3]), list(pairs), body)


@pytest.fixture
def build(tmp_path: Path) -> Iterator[Callable[..., Site]]:
    """Build sites with a maintenance file in tmp_path; their pollers stop after the test."""
    sites: list[Site] = []

    def make(kind: str, **options: Any) -> Site:
        file = tmp_path / "maintenance.json"
        options.setdefault("maintenance_file", file)
        calls: list[ErrorEvent] = []
        options.setdefault("on_error", calls.append)
        if kind == "asgi":
            middleware: Any = FriendlyErrorsMiddleware(asgi_app, **options)
        else:
            middleware = FriendlyErrorsWSGIMiddleware(wsgi_app, **options)
        site = Site(kind, middleware, file, calls)
        sites.append(site)
        return site

    yield make
    for site in sites:
        if site.middleware.maintenance is not None:
            site.middleware.maintenance.switch.close()


@pytest.fixture(params=KINDS)
def site(request: pytest.FixtureRequest, build: Callable[..., Site]) -> Site:
    return build(request.param)


HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}
XML = {"Accept": "application/problem+xml"}
TEXT = {"Accept": "text/plain"}


# -- on and off ----------------------------------------------------------------------------------


def test_without_the_file_requests_reach_the_app(site: Site) -> None:
    answer = site.get("/orders")
    assert (answer.status, answer.body) == (200, b"app /orders")


def test_with_the_file_every_request_gets_the_maintenance_page(site: Site) -> None:
    site.down({"message": "Upgrading the database."})
    for path in ("/", "/orders", "/static/app.css"):
        answer = site.get(path, HTML)
        assert answer.status == 503
        page = answer.body.decode()
        assert "Down for Maintenance" in page
        assert "Upgrading the database." in page
        assert "Message from the team" in page
    site.up()
    assert site.get("/orders").status == 200


def test_the_switch_flips_by_itself_within_its_poll(build: Callable[..., Site]) -> None:
    """No call to refresh(): the poller thread notices the file on its own."""
    site = build("asgi")
    switch = site.middleware.maintenance.switch
    site.file.write_text("{}")
    deadline = time.monotonic() + 10
    while switch.state is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert site.get("/").status == 503
    site.file.unlink()
    deadline = time.monotonic() + 10
    while switch.state is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert site.get("/").status == 200


def test_a_worker_started_during_maintenance_is_closed_from_its_first_request(
    build: Callable[..., Site], tmp_path: Path
) -> None:
    (tmp_path / "maintenance.json").write_text('{"message": "Back soon."}')
    for kind in KINDS:
        assert build(kind).get("/").status == 503


# -- the response --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        pytest.param(HTML, "text/html", id="html"),
        pytest.param(JSON, "application/json", id="json"),
        pytest.param(XML, "application/problem+xml", id="xml"),
        pytest.param(TEXT, "text/plain", id="text"),
    ],
)
def test_headers_as_for_every_error_page_plus_retry_after(
    site: Site, accept: dict[str, str], media_type: str
) -> None:
    site.down({"retry_after": 900})
    answer = site.get("/", {**accept, "X-Request-ID": "maint-1"})
    assert answer.status == 503
    assert answer.header("Content-Type") == f"{media_type}; charset=utf-8"
    assert answer.header("Content-Length") == str(len(answer.body))
    assert answer.header("Retry-After") == "900"
    assert answer.header("Cache-Control") == "no-store"
    assert answer.header("Vary") == "Accept, Accept-Language"
    assert answer.header("X-Content-Type-Options") == "nosniff"
    assert answer.header("X-Request-ID") == "maint-1"
    assert answer.header("Content-Language") == "en"
    has_csp = answer.header("Content-Security-Policy") is not None
    assert has_csp == (media_type == "text/html")


def test_problem_json_says_it_is_planned_and_when_to_come_back(site: Site) -> None:
    until = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=2)
    site.down({"message": "Upgrading the database.", "retry_after": until.isoformat()})
    answer = site.get("/api/orders", JSON)
    problem = answer.json
    assert problem["status"] == 503
    assert problem["title"] == "Service Unavailable"
    assert problem["maintenance"] is True
    assert problem["detail"] == "Upgrading the database."
    assert problem["until"] == until.strftime("%Y-%m-%dT%H:%M:%SZ")
    # Retry-After counts down to the end time; the document repeats the header.
    retry_after = int(answer.header("Retry-After") or "0")
    assert 7000 < retry_after <= 7200
    assert problem["retry_after"] == retry_after
    assert "status_url" not in problem


def test_the_page_says_when_to_come_back_in_utc_and_in_words(site: Site) -> None:
    until = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(minutes=45)
    site.down({"retry_after": until.strftime("%Y-%m-%dT%H:%M:%SZ")})
    text = site.get("/", TEXT).body.decode()
    clock = until.strftime("%H:%M") if until.date() == datetime.now(timezone.utc).date() else ""
    assert f"The work should be finished by {clock}" in text
    assert re.search(r"try\s+again\s+in\s+about\s+4[45]\s+minutes", text)


@pytest.mark.parametrize(
    ("document", "retry_after", "promise"),
    [
        pytest.param({}, "120", False, id="nothing-said-the-503-hint"),
        pytest.param({"retry_after": 600}, "600", True, id="seconds"),
        pytest.param({"retry_after": 0}, "0", False, id="zero-seconds"),
        pytest.param({"retry_after": "2001-01-01T00:00:00Z"}, "120", False, id="end-time-past"),
    ],
)
def test_retry_after_without_a_future_end_time(
    site: Site, document: dict[str, Any], retry_after: str, promise: bool
) -> None:
    site.down(document)
    answer = site.get("/", TEXT)
    assert answer.header("Retry-After") == retry_after
    # Work that overran, or no word on when it ends: the page promises no time.
    assert ("should be finished by" in answer.body.decode()) is promise


@pytest.mark.parametrize("accept", [HTML, JSON, TEXT], ids=["html", "json", "text"])
def test_head_gets_the_headers_of_the_get_and_no_body(site: Site, accept: dict[str, str]) -> None:
    site.down({"message": "Back soon."})
    get = site.get("/", accept)
    head = site.get("/", accept, method="HEAD")
    assert (head.status, head.body) == (503, b"")
    assert head.header("Content-Length") == get.header("Content-Length") != "0"
    assert head.header("Retry-After") == get.header("Retry-After")


def test_the_page_is_in_the_language_the_visitor_asks_for(build: Callable[..., Site]) -> None:
    from friendly_errors import Catalogue

    french = Catalogue.default().extend(
        {
            "labels": {
                "maintenance_title": "Fermé pour maintenance",
                "maintenance_message": "Message de l'équipe",
            }
        },
        locale="fr",
    )
    for kind in KINDS:
        site = build(kind, catalogue=french)
        site.down({"message": "Mise à jour."})
        answer = site.get("/", {"Accept": "text/html", "Accept-Language": "fr-CA, en;q=0.5"})
        assert answer.header("Content-Language") == "fr"
        page = answer.body.decode()
        assert '<html lang="fr">' in page
        assert "Fermé pour maintenance" in page
        assert "Message de l&#39;équipe" in page


def test_on_error_is_not_called_during_maintenance(site: Site) -> None:
    site.down()
    assert site.get("/").status == 503
    assert site.calls == []


def test_a_page_from_an_inner_instance_passes_an_outer_one_untouched(
    build: Callable[..., Site], tmp_path: Path
) -> None:
    inner = build("asgi", status_url="https://status.example.com")
    outer = FriendlyErrorsMiddleware(inner.middleware)
    inner.down({"message": "Inner says hello."})
    answer = asyncio.run(_asgi(outer, "/", JSON, "GET", "http"))
    assert answer.json["maintenance"] is True
    assert answer.json["detail"] == "Inner says hello."


# -- what the file may say -----------------------------------------------------------------------


def test_an_empty_file_means_every_default_and_no_error(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    site.down("")
    answer = site.get("/", TEXT)
    assert (answer.status, answer.header("Retry-After")) == (503, "120")
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        pytest.param("{'message': 'single quotes'}", "is not valid JSON", id="not-json"),
        pytest.param('["a list"]', "is JSON but not an object", id="not-an-object"),
        pytest.param(b"\xff\xfe{}", "is not UTF-8 text", id="not-utf8"),
    ],
)
def test_a_malformed_file_still_means_maintenance_and_one_clear_error(
    site: Site, caplog: pytest.LogCaptureFixture, document: str | bytes, complaint: str
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    if isinstance(document, bytes):
        site.file.write_bytes(document)
        site.look()
    else:
        site.down(document)
    site.look()  # a second look at the same file says nothing new
    answer = site.get("/", TEXT)
    assert (answer.status, answer.header("Retry-After")) == (503, "120")
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert str(site.file) in errors[0]
    assert complaint in errors[0]
    assert "serving the maintenance page with defaults" in errors[0]


@pytest.mark.parametrize(
    ("document", "field_name"),
    [
        pytest.param({"retry_after": "soon"}, "retry_after", id="retry-after-words"),
        pytest.param({"retry_after": -5}, "retry_after", id="retry-after-negative"),
        pytest.param({"retry_after": True}, "retry_after", id="retry-after-bool"),
        pytest.param({"message": 42}, "message", id="message-number"),
        pytest.param({"allow_paths": "/health"}, "allow_paths", id="allow-paths-string"),
        pytest.param({"allow_paths": ["health"]}, "allow_paths", id="allow-path-relative"),
        pytest.param({"secret": "with space"}, "secret", id="secret-space"),
        pytest.param({"retry-after": 60}, "retry-after", id="unknown-field"),
    ],
)
def test_a_bad_field_is_named_and_the_rest_of_the_file_still_counts(
    site: Site, caplog: pytest.LogCaptureFixture, document: dict[str, Any], field_name: str
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    site.down({**document, "message": "Kept."} if field_name != "message" else document)
    answer = site.get("/", JSON)
    assert answer.status == 503
    if field_name != "message":
        assert answer.json["detail"] == "Kept."
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert f"{field_name!r}" in errors[0]
    assert str(site.file) in errors[0]


def test_a_secret_with_a_typo_is_not_echoed_in_the_log(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    site.down({"secret": "almost-the-password but not"})
    assert "almost-the-password" not in caplog.text


@pytest.mark.parametrize(
    ("allow_paths", "path", "through"),
    [
        pytest.param(["/health"], "/health", True, id="exact"),
        pytest.param(["/health"], "/health/db", True, id="below"),
        pytest.param(["/health/"], "/health/db", True, id="below-trailing-slash"),
        pytest.param(["/health"], "/healthz", False, id="not-a-prefix-of-words"),
        pytest.param(["/api/status*"], "/api/status-v2", True, id="star-prefix"),
        pytest.param(["/api/status*"], "/api/orders", False, id="star-prefix-no"),
        pytest.param(["/health"], "/health/../admin", False, id="dot-dot"),
        pytest.param(["/health"], "/health/./x", False, id="dot"),
        pytest.param(["/health"], "/", False, id="home"),
        pytest.param([], "/health", False, id="none"),
    ],
)
def test_paths_let_through(site: Site, allow_paths: list[str], path: str, through: bool) -> None:
    site.down({"allow_paths": allow_paths})
    answer = site.get(path)
    assert (answer.status == 200) is through
    assert allowed(allow_paths, path) is through


# -- the bypass ----------------------------------------------------------------------------------


def _bypass_cookie(answer: Answer) -> str:
    set_cookie = answer.header("Set-Cookie") or ""
    return set_cookie.split(";", 1)[0]


def test_the_secret_path_sets_a_cookie_that_lets_the_browser_through(site: Site) -> None:
    site.down({"secret": SECRET})
    answer = site.get(f"/{SECRET}")
    assert answer.status == 302
    assert answer.header("Location") == "/"
    assert answer.header("Cache-Control") == "no-store"
    assert answer.header("Referrer-Policy") == "no-referrer"
    assert answer.body == b""
    attributes = [a.strip() for a in (answer.header("Set-Cookie") or "").split(";")]
    assert set(attributes[1:]) == {"Path=/", "Max-Age=43200", "HttpOnly", "SameSite=Lax"}
    cookie = _bypass_cookie(answer)
    assert SECRET not in cookie
    through = site.get("/orders", {"Cookie": f"theme=dark; {cookie}"})
    assert (through.status, through.body) == (200, b"app /orders")
    # Everyone else still gets the page.
    assert site.get("/orders").status == 503


def test_over_https_the_cookie_is_secure(site: Site) -> None:
    site.down({"secret": SECRET})
    answer = site.get(f"/{SECRET}", scheme="https")
    assert "Secure" in [a.strip() for a in (answer.header("Set-Cookie") or "").split(";")]


def test_the_bypass_lasts_as_long_as_configured(build: Callable[..., Site]) -> None:
    for kind in KINDS:
        site = build(kind, maintenance_bypass_max_age=600)
        site.down({"secret": SECRET})
        assert "Max-Age=600" in (site.get(f"/{SECRET}").header("Set-Cookie") or "")


@pytest.mark.parametrize(
    "path",
    [f"/{SECRET[:-1]}", f"/{SECRET}x", f"/{SECRET}/", f"/x/{SECRET}", f"/{SECRET.upper()}"],
    ids=["short", "long", "slash", "nested", "case"],
)
def test_a_wrong_secret_gets_the_maintenance_page(site: Site, path: str) -> None:
    site.down({"secret": SECRET})
    answer = site.get(path)
    assert answer.status == 503
    assert answer.header("Set-Cookie") is None


def _tamper_expiry(cookie: str) -> str:
    name, value = cookie.split("=", 1)
    expiry, mac = value.split(".", 1)
    return f"{name}={int(expiry) + 86400}.{mac}"


def _tamper_mac(cookie: str) -> str:
    flipped = "0" if cookie[-1] != "0" else "1"
    return cookie[:-1] + flipped


@pytest.mark.parametrize(
    "tamper",
    [
        _tamper_expiry,
        _tamper_mac,
        lambda c: c.split(".")[0],
        lambda c: c.replace("friendly_errors_bypass=", "friendly_errors_bypass=x"),
        lambda c: f"friendly_errors_bypass={SECRET}",
        lambda c: "friendly_errors_bypass=",
        lambda c: c + "é",
    ],
    ids=["expiry", "mac", "no-mac", "garbage", "the-secret-itself", "empty", "non-ascii"],
)
def test_a_tampered_cookie_gets_the_maintenance_page(
    site: Site, tamper: Callable[[str], str]
) -> None:
    site.down({"secret": SECRET})
    cookie = _bypass_cookie(site.get(f"/{SECRET}"))
    assert site.get("/", {"Cookie": cookie}).status == 200
    assert site.get("/", {"Cookie": tamper(cookie)}).status == 503


def test_a_new_secret_ends_every_bypass(site: Site) -> None:
    site.down({"secret": SECRET})
    cookie = _bypass_cookie(site.get(f"/{SECRET}"))
    site.down({"secret": SECRET + "-rotated"})
    assert site.get("/", {"Cookie": cookie}).status == 503


def test_an_expired_cookie_gets_the_maintenance_page(site: Site) -> None:
    site.down({"secret": SECRET})
    cookie = _bypass_cookie(site.get(f"/{SECRET}"))
    maintenance = site.middleware.maintenance
    state = maintenance.switch.state
    request = RequestInfo("GET", "/", headers={"cookie": cookie})
    now = time.time()
    assert maintenance.reply(state, request, secure=False, now=now + 43000) is None
    expired = maintenance.reply(state, request, secure=False, now=now + 43300)
    assert expired is not None and expired.status == 503


def test_without_a_secret_there_is_no_bypass(site: Site) -> None:
    site.down({"secret": SECRET})
    cookie = _bypass_cookie(site.get(f"/{SECRET}"))
    site.down({})
    assert site.get(f"/{SECRET}").status == 503
    assert site.get("/", {"Cookie": cookie}).status == 503


# -- websockets and lifespan (ASGI) --------------------------------------------------------------


async def _websocket(middleware: Any, path: str, headers: dict[str, str]) -> list[Message]:
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "subprotocols": [],
    }
    incoming = [{"type": "websocket.connect"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    await middleware(scope, receive, send)
    return sent


def test_a_websocket_during_maintenance_is_closed_with_try_again_later(
    build: Callable[..., Site],
) -> None:
    site = build("asgi")
    assert asyncio.run(_websocket(site.middleware, "/live", {}))[-1]["code"] == 1000
    site.down({"secret": SECRET, "allow_paths": ["/live/health"]})
    sent = asyncio.run(_websocket(site.middleware, "/live", {}))
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.close"]
    assert sent[1]["code"] == WEBSOCKET_TRY_AGAIN_LATER == 1013
    # The team's browser, and paths let through, still reach the app.
    cookie = _bypass_cookie(site.get(f"/{SECRET}"))
    assert asyncio.run(_websocket(site.middleware, "/live", {"Cookie": cookie}))[-1]["code"] == 1000
    assert asyncio.run(_websocket(site.middleware, "/live/health", {}))[-1]["code"] == 1000


def test_lifespan_passes_through_during_maintenance(build: Callable[..., Site]) -> None:
    site = build("asgi")
    site.down()
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(site.middleware({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    assert sent == [{"type": "lifespan.startup.complete"}]


# -- the log ---------------------------------------------------------------------------------------


def test_one_info_line_when_maintenance_starts_and_one_when_it_ends(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    site.down({"message": "one"})
    site.down({"message": "two"})
    for _ in range(3):
        site.get("/")
    site.up()
    site.up()
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(lines) == 2
    assert lines[0].startswith("Maintenance mode on") and str(site.file) in lines[0]
    assert lines[1].startswith("Maintenance mode off")


# -- sources other than a file ---------------------------------------------------------------------


class Settable:
    """A source that answers whatever it is set to, raising it when it is an exception.

    The poller thread may ask it at any moment too; it gets the same answer as the test.
    """

    def __init__(self, answer: object = None) -> None:
        self.answer = answer

    def current(self) -> MaintenanceState | None:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer  # type: ignore[return-value]

    def __repr__(self) -> str:
        return "Settable()"


def test_a_source_object_switches_maintenance(build: Callable[..., Site]) -> None:
    for kind in KINDS:
        source = Settable()
        site = build(kind, maintenance_file=None, maintenance=source)
        assert site.get("/").status == 200
        source.answer = MaintenanceState(message="From the source.")
        site.look()
        assert site.get("/", JSON).json["detail"] == "From the source."
        source.answer = None
        site.look()
        assert site.get("/").status == 200


@pytest.mark.parametrize("state_before", ["on", "off"])
def test_a_failing_source_keeps_the_last_state_and_warns_once(
    build: Callable[..., Site], caplog: pytest.LogCaptureFixture, state_before: str
) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    last = MaintenanceState() if state_before == "on" else None
    source = Settable(last)
    site = build("wsgi", maintenance_file=None, maintenance=source)
    caplog.clear()
    source.answer = ConnectionError("Connection refused")
    for _ in range(3):
        site.look()
        assert site.get("/").status == (503 if state_before == "on" else 200)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1
    assert "Connection refused" in warned[0]
    assert f"maintenance {state_before}" in warned[0]
    source.answer = last
    site.look()
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned[1:] == ["Maintenance source Settable() answers again"]


def test_a_source_returning_something_else_is_a_failing_source(
    build: Callable[..., Site], caplog: pytest.LogCaptureFixture
) -> None:
    source = Settable()
    site = build("asgi", maintenance_file=None, maintenance=source)
    source.answer = {"message": "a dict"}
    site.look()
    assert site.get("/").status == 200
    assert "not a MaintenanceState or None" in caplog.text


# -- the poller ------------------------------------------------------------------------------------


def test_a_dropped_middleware_takes_its_poller_with_it(tmp_path: Path) -> None:
    middleware = FriendlyErrorsWSGIMiddleware(wsgi_app, maintenance_file=tmp_path / "m.json")
    assert middleware.maintenance is not None
    thread = middleware.maintenance.switch._thread
    assert thread.is_alive()
    del middleware
    gc.collect()
    thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX")
def test_after_fork_the_child_polls_on_its_own(build: Callable[..., Site]) -> None:
    """A server that imports the app and then forks its workers (gunicorn --preload)."""
    site = build("wsgi")
    read, write = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12 and later warn about forking with our poller thread running.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe and its exit status
        try:
            os.close(read)
            deadline = time.monotonic() + 15
            while site.middleware.maintenance.switch.state is None:
                if time.monotonic() > deadline:
                    os._exit(3)
                time.sleep(0.05)
            os.write(write, b"503" if site.get("/").status == 503 else b"???")
        finally:
            os._exit(0)
    os.close(write)
    site.file.write_text("{}")  # the child's poller, not the parent's, has to see this
    reply = os.read(read, 16)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    assert (reply, os.waitstatus_to_exitcode(status)) == (b"503", 0)


# -- options ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        pytest.param(
            {"maintenance_file": "m.json", "maintenance": Settable()},
            ValueError,
            "not both",
            id="both",
        ),
        pytest.param(
            {"maintenance_file": "/no/such/directory/m.json"},
            ValueError,
            "directory that does not exist",
            id="missing-directory",
        ),
        pytest.param({"maintenance_file": 42}, TypeError, "must be a path", id="file-type"),
        pytest.param({"maintenance": object()}, TypeError, "current()", id="not-a-source"),
        pytest.param(
            {"maintenance_file": "m.json", "maintenance_bypass_max_age": 0},
            ValueError,
            "maintenance_bypass_max_age",
            id="max-age-zero",
        ),
        pytest.param(
            {"maintenance_file": "m.json", "maintenance_bypass_max_age": "12h"},
            TypeError,
            "maintenance_bypass_max_age",
            id="max-age-text",
        ),
        pytest.param(
            {"status_url": "javascript:alert(1)"}, ValueError, "status_url", id="status-url"
        ),
    ],
)
@pytest.mark.parametrize("kind", KINDS)
def test_bad_options_fail_when_the_middleware_is_built(
    kind: str, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        if kind == "asgi":
            FriendlyErrorsMiddleware(asgi_app, **options)
        else:
            FriendlyErrorsWSGIMiddleware(wsgi_app, **options)


def test_a_relative_maintenance_file_survives_a_change_of_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    middleware = FriendlyErrorsWSGIMiddleware(wsgi_app, maintenance_file="maintenance.json")
    assert middleware.maintenance is not None
    try:
        monkeypatch.chdir("/")
        (tmp_path / "maintenance.json").write_text("{}")
        assert middleware.maintenance.switch.refresh() == MaintenanceState()
    finally:
        middleware.maintenance.switch.close()


def test_without_the_options_there_is_no_maintenance_and_no_thread() -> None:
    before = set(threading.enumerate())
    for middleware in (FriendlyErrorsMiddleware(asgi_app), FriendlyErrorsWSGIMiddleware(wsgi_app)):
        assert middleware.maintenance is None
    # Pollers of earlier tests may be ending meanwhile; none may have started.
    assert set(threading.enumerate()) - before == set()


# -- where to look during an outage ----------------------------------------------------------------


STATUS = "https://status.example.com/"


@pytest.mark.parametrize(
    ("status", "linked"),
    [pytest.param(503, True, id="503"), pytest.param(500, True, id="500"),
     pytest.param(404, False, id="404")],
)  # fmt: skip
def test_status_url_is_the_first_thing_to_do_on_every_5xx_page(
    build: Callable[..., Site], status: int, linked: bool
) -> None:
    async def failing(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = FriendlyErrorsMiddleware(failing, intercept=[404, "5xx"], status_url=STATUS)
    page = asyncio.run(_asgi(middleware, "/", HTML, "GET", "http")).body.decode()
    problem = asyncio.run(_asgi(middleware, "/", JSON, "GET", "http")).json
    assert (f'<li><a href="{STATUS}">Check the status page</a></li>' in page) is linked
    assert (problem.get("status_url") == STATUS) is linked
    if linked:
        # First under "What you can do", before the catalogue's own advice.
        can_do = page.split('id="what-you-can-do"', 1)[1]
        assert can_do.index(STATUS) < can_do.index("<li>", can_do.index(STATUS))


def test_status_url_on_the_maintenance_page(build: Callable[..., Site]) -> None:
    for kind in KINDS:
        site = build(kind, status_url=STATUS)
        site.down()
        assert f'href="{STATUS}"' in site.get("/", HTML).body.decode()
        assert site.get("/", JSON).json["status_url"] == STATUS
        text = site.get("/", TEXT).body.decode()
        assert f"  - Check the status page:\n    {STATUS}\n" in text


# -- the state document ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param("", MaintenanceState(), id="empty"),
        pytest.param("  \n", MaintenanceState(), id="blank"),
        pytest.param("{}", MaintenanceState(), id="empty-object"),
        pytest.param('{"message": "  Hi.  "}', MaintenanceState(message="Hi."), id="message"),
        pytest.param('{"message": ""}', MaintenanceState(), id="empty-message"),
        pytest.param('{"retry_after": 30}', MaintenanceState(retry_after=30), id="seconds"),
        pytest.param(
            '{"retry_after": "2026-05-09T14:30:00Z"}',
            MaintenanceState(until=datetime(2026, 5, 9, 14, 30, tzinfo=timezone.utc)),
            id="until-z",
        ),
        pytest.param(
            '{"retry_after": "2026-05-09T16:30:00+02:00"}',
            MaintenanceState(until=datetime(2026, 5, 9, 14, 30, tzinfo=timezone.utc)),
            id="until-offset",
        ),
        pytest.param(
            '{"retry_after": "2026-05-09 14:30"}',
            MaintenanceState(until=datetime(2026, 5, 9, 14, 30, tzinfo=timezone.utc)),
            id="until-naive-is-utc",
        ),
        pytest.param(
            '{"allow_paths": ["/health", "/api/*"], "secret": "abc"}',
            MaintenanceState(allow_paths=("/health", "/api/*"), secret="abc"),
            id="paths-and-secret",
        ),
        pytest.param(
            '\ufeff{"message": "BOM"}'.encode(), MaintenanceState(message="BOM"), id="utf8-bom"
        ),
    ],
)
def test_state_documents(document: str | bytes, expected: MaintenanceState) -> None:
    assert MaintenanceState.from_json(document) == expected


def test_the_secret_stays_out_of_repr() -> None:
    assert SECRET not in repr(MaintenanceState(secret=SECRET))


def test_a_state_survives_its_json_form(tmp_path: Path) -> None:
    state = MaintenanceState(
        message="Back at 14:30.",
        until=datetime(2026, 5, 9, 14, 30, tzinfo=timezone.utc),
        allow_paths=("/health",),
        secret=SECRET,
    )
    source = MaintenanceFile(tmp_path / "m.json")
    source.write(state)
    assert source.current() == state
    assert source.remove() is True
    assert source.current() is None
    assert source.remove() is False


def test_a_huge_file_is_not_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"message": "' + "x" * 70_000 + '"}')
    state = MaintenanceFile(path).current()
    assert state is not None and state.message is None
    assert "is larger than" in state.problems[0]


def test_a_file_that_cannot_be_read_still_means_maintenance(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.mkdir()  # it exists, so the operator wants the site down; reading it fails even for root
    state = MaintenanceFile(path).current()
    assert state is not None and "cannot be read" in state.problems[0]


def test_the_documented_redis_source_is_the_tested_example() -> None:
    """docs/maintenance.md shows the class tests/wire/test_maintenance_wire.py runs against Redis."""
    root = Path(__file__).resolve().parent.parent
    doc = (root / "docs" / "maintenance.md").read_text(encoding="utf-8")
    example = (root / "examples" / "maintenance_redis.py").read_text(encoding="utf-8")
    start = example.index("class RedisMaintenance")
    shown = example[start : example.index("    def __repr__")].rstrip()
    assert shown in doc
