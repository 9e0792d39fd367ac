from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from friendly_errors import Catalogue
from friendly_errors.core import (
    DETAIL_MAX_CHARS,
    DETAIL_MAX_LINES,
    DetailCollector,
    ErrorEvent,
    ErrorHandler,
    format_exception,
)
from friendly_errors.rendering import RequestInfo

GET_HTML = RequestInfo("GET", "/report", headers={"accept": "text/html"})
GET_JSON = RequestInfo("GET", "/api", headers={"accept": "application/json"})


def headers_of(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in pairs:
        found.setdefault(name.lower(), []).append(value)
    return found


# -- options are checked when the middleware is built -------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        pytest.param({"debug": "yes"}, TypeError, "debug must be True or False", id="debug"),
        pytest.param({"intercept": 500}, TypeError, "intercept must be a collection", id="int"),
        pytest.param({"intercept": "5xx"}, TypeError, "intercept must be a collection", id="str"),
        pytest.param({"intercept": [200]}, ValueError, "intercept: .* got 200", id="2xx"),
        pytest.param({"intercept": [1000]}, ValueError, "intercept: .* got 1000", id="range"),
        pytest.param({"intercept": ["3xx"]}, ValueError, "intercept: .* got '3xx'", id="3xx"),
        pytest.param({"intercept": [True]}, ValueError, "intercept: .* got True", id="bool"),
        pytest.param({"catalogue": {}}, TypeError, "catalogue must be a Catalogue", id="catalogue"),
        pytest.param({"on_error": "log"}, TypeError, "on_error must be a callable", id="on_error"),
        pytest.param(
            {"default_format": "pdf"}, ValueError, "default_format must be one of", id="format"
        ),
        pytest.param(
            {"request_id_headers": "X-Request-ID"},
            TypeError,
            "request_id_headers must be a list",
            id="request-id-str",
        ),
        pytest.param(
            {"request_id_headers": ["X Request"]},
            ValueError,
            "request_id_headers: 'X Request' is not a valid header name",
            id="request-id-name",
        ),
        pytest.param(
            {"request_id_response_header": "X-ID\r\n"},
            ValueError,
            "request_id_response_header",
            id="response-header",
        ),
        pytest.param(
            {"keep_headers": ["X-Rate:Limit"]},
            ValueError,
            "keep_headers: 'X-Rate:Limit'",
            id="keep-headers",
        ),
        pytest.param(
            {"use_app_detail": 1}, TypeError, "use_app_detail must be True or False", id="detail"
        ),
    ],
)
def test_bad_options_fail_at_construction_naming_the_option(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        ErrorHandler(**options)


def test_a_missing_template_directory_fails_at_construction(tmp_path: Path) -> None:
    with pytest.raises((ValueError, FileNotFoundError), match="nowhere"):
        ErrorHandler(template_dirs=[tmp_path / "nowhere"])


@pytest.mark.parametrize(
    ("intercept", "inside", "outside"),
    [
        pytest.param(None, [500, 503, 524, 599], [404, 499, 600], id="default-5xx"),
        pytest.param([404, "52x".replace("2x", "xx")], [404, 500, 524], [403], id="code-and-class"),
        pytest.param(range(520, 528), [520, 527], [500, 528], id="range"),
        pytest.param([], [], [500], id="nothing"),
    ],
)
def test_intercept(
    intercept: Iterable[int | str] | None, inside: list[int], outside: list[int]
) -> None:
    handler = ErrorHandler(intercept=intercept)
    assert all(handler.intercepts(code) for code in inside)
    assert not any(handler.intercepts(code) for code in outside)


# -- request IDs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"x-request-id": "abc-123"}, "abc-123", id="x-request-id"),
        pytest.param({"x-correlation-id": "corr.42"}, "corr.42", id="correlation"),
        pytest.param(
            {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
            "4bf92f3577b34da6a3ce929d0e0e4736",
            id="traceparent",
        ),
        pytest.param({"cf-ray": "8a1b2c3d4e5f6789-LHR"}, "8a1b2c3d4e5f6789-LHR", id="cf-ray"),
        pytest.param(
            {"x-request-id": "bad\r\nSet-Cookie: x=1", "cf-ray": "ray-1"},
            "ray-1",
            id="crlf-skipped",
        ),
        pytest.param(
            {"x-request-id": "a" * 10_000, "x-correlation-id": "ok"}, "ok", id="10kb-skipped"
        ),
        pytest.param({"x-request-id": "<script>"}, None, id="markup"),
        pytest.param(
            {"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"},
            None,
            id="zero-trace-id",
        ),
        pytest.param({"traceparent": "garbage"}, None, id="bad-traceparent"),
        pytest.param({}, None, id="absent"),
    ],
)
def test_request_id(headers: dict[str, str], expected: str | None) -> None:
    found = ErrorHandler().request_id(headers)
    if expected is None:
        assert re.fullmatch(r"[0-9a-f]{32}", found)
    else:
        assert found == expected


def test_request_id_headers_are_configurable() -> None:
    handler = ErrorHandler(request_id_headers=["X-Amzn-Trace-Id"])
    assert handler.request_id({"x-amzn-trace-id": "Root=1-67891233"}) == "Root=1-67891233"
    assert handler.request_id({"x-request-id": "ignored"}) != "ignored"


@given(st.text(max_size=300))
def test_request_id_is_always_safe(value: str) -> None:
    found = ErrorHandler().request_id({"x-request-id": value})
    assert re.fullmatch(r"[A-Za-z0-9._:@+=/-]{1,128}", found)


# -- the app's own explanation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "chunks", "expected"),
    [
        pytest.param(
            "application/json",
            [b'{"detail": "Database is down"}'],
            "Database is down",
            id="fastapi",
        ),
        pytest.param("application/json", [b'{"message": "Try later"}'], "Try later", id="message"),
        pytest.param("application/vnd.api+json", [b'{"error": "Quota"}'], "Quota", id="plus-json"),
        pytest.param(
            "application/json",
            [b'{"title": "503 Service Unavailable", "description": "Back at ten"}'],
            "Back at ten",
            id="falcon-description",
        ),
        pytest.param("application/json", [b'{"detail": ', b'"split"}'], "split", id="chunked"),
        pytest.param("application/json", [b'{"detail": 42}'], None, id="not-a-string"),
        pytest.param("application/json", [b'["detail"]'], None, id="not-an-object"),
        pytest.param("application/json", [b"{broken"], None, id="invalid-json"),
        pytest.param(
            "text/plain; charset=utf-8",
            [b"Maintenance until 10:00\n"],
            "Maintenance until 10:00",
            id="text",
        ),
        pytest.param("text/plain", [b"x" * 2000], None, id="long-text"),
        pytest.param("text/plain", [b"Service Unavailable"], None, id="echo-of-title"),
        pytest.param("text/plain", [b"  \x00\x07 "], None, id="only-control-chars"),
        pytest.param("text/html", [b"<h1>Oops</h1>"], None, id="html"),
        pytest.param(None, [b"Oops"], None, id="no-content-type"),
        pytest.param("text/plain", [], None, id="empty"),
        pytest.param("text/plain", [b"a" * 5000, b"b" * 5000], None, id="over-the-limit"),
    ],
)
def test_detail_collector(
    content_type: str | None, chunks: list[bytes], expected: str | None
) -> None:
    collector = DetailCollector(content_type, title="Service Unavailable")
    for chunk in chunks:
        collector.feed(chunk)
    assert collector.detail() == expected


def test_detail_collector_keeps_bounded_memory() -> None:
    collector = DetailCollector("text/plain", limit=16)
    for _ in range(1000):
        collector.feed(b"x" * 1024)
    assert collector.detail() is None
    assert collector._size <= 16


# -- the replacement ----------------------------------------------------------------------------


def test_respond_drops_body_headers_and_keeps_the_ones_that_still_matter() -> None:
    handler = ErrorHandler(keep_headers=["X-RateLimit-*", "X-Trace"])
    original = [
        ("Content-Type", "application/json"),
        ("Content-Length", "42"),
        ("Content-Encoding", "gzip"),
        ("ETag", '"abc"'),
        ("Last-Modified", "Tue, 01 Jan 2030 00:00:00 GMT"),
        ("Cache-Control", "max-age=3600"),
        ("Retry-After", "30"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("Access-Control-Allow-Origin", "*"),
        ("WWW-Authenticate", "Bearer"),
        ("Allow", "GET"),
        ("Vary", "Origin"),
        ("X-RateLimit-Remaining", "0"),
        ("X-Trace", "t1"),
        ("X-Internal", "secret"),
    ]
    rendered = handler.respond(503, GET_HTML, request_id="rid", original_headers=original)
    got = headers_of(rendered.headers)
    assert got["content-type"] == ["text/html; charset=utf-8"]
    assert got["content-length"] == [str(len(rendered.body))]
    assert "content-encoding" not in got and "etag" not in got and "last-modified" not in got
    assert got["cache-control"] == ["no-store"]
    assert got["retry-after"] == ["30"], "the app's Retry-After wins over the catalogue's hint"
    assert got["set-cookie"] == ["a=1", "b=2"]
    assert got["access-control-allow-origin"] == ["*"]
    assert got["www-authenticate"] == ["Bearer"] and got["allow"] == ["GET"]
    assert got["vary"] == ["Accept, Accept-Language, Origin"]
    assert got["x-ratelimit-remaining"] == ["0"] and got["x-trace"] == ["t1"]
    assert "x-internal" not in got
    assert got["x-request-id"] == ["rid"]


def test_respond_adds_the_catalogue_hint_when_the_app_gave_none() -> None:
    rendered = ErrorHandler().respond(503, GET_JSON, request_id="rid")
    got = headers_of(rendered.headers)
    hint = Catalogue.default().get(503).retry_after
    assert hint is not None
    assert got["retry-after"] == [str(hint)]
    assert json.loads(rendered.body)["retry_after"] == hint


def test_respond_keeps_the_headers_the_catalogue_says_matter() -> None:
    original = [("Content-Range", "bytes */1000"), ("Content-Type", "text/plain")]
    handler = ErrorHandler(intercept=[416])
    got = headers_of(
        handler.respond(416, GET_HTML, request_id="r", original_headers=original).headers
    )
    assert got["content-range"] == ["bytes */1000"]


def test_vary_star_stays_star() -> None:
    rendered = ErrorHandler().respond(
        500, GET_HTML, request_id="r", original_headers=[("Vary", "*")]
    )
    assert headers_of(rendered.headers)["vary"] == ["*"]


def test_request_id_response_header_can_be_renamed_or_switched_off() -> None:
    renamed = ErrorHandler(request_id_response_header="X-Correlation-ID")
    assert headers_of(renamed.respond(500, GET_HTML, request_id="r").headers)[
        "x-correlation-id"
    ] == ["r"]
    off = ErrorHandler(request_id_response_header=None)
    assert "x-request-id" not in headers_of(off.respond(500, GET_HTML, request_id="r").headers)


def test_problem_details_are_left_alone_unless_asked() -> None:
    problem = [("Content-Type", "application/problem+json")]
    assert ErrorHandler().leaves_alone(problem)
    assert not ErrorHandler(replace_problem_details=True).leaves_alone(problem)
    assert not ErrorHandler().leaves_alone([("Content-Type", "application/json")])
    assert not ErrorHandler().leaves_alone([])


def test_app_detail_can_be_switched_off() -> None:
    handler = ErrorHandler(use_app_detail=False)
    collector = handler.collector(503, [("Content-Type", "text/plain")])
    collector.feed(b"Database is down")
    assert collector.detail() is None
    body = handler.respond(503, GET_JSON, request_id="r", detail="Database is down").body
    assert b"Database is down" not in body


def test_debug_shows_the_chain_and_never_locals() -> None:
    secret = "hunter2-local"

    def fail() -> None:
        password = secret  # noqa: F841 - a local that must never be shown
        try:
            raise KeyError("inner")
        except KeyError as exc:
            raise RuntimeError("outer") from exc

    with pytest.raises(RuntimeError) as info:
        fail()
    text = format_exception(info.value)
    assert "KeyError: 'inner'" in text and "RuntimeError: outer" in text
    assert "direct cause" in text
    assert secret not in text.replace("password = secret", "")
    debug_body = (
        ErrorHandler(debug=True).respond(500, GET_JSON, request_id="r", exception=info.value).body
    )
    assert "RuntimeError: outer" in json.loads(debug_body)["traceback"]
    quiet_body = ErrorHandler().respond(500, GET_JSON, request_id="r", exception=info.value).body
    assert b"outer" not in quiet_body and b"traceback" not in quiet_body


# -- reporting ------------------------------------------------------------------------------------


def test_report_logs_once_and_calls_the_hook(caplog: pytest.LogCaptureFixture) -> None:
    events: list[ErrorEvent] = []
    handler = ErrorHandler(on_error=events.append)
    error = ValueError("boom")
    with caplog.at_level(logging.ERROR, logger="friendly_errors"):
        result = handler.report(
            500, GET_HTML, request_id="r1", scope={"type": "http"}, exception=error
        )
    assert result is None
    assert [r.exc_info[1] for r in caplog.records if r.exc_info] == [error]
    assert len(caplog.records) == 1 and "r1" in caplog.records[0].getMessage()
    assert [(e.status, e.exception, e.request_id) for e in events] == [(500, error, "r1")]


def test_report_without_exception_does_not_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="friendly_errors"):
        assert ErrorHandler().report(503, GET_HTML, request_id="r", scope={}) is None
    assert caplog.records == []


def test_a_failing_hook_is_logged_and_swallowed(caplog: pytest.LogCaptureFixture) -> None:
    def hook(event: ErrorEvent) -> None:
        raise RuntimeError("hook broke")

    with caplog.at_level(logging.ERROR, logger="friendly_errors"):
        ErrorHandler(on_error=hook).report(503, GET_HTML, request_id="r", scope={})
    assert any("on_error hook failed" in r.getMessage() for r in caplog.records)


def test_an_async_hook_is_returned_to_be_awaited(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[int] = []

    async def hook(event: ErrorEvent) -> None:
        seen.append(event.status)

    async def broken(event: ErrorEvent) -> None:
        raise RuntimeError("async hook broke")

    pending = ErrorHandler(on_error=hook).report(502, GET_HTML, request_id="r", scope={})
    assert pending is not None
    asyncio.run(_await(pending))
    assert seen == [502]
    failing = ErrorHandler(on_error=broken).report(502, GET_HTML, request_id="r", scope={})
    assert failing is not None
    with caplog.at_level(logging.ERROR, logger="friendly_errors"):
        asyncio.run(_await(failing))
    assert any("on_error hook failed" in r.getMessage() for r in caplog.records)


async def _await(awaitable: Any) -> None:
    await awaitable


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        pytest.param([("Content-Type", "text/plain")], b"Disk full", "Disk full", id="plain"),
        pytest.param(
            [("Content-Type", "text/plain"), ("Content-Encoding", "gzip")],
            b"\x1f\x8b\x08\x00garbage",
            None,
            id="compressed-body-gives-no-detail",
        ),
        pytest.param(
            [("Content-Type", "text/plain"), ("Content-Encoding", "identity")],
            b"Disk full",
            "Disk full",
            id="identity-encoding",
        ),
        pytest.param(
            [("Content-Type", "application/json")], b"[" * 8000, None, id="deeply-nested-json"
        ),
        pytest.param(
            [("Content-Type", "text/plain")], b"Service Unavailable", None, id="echoes-the-title"
        ),
    ],
)
def test_handler_collector(
    headers: list[tuple[str, str]], body: bytes, expected: str | None
) -> None:
    collector = ErrorHandler().collector(503, headers)
    collector.feed(body)
    assert collector.detail() == expected


def test_a_new_request_id_is_32_random_hex_digits() -> None:
    handler = ErrorHandler()
    found = {handler.request_id({}) for _ in range(200)}
    assert len(found) == 200
    for value in found:
        assert re.fullmatch(r"[0-9a-f]{32}", value)
    # Every digit position varies: no fixed version or variant nibble, all 128 bits random.
    assert all(len({value[i] for value in found}) > 4 for i in range(32))


STARLETTE_DEBUG_TRACEBACK = """Traceback (most recent call last):
  File "/app/main.py", line 12, in endpoint
    raise RuntimeError("db password s3cret")
RuntimeError: db password s3cret"""


@pytest.mark.parametrize(
    ("media_type", "text", "quoted"),
    [
        ("text/plain", "x" * DETAIL_MAX_CHARS, True),
        ("text/plain", "x" * (DETAIL_MAX_CHARS + 1), False),
        ("text/plain", "\n".join(["line"] * DETAIL_MAX_LINES), True),
        ("text/plain", "\n".join(["line"] * (DETAIL_MAX_LINES + 1)), False),
        ("text/plain", STARLETTE_DEBUG_TRACEBACK, False),
        ("text/plain", '  File "/app/main.py", line 12, in endpoint', False),
        ("application/json", STARLETTE_DEBUG_TRACEBACK, False),
        ("text/plain", "Traceback: our word for the support details", True),
    ],
    ids=[
        "at-char-limit",
        "over-char-limit",
        "at-line-limit",
        "over-line-limit",
        "traceback",
        "frame-line",
        "traceback-in-json",
        "the-word-only",
    ],
)
def test_only_one_short_paragraph_is_quoted_and_never_a_traceback(
    media_type: str, text: str, quoted: bool
) -> None:
    """The README promises no traceback reaches a client unless debug=True: an app in its own
    debug mode (Starlette's debug=True answers a non-HTML client with a plain-text traceback)
    must not have it quoted as its message (#11)."""
    body = json.dumps({"detail": text}) if media_type == "application/json" else text
    collector = ErrorHandler().collector(500, [("Content-Type", media_type)])
    collector.feed(body.encode())
    assert collector.detail() == (text if quoted else None)


def test_the_first_content_type_decides_the_detail() -> None:
    collector = ErrorHandler().collector(
        503, [("Content-Type", "text/plain"), ("content-type", "text/html")]
    )
    collector.feed(b"Back at 10:00")
    assert collector.detail() == "Back at 10:00"


@pytest.mark.parametrize("media_type", ["text/plain", "application/json"])
def test_details_stay_right_over_many_bodies_repeated(media_type: str) -> None:
    handler = ErrorHandler()
    for i in [*range(600), *range(5)]:
        text = f"Down for {i} minutes"
        body = json.dumps({"detail": text}) if media_type == "application/json" else text
        collector = handler.collector(503, [("Content-Type", media_type)])
        collector.feed(body.encode())
        assert collector.detail() == text


def test_a_path_cannot_forge_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    forged = RequestInfo("GET", "/x\nERROR friendly_errors: admin login ok")
    with caplog.at_level(logging.ERROR, logger="friendly_errors"):
        ErrorHandler().report(500, forged, request_id="r", scope={}, exception=ValueError("x"))
    (record,) = caplog.records
    assert "\n" not in record.getMessage()
    assert "'/x\\nERROR friendly_errors: admin login ok'" in record.getMessage()
