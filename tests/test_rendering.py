"""Renderer behaviour as tables: formats, headers, templates, fallbacks, languages and hostile input."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import http
import json
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markupsafe import escape

from friendly_errors import _wrap
from friendly_errors.catalogue import Catalogue
from friendly_errors.negotiation import Format
from friendly_errors.rendering import BUILTIN_TEMPLATE, RenderedError, Renderer, RequestInfo

DATA = Path(__file__).parent / "data"
CHROME_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
NS = "{urn:ietf:rfc:7807}"
NOW = datetime(2026, 5, 9, 7, 35, 25, tzinfo=timezone.utc)
MARKDOWN_CONTENT_TYPE = "text/markdown; charset=utf-8; variant=CommonMark"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def request(
    accept: str | None = None, method: str = "GET", path: str = "/orders/42", **more: str
) -> RequestInfo:
    headers = {name.replace("_", "-"): value for name, value in more.items()}
    if accept is not None:
        headers["accept"] = accept
    return RequestInfo(method, path, headers=headers)


def render(
    r: Renderer, status: int = 502, accept: str | None = CHROME_ACCEPT, **kwargs: Any
) -> RenderedError:
    method = kwargs.pop("method", "GET")
    path = kwargs.pop("path", "/orders/42")
    headers = kwargs.pop("headers", {})
    kwargs.setdefault("request_id", "req-1")
    kwargs.setdefault("now", NOW)
    req = request(accept, method, path, **headers)
    return r.render(status, req, **kwargs)


def header(rendered: RenderedError, name: str) -> str | None:
    values = [v for n, v in rendered.headers if n.lower() == name.lower()]
    assert len(values) <= 1, f"{name} given {len(values)} times"
    return values[0] if values else None


def text_of(rendered: RenderedError) -> str:
    return rendered.body.decode("utf-8")


# -- formats -----------------------------------------------------------------------------------


def test_request_and_response_values_stay_frozen_and_replaceable() -> None:
    # Their __init__ is written by hand for speed; they must still behave as frozen dataclasses.
    request = RequestInfo("GET", "/a", "x=1", {"accept": "text/html"})
    assert RequestInfo("GET", "/a").headers == {}
    assert RequestInfo("GET", "/a", "x=1", {"accept": "text/html"}) == request
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.method = "POST"  # type: ignore[misc]
    head = dataclasses.replace(request, method="HEAD")
    assert (head.method, head.path, head.query, head.headers) == (
        "HEAD",
        "/a",
        "x=1",
        request.headers,
    )
    rendered = RenderedError(503, [], b"", Format.JSON, "application/json")
    assert rendered.fallback is False
    assert dataclasses.replace(rendered, fallback=True).fallback is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        rendered.body = b"x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("accept", "fmt", "content_type"),
    [
        (CHROME_ACCEPT, Format.HTML, "text/html; charset=utf-8"),
        ("application/problem+json", Format.JSON, "application/problem+json; charset=utf-8"),
        ("application/json", Format.JSON, "application/json; charset=utf-8"),
        ("text/plain", Format.TEXT, "text/plain; charset=utf-8"),
        ("application/problem+xml", Format.XML, "application/problem+xml; charset=utf-8"),
        ("application/xml", Format.XML, "application/xml; charset=utf-8"),
        ("text/markdown, text/html", Format.MARKDOWN, MARKDOWN_CONTENT_TYPE),
        ("image/png", Format.HTML, "text/html; charset=utf-8"),
        (None, Format.HTML, "text/html; charset=utf-8"),
    ],
    ids=[
        "browser",
        "problem-json",
        "json",
        "text",
        "problem-xml",
        "xml",
        "markdown",
        "unacceptable",
        "none",
    ],
)
def test_negotiated_format_and_content_type(
    renderer: Renderer, accept: str | None, fmt: Format, content_type: str
) -> None:
    rendered = render(renderer, accept=accept)
    assert rendered.status == 502
    assert rendered.format is fmt
    assert header(rendered, "Content-Type") == content_type
    assert rendered.media_type == content_type.split(";")[0]


@pytest.mark.parametrize(
    ("kwargs", "fmt"),
    [
        ({"response_content_type": "application/json"}, Format.JSON),
        ({"response_content_type": "text/plain; charset=utf-8"}, Format.TEXT),
        ({"response_content_type": "text/markdown"}, Format.MARKDOWN),
        ({"headers": {"x_requested_with": "XMLHttpRequest"}}, Format.JSON),
    ],
    ids=["replaced-json", "replaced-text", "replaced-markdown", "xhr"],
)
def test_no_preference_follows_the_replaced_response(
    renderer: Renderer, kwargs: dict[str, Any], fmt: Format
) -> None:
    assert render(renderer, accept="*/*", **kwargs).format is fmt


def test_default_format_applies_without_preference() -> None:
    assert render(Renderer(default_format=Format.TEXT), accept=None).format is Format.TEXT


# -- headers -----------------------------------------------------------------------------------

ACCEPTS = {
    "html": CHROME_ACCEPT,
    "json": "application/problem+json",
    "text": "text/plain",
    "xml": "application/problem+xml",
    "markdown": "text/markdown",
}


@pytest.mark.parametrize("accept", ACCEPTS.values(), ids=ACCEPTS.keys())
@pytest.mark.parametrize("status", [400, 404, 418, 500, 503, 524, 599, 999], ids=str)
def test_every_error_carries_the_framing_headers(
    renderer: Renderer, accept: str, status: int
) -> None:
    rendered = render(renderer, status, accept=accept)
    assert rendered.status == status
    assert header(rendered, "Content-Length") == str(len(rendered.body))
    assert header(rendered, "Cache-Control") == "no-store"
    assert header(rendered, "Vary") == "Accept, Accept-Language"
    assert header(rendered, "X-Content-Type-Options") == "nosniff"
    assert header(rendered, "Content-Language") == "en"
    content_type = header(rendered, "Content-Type") or ""
    assert content_type.split("; ")[:2] == [rendered.media_type, "charset=utf-8"]
    html = rendered.format is Format.HTML
    assert (header(rendered, "Content-Security-Policy") is not None) is html
    assert (header(rendered, "Referrer-Policy") == "no-referrer") is html
    for name, value in rendered.headers:
        assert name[0].isupper()
        value.encode("latin-1")
        assert "\r" not in value and "\n" not in value


@pytest.mark.parametrize("accept", ACCEPTS.values(), ids=ACCEPTS.keys())
def test_head_has_the_get_headers_and_no_body(renderer: Renderer, accept: str) -> None:
    get = render(renderer, accept=accept)
    head = render(renderer, accept=accept, method="HEAD")
    assert head.body == b""
    assert head.headers == get.headers
    assert header(head, "Content-Length") == str(len(get.body)) != "0"


@pytest.mark.parametrize("status", [100, 101, 103, 204, 205, 304], ids=str)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_statuses_without_content_get_no_body(renderer: Renderer, status: int, method: str) -> None:
    rendered = render(renderer, status, method=method)
    assert rendered.status == status
    assert rendered.body == b""
    assert header(rendered, "Content-Type") is None
    assert header(rendered, "Content-Length") is None
    assert header(rendered, "Cache-Control") == "no-store"


def _style_hashes(body: str) -> list[str]:
    styles = re.findall(r"<style[^>]*>(.*?)</style>", body, re.DOTALL)
    assert styles
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in styles
    ]


def test_csp_hash_covers_the_built_in_style(renderer: Renderer) -> None:
    rendered = render(renderer)
    body = text_of(rendered)
    csp = header(rendered, "Content-Security-Policy")
    assert csp == (
        f"default-src 'none'; style-src {' '.join(_style_hashes(body))}; img-src data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    assert "<script" not in body and "style=" not in body


def test_frame_ancestors_option_reaches_the_csp() -> None:
    rendered = render(Renderer(frame_ancestors="'self' https://admin.example"))
    csp = header(rendered, "Content-Security-Policy")
    assert csp is not None and csp.endswith("frame-ancestors 'self' https://admin.example")


# -- the HTML page -----------------------------------------------------------------------------


def test_page_contents(renderer: Renderer) -> None:
    body = text_of(
        render(
            Renderer(
                site_name="Example Shop",
                home_url="https://shop.example/",
                contact_url="mailto:help@shop.example",
            ),
            524,
            detail="The report took too long.",
            retry_after=90,
            request_id="abc-123",
        )
    )
    assert '<html lang="en">' in body
    assert '<meta name="robots" content="noindex">' in body
    assert '<meta name="viewport"' in body
    assert "prefers-color-scheme: dark" in body and "prefers-reduced-motion" in body
    assert "<header" in body and "<main" in body and "<footer" in body
    assert body.index("<h1") < body.index("<h2")
    assert '<h1><span class="code">524</span> A Timeout Occurred</h1>' in body
    assert "Example Shop" in body and 'href="https://shop.example/"' in body
    assert 'href="mailto:help@shop.example"' in body
    assert "The report took too long." in body
    assert "try again in about 2 minutes" in body
    assert "Request ID: abc-123" in body and "Time (UTC): 2026-05-09T07:35:25Z" in body
    assert 'class="link is-failed"' in body and "Between the gateway and the server" in body
    assert "<details>" in body and "<details open" not in body
    assert "http://" not in body.replace('href="http', "")  # nothing is fetched
    assert len(rendered_bytes := body.encode()) < 20_000, len(rendered_bytes)


def test_every_catalogued_page_stays_under_20_kb() -> None:
    r = Renderer(site_name="Example Shop", home_url="/", contact_url="mailto:help@shop.example")
    for lang in Catalogue.default().locales:
        for status in Catalogue.default().codes():
            rendered = render(
                r,
                status,
                detail="The payment service did not answer.",
                retry_after=60,
                headers={"accept_language": lang},
            )
            assert len(rendered.body) < 20_000 or status < 200, (lang, status)


@pytest.mark.parametrize(
    ("status", "marked"),
    [
        (404, 'class="node is-failed"'),
        (500, 'class="node is-failed"'),
        (502, 'class="link is-failed"'),
        (200, None),
    ],
    ids=["client", "server", "intermediary", "none"],
)
def test_route_marks_where_it_failed(renderer: Renderer, status: int, marked: str | None) -> None:
    body = text_of(render(renderer, status)).split("<body")[1]
    failures = body.count("is-failed")
    if marked is None:
        assert failures == 0 and "Nothing failed" in body
    else:
        assert failures == 1 and marked in body
    assert 'aria-labelledby="route-caption"' in body


@pytest.mark.parametrize(
    ("kwargs", "shown", "hidden"),
    [
        ({}, ["Possible causes", "How to fix it"], ["Traceback"]),
        ({"traceback": "Traceback (most recent call last):\nBoom"}, ["Boom</pre>"], []),
    ],
    ids=["default", "traceback"],
)
def test_developer_section(
    renderer: Renderer, kwargs: dict[str, Any], shown: list[str], hidden: list[str]
) -> None:
    body = text_of(render(renderer, 500, **kwargs))
    for text in shown:
        assert text in body
    for text in hidden:
        assert text not in body


@pytest.mark.parametrize("accept", ACCEPTS.values(), ids=ACCEPTS.keys())
def test_show_developer_info_false_hides_causes_and_developer_fixes(accept: str) -> None:
    hidden = Renderer(show_developer_info=False)
    info = Catalogue.default().get(500)
    body = " ".join(text_of(render(hidden, 500, accept=accept)).split()).replace("&#39;", "'")
    for text in (*info.causes, *info.developer_fixes):
        assert text[:30] not in body
    assert info.visitor_fixes[0][:30] in body
    assert "For developers and admins" not in body


def test_show_developer_info_false_still_shows_a_traceback_it_was_given() -> None:
    body = text_of(render(Renderer(show_developer_info=False), 500, traceback="Boom"))
    assert "Boom" in body and "Possible causes" not in body


@pytest.mark.parametrize(
    ("retry_after", "retryable_status", "expected"),
    [
        (None, 503, "trying again in a few moments may work"),
        (None, 404, "the request has to change first"),
        (None, 501, "unlikely to help until the problem is fixed"),
        (0, 503, "trying again now may work"),
        (1, 503, "try again in 1 second"),
        (45, 503, "try again in 45 seconds"),
        (600, 503, "try again in about 10 minutes"),
        (3600, 503, "try again in about 1 hour"),
        (7200, 503, "try again in about 2 hours"),
        (3 * 86400, 503, "try again in about 3 days"),
        (-5, 404, "the request has to change first"),
    ],
    ids=[
        "retryable",
        "client",
        "server",
        "now",
        "1s",
        "45s",
        "10min",
        "1h",
        "2h",
        "3d",
        "negative",
    ],
)
def test_retry_advice(
    renderer: Renderer, retry_after: int | None, retryable_status: int, expected: str
) -> None:
    body = text_of(render(renderer, retryable_status, retry_after=retry_after))
    assert expected in body


@pytest.mark.parametrize(
    ("method", "status", "has_button"),
    [("GET", 503, True), ("POST", 503, False), ("GET", 404, False)],
    ids=["get-retryable", "post", "not-retryable"],
)
def test_try_again_button_only_for_safe_retryable_requests(
    renderer: Renderer, method: str, status: int, has_button: bool
) -> None:
    assert ('href="">Try again' in text_of(render(renderer, status, method=method))) is has_button


def test_spec_links_only_to_web_urls() -> None:
    catalogue = Catalogue.default().extend(
        {590: {"title": "Odd", "spec": "Somewhere", "spec_url": "javascript:alert(1)"}}
    )
    body = text_of(render(Renderer(catalogue=catalogue), 590))
    assert "javascript:" not in body and "Defined in</span> Somewhere." in body
    markdown = text_of(render(Renderer(catalogue=catalogue), 590, accept="text/markdown"))
    assert "javascript:" not in markdown and "\nDefined in Somewhere.\n" in markdown


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 5, 9, 9, 35, 25, tzinfo=timezone(timedelta(hours=2))),
        datetime(2026, 5, 9, 7, 35, 25),
    ],
    ids=["aware", "naive-is-utc"],
)
def test_time_is_shown_in_utc(renderer: Renderer, now: datetime) -> None:
    assert "2026-05-09T07:35:25Z" in text_of(render(renderer, now=now))


def test_time_defaults_to_now(renderer: Renderer) -> None:
    before = datetime.now(timezone.utc).replace(microsecond=0)
    first = render(renderer, now=None)
    second = render(renderer, now=None)
    found = re.findall(rb"Time \(UTC\): (\S+)Z", first.body + second.body)
    assert len(found) == 2
    stamp = datetime.fromisoformat(found[0].decode()).replace(tzinfo=timezone.utc)
    assert before <= stamp <= datetime.now(timezone.utc)


# -- problem details -----------------------------------------------------------------------------


def test_problem_json_members() -> None:
    r = Renderer(
        problem_type="https://errors.example/{code}",
        problem_instance="urn:request:{request_id}{path}",
    )
    rendered = render(
        r,
        503,
        accept="application/problem+json",
        path="/a b/é",
        request_id="id 1",
        retry_after=30,
        traceback="Trace",
        detail="Maintenance until noon.",
    )
    problem = json.loads(rendered.body)
    info = Catalogue.default().get(503)
    assert problem == {
        "type": "https://errors.example/503",
        "title": info.title,
        "status": 503,
        "detail": "Maintenance until noon.",
        "instance": "urn:request:id%201/a%20b/%C3%A9",
        "fault": info.fault.value,
        "summary": info.summary,
        "causes": list(info.causes),
        "fixes": {"visitor": list(info.visitor_fixes), "developer": list(info.developer_fixes)},
        "retryable": info.retryable,
        "retry_after": 30,
        "request_id": "id 1",
        "spec": info.spec,
        "spec_url": info.spec_url,
        "traceback": "Trace",
    }
    assert list(problem)[:5] == ["type", "title", "status", "detail", "instance"]


@pytest.mark.parametrize(
    ("options", "absent"),
    [
        ({}, {"instance", "retry_after", "traceback"}),
        ({"show_developer_info": False}, {"causes"}),
    ],
    ids=["defaults", "no-developer-info"],
)
def test_problem_json_optional_members(options: dict[str, Any], absent: set[str]) -> None:
    problem = json.loads(render(Renderer(**options), 500, accept="application/json").body)
    assert problem["type"] == "about:blank"
    assert problem["detail"] == Catalogue.default().get(500).summary
    assert not absent & problem.keys()
    assert ("developer" in problem["fixes"]) is ("causes" not in absent)


def test_problem_json_for_a_code_without_entry_or_spec() -> None:
    problem = json.loads(
        render(Renderer(catalogue=Catalogue.empty()), 599, accept="application/json").body
    )
    assert problem["title"] == "Server Error" or problem["title"]
    assert problem["detail"] == problem["title"]
    assert "spec" not in problem and "spec_url" not in problem


def test_problem_instance_request_id_only() -> None:
    r = Renderer(problem_instance="urn:uuid:{request_id}")
    problem = json.loads(render(r, 500, accept="application/json", request_id="a/b?c").body)
    assert problem["instance"] == "urn:uuid:a%2Fb%3Fc"


def test_problem_instance_path_only_and_invalid_utf8() -> None:
    r = Renderer(problem_instance="https://api.example{path}")
    problem = json.loads(render(r, 404, accept="application/json", path="/caf\udce9/\ud800").body)
    assert problem["instance"] == "https://api.example/caf%E9/%EF%BF%BD"


def test_problem_xml_is_well_formed_rfc_9457_appendix_b(renderer: Renderer) -> None:
    rendered = render(
        renderer, 524, accept="application/problem+xml", detail="a <b> & \x00 c\r", retry_after=5
    )
    assert rendered.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(rendered.body)
    assert root.tag == NS + "problem"
    assert root.findtext(NS + "status") == "524"
    assert root.findtext(NS + "detail") == "a <b> & \ufffd c\r"
    assert root.findtext(NS + "retryable") == "true"
    assert root.findtext(NS + "retry_after") == "5"
    causes = root.find(NS + "causes")
    assert causes is not None and len(causes) >= 1 and all(i.tag == NS + "i" for i in causes)
    fixes = root.find(NS + "fixes")
    assert fixes is not None and [c.tag for c in fixes] == [NS + "visitor", NS + "developer"]


# -- plain text --------------------------------------------------------------------------------

URL_LINE = re.compile(r"\s*\S+://\S+|\s*\w+: \S+:\S+")


@pytest.mark.parametrize("status", [404, 500, 502, 503, 524, 599], ids=str)
def test_text_is_wrapped_at_80_columns(status: int) -> None:
    r = Renderer(site_name="Example " * 20, home_url="https://shop.example/", contact_url="tel:+1")
    body = text_of(
        render(
            r,
            status,
            accept="text/plain",
            detail="word " * 100 + "x" * 200,
            path="/" + "p" * 500,
            traceback="Traceback:\n\t" + "frame " * 40,
            retry_after=60,
        )
    )
    assert body.startswith(f"{status} ")
    for line in body.splitlines():
        # A URL is never cut: it could no longer be copied.
        assert len(line) <= 80 or URL_LINE.fullmatch(line), line
    assert "Request ID: req-1" in body and "Traceback" in body


def test_text_is_plain_and_has_no_terminal_controls(renderer: Renderer) -> None:
    body = text_of(
        render(
            renderer,
            500,
            accept="text/plain",
            detail="it's \x1b[31mred\x1b[0m\r\nnext",
            path="/\x1b]0;title\x07",
        )
    )
    assert "it's" in body and "&#39;" not in body
    assert "\x1b" not in body and "\x07" not in body and "\r" not in body
    assert "\ufffd[31mred" in body


def test_text_without_optional_parts() -> None:
    empty = Catalogue.empty()
    body = text_of(
        render(Renderer(catalogue=empty, show_developer_info=False), 200, accept="text/plain")
    )
    assert body.startswith("200 OK\n")
    assert "Nothing failed" in body and "For developers" not in body and "\n---\n" not in body


def test_text_with_a_spec_without_url_and_links_without_site_name() -> None:
    catalogue = Catalogue.empty().extend({590: {"title": "Odd", "spec": "House rules"}})
    body = text_of(render(Renderer(catalogue=catalogue, home_url="/"), 590, accept="text/plain"))
    assert "  Defined in House rules.\n" in body
    assert body.endswith("\n---\n  Home: /\n")


# -- templates ---------------------------------------------------------------------------------


def write(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("files", "status", "used"),
    [
        (["524.html", "5xx.html", "error.html"], 524, "524.html"),
        (["5xx.html", "error.html"], 524, "5xx.html"),
        (["error.html"], 524, "error.html"),
        ([], 524, "built-in"),
        (["524.html", "5xx.html"], 503, "5xx.html"),
        (["5xx.html"], 404, "built-in"),
        (["404.txt"], 404, "built-in"),
    ],
    ids=["code", "class", "error", "built-in", "other-code", "other-class", "other-format"],
)
def test_template_precedence(tmp_path: Path, files: list[str], status: int, used: str) -> None:
    for name in files:
        write(tmp_path, name, f"<p>{name} {{{{ status }}}}</p>")
    body = text_of(render(Renderer(template_dirs=[tmp_path]), status))
    if used == "built-in":
        assert "<h1>" in body
    else:
        assert body == f"<p>{used} {status}</p>"


@pytest.mark.parametrize(
    ("files", "status", "used"),
    [
        (["524.md", "5xx.md", "error.md"], 524, "524.md"),
        (["5xx.md", "error.md"], 524, "5xx.md"),
        (["error.md"], 524, "error.md"),
        (["524.html", "524.txt", "5xx.html"], 524, "built-in"),
        (["5xx.md"], 404, "built-in"),
    ],
    ids=["code", "class", "error", "other-formats", "other-class"],
)
def test_markdown_template_precedence(
    tmp_path: Path, files: list[str], status: int, used: str
) -> None:
    for name in files:
        write(tmp_path, name, f"{name} {{{{ status }}}}")
    rendered = render(Renderer(template_dirs=[tmp_path]), status, accept="text/markdown")
    assert rendered.format is Format.MARKDOWN
    assert header(rendered, "Content-Type") == MARKDOWN_CONTENT_TYPE
    if used == "built-in":
        assert text_of(rendered).startswith(f"# {status} ")
    else:
        assert text_of(rendered) == f"{used} {status}"


@pytest.mark.parametrize("accept", ["text/plain", "text/markdown"])
@pytest.mark.parametrize("status", [404, 503], ids=str)
def test_html_only_template_dirs_keep_the_built_in_text(
    tmp_path: Path, status: int, accept: str
) -> None:
    write(tmp_path, "5xx.html", "<p>custom</p>")
    rendered = render(Renderer(template_dirs=[tmp_path]), status, accept=accept)
    title = f"{status} {http.HTTPStatus(status).phrase}"
    if rendered.format is Format.TEXT:
        assert text_of(rendered).startswith(f"{title}\n===")
    else:
        assert text_of(rendered).startswith(f"# {title}\n")


def test_first_template_dir_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    write(first, "error.html", "first")
    write(second, "error.html", "second")
    write(second, "404.html", "second-404")
    r = Renderer(template_dirs=[first, second])
    assert render(r, 500).body == b"first"
    assert render(r, 404).body == b"second-404"


def test_user_template_extends_the_built_in_and_overrides_one_block(tmp_path: Path) -> None:
    write(
        tmp_path,
        "error.html",
        '{% extends "friendly_errors/error.html" %}'
        "{% block footer %}<footer><p>Custom footer for {{ site_name }}</p></footer>{% endblock %}",
    )
    rendered = render(Renderer(template_dirs=[tmp_path], site_name="Shop"), 503)
    body = text_of(rendered)
    assert "<p>Custom footer for Shop</p></footer>" in body
    assert "<h1><span" in body and "What you can do" in body and 'class="foot"' not in body
    csp = header(rendered, "Content-Security-Policy")
    assert csp is not None and f"style-src {_style_hashes(body)[0]};" in csp


def test_user_styles_are_hashed_from_the_output(tmp_path: Path) -> None:
    write(
        tmp_path,
        "error.html",
        "<style>p { color: teal }</style><style media=print>p{}</style>"
        "<style>p { color: teal }</style><p>{{ status }}</p>",
    )
    r = Renderer(template_dirs=[tmp_path])
    for status in (500, 502):  # the second render comes from the cache
        rendered = render(r, status)
        hashes = _style_hashes(text_of(rendered))
        assert header(rendered, "Content-Security-Policy") == (
            f"default-src 'none'; style-src {hashes[0]} {hashes[1]}; img-src data:; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )


def test_user_template_without_styles_allows_none(tmp_path: Path) -> None:
    write(tmp_path, "error.html", "<p>plain</p>")
    csp = header(render(Renderer(template_dirs=[tmp_path])), "Content-Security-Policy")
    assert csp is not None and "style-src 'none';" in csp


def test_overriding_the_built_in_stylesheet_updates_the_csp(tmp_path: Path) -> None:
    write(tmp_path, "friendly_errors/style.css", "body { color: navy }")
    rendered = render(Renderer(template_dirs=[tmp_path]))
    body = text_of(rendered)
    assert "body { color: navy }" in body
    csp = header(rendered, "Content-Security-Policy")
    assert csp is not None and _style_hashes(body)[0] in csp


def test_csp_hash_normalises_crlf_like_the_browser(tmp_path: Path) -> None:
    (tmp_path / "error.html").write_bytes(b"<style>\r\np{}\r\n</style>")
    csp = header(render(Renderer(template_dirs=[tmp_path])), "Content-Security-Policy")
    expected = base64.b64encode(hashlib.sha256(b"\np{}\n").digest()).decode()
    assert csp is not None and expected in csp


def test_many_distinct_user_styles_keep_the_cache_bounded(tmp_path: Path) -> None:
    write(tmp_path, "error.html", "<style>/* {{ request.path }} */</style>")
    r = Renderer(template_dirs=[tmp_path])
    for i in range(300):
        rendered = render(r, path=f"/{i}")
        assert _style_hashes(text_of(rendered))[0] in (
            header(rendered, "Content-Security-Policy") or ""
        )


def test_user_text_template_is_used_and_autoescaped(tmp_path: Path) -> None:
    write(
        tmp_path,
        "5xx.txt",
        "{{ title }} {{ detail }}|{% autoescape false %}{{ detail }}{% endautoescape %}",
    )
    rendered = render(
        Renderer(template_dirs=[tmp_path]), 503, accept="text/plain", detail="it's <b>"
    )
    assert text_of(rendered) == (
        f"{Catalogue.default().get(503).title} it&#39;s &lt;b&gt;|it's <b>"
    )
    assert header(rendered, "Content-Security-Policy") is None


def test_user_markdown_template_escapes_for_markdown(tmp_path: Path) -> None:
    """What a Markdown template prints is literal Markdown, unless it asks for code or marks it safe:
    HTML autoescaping would leave a link a link and print every apostrophe as &#39;."""
    write(
        tmp_path,
        "5xx.md",
        "# {{ title }}\n\n{{ detail }}\n\nID {{ request_id|code_span }}\n\n"
        "{{ traceback|code_block }}\n{{ '**kept**'|safe }}\n",
    )
    r = Renderer(template_dirs=[tmp_path])
    detail = "it's [x](javascript:alert(1)) <b>\n# not a heading"
    for _ in range(2):  # user templates are never memoized: both renders are full
        rendered = render(
            r, 503, accept="text/markdown", detail=detail, request_id="a`b", traceback="```"
        )
        assert text_of(rendered) == (
            f"# {Catalogue.default().get(503).title}\n\n"
            "it's \\[x\\](javascript:alert(1)) &lt;b>\n\\# not a heading\n\n"
            "ID ``a`b``\n\n````text\n```\n````\n**kept**"
        )
        assert header(rendered, "Content-Security-Policy") is None
    assert len(r.memo) == 0


def test_markdown_filters_belong_to_markdown_templates(tmp_path: Path) -> None:
    write(tmp_path, "error.md", '{% include "part.md" %}')
    write(tmp_path, "part.md", "{{ request_id|code_span }}")
    assert render(Renderer(template_dirs=[tmp_path]), accept="text/markdown").body == b"`req-1`"
    write(tmp_path, "error.html", "{{ request_id|code_span }}")
    with pytest.raises(ValueError, match=r"error\.html, line 1: No filter named 'code_span'"):
        Renderer(template_dirs=[tmp_path])


@pytest.mark.parametrize("ext", ["html", "md"])
def test_template_context_contract(tmp_path: Path, ext: str) -> None:
    """Every documented name is present with its documented type (docs/templates.md)."""
    names: dict[str, type | tuple[type, ...]] = {
        "format": str, "lang": str, "dir": str, "labels": Mapping, "label_lang_attr": str,
        "status": int,
        "status_class": str, "title": str, "summary": str, "description": str, "fault": str,
        "fault_caption": str, "route": tuple, "causes": tuple, "visitor_fixes": tuple,
        "developer_fixes": tuple, "other_meanings": tuple, "spec": str, "spec_url": str,
        "retryable": bool, "site_name": (str, type(None)), "home_url": (str, type(None)),
        "contact_url": (str, type(None)), "status_url": (str, type(None)),
        "show_developer_info": bool, "request": RequestInfo,
        "request_id": str, "timestamp": str, "detail": (str, type(None)),
        "traceback": (str, type(None)), "retry_after": (int, type(None)), "retry_text": str,
        "can_retry": bool, "support_text": str,
    }  # fmt: skip
    write(tmp_path, f"error.{ext}", "{{ info.code }}")
    r = Renderer(template_dirs=[tmp_path])
    seen: dict[str, Any] = {}
    env = r._markdown_env if ext == "md" else r._env
    original = env.get_template(f"error.{ext}").render

    def spy(values: dict[str, Any]) -> str:
        seen.update(values)
        return original(values)

    env.get_template(f"error.{ext}").render = spy  # type: ignore[method-assign]
    accept = "text/markdown" if ext == "md" else CHROME_ACCEPT
    assert render(r, 502, accept=accept).body == b"502"
    assert set(seen) == set(names) | {"info"}
    assert seen["format"] == ("markdown" if ext == "md" else "html")
    for name, kind in names.items():
        assert isinstance(seen[name], kind), name
    step = seen["route"][0]
    assert (step.kind, step.key, step.state) == ("node", "browser", "ok")


# -- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "accept", "fmt"),
    [
        ("{{ 1/0 }}", CHROME_ACCEPT, Format.HTML),
        ("{{ nothing.method() }}", CHROME_ACCEPT, Format.HTML),
        ("{{ info.no_such_field }}", CHROME_ACCEPT, Format.HTML),
        ("{{ 1/0 }}", "text/plain", Format.TEXT),
        ("{{ 1/0 }}", "text/markdown", Format.MARKDOWN),
    ],
    ids=["division", "undefined-call", "undefined-attribute", "text", "markdown"],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_failing_user_template_serves_the_fallback_and_logs_once(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    source: str,
    accept: str,
    fmt: Format,
    method: str,
) -> None:
    for ext in ("html", "txt", "md"):
        write(tmp_path, f"error.{ext}", source)
    r = Renderer(template_dirs=[tmp_path])
    with caplog.at_level(logging.ERROR, logger="friendly_errors"):
        rendered = render(r, 503, accept=accept, method=method)
    records = [rec for rec in caplog.records if rec.name == "friendly_errors"]
    assert len(records) == 1
    assert records[0].exc_info is not None and records[0].levelno == logging.ERROR
    assert "503" in records[0].getMessage()
    assert rendered.status == 503
    assert rendered.format is fmt
    get_body = render(r, 503, accept=accept).body
    assert rendered.body == (b"" if method == "HEAD" else get_body)
    assert header(rendered, "Content-Length") == str(len(get_body))
    assert b"503 Service Unavailable" in get_body


class Unprintable:
    """A detail that breaks every format's serialiser: not JSON, and no string form."""

    def __str__(self) -> str:
        raise RuntimeError("no text")


@pytest.mark.parametrize(
    ("accept", "check"),
    [
        (
            "application/json",
            lambda b: (
                json.loads(b) == {"type": "about:blank", "title": "Bad Gateway", "status": 502}
            ),
        ),
        ("application/xml", lambda b: ET.fromstring(b).findtext(NS + "status") == "502"),
        ("text/plain", lambda b: b.startswith(b"502 Bad Gateway\n")),
        (
            "text/markdown",
            lambda b: b == b"# 502 Bad Gateway\n\nThe full error page could not be shown.\n",
        ),
        (CHROME_ACCEPT, lambda b: b"<h1>502 Bad Gateway</h1>" in b),
    ],
    ids=["json", "xml", "text", "markdown", "html"],
)
def test_fallback_for_every_format(
    caplog: pytest.LogCaptureFixture, accept: str, check: Any
) -> None:
    catalogue = Catalogue.default()
    r = Renderer(catalogue=catalogue)
    with caplog.at_level(logging.ERROR, logger="friendly_errors"):
        rendered = render(r, 502, accept=accept, detail=Unprintable())
    assert check(rendered.body)
    assert rendered.fallback
    assert header(rendered, "Content-Length") == str(len(rendered.body))
    assert header(rendered, "Content-Type") == render(r, 502, accept=accept).headers[0][1]
    assert len(caplog.records) == 1


def test_fallback_html_has_a_strict_csp_and_no_style() -> None:
    rendered = render(Renderer(frame_ancestors="'self'"), 418, detail=Unprintable())
    assert header(rendered, "Content-Security-Policy") == (
        "default-src 'none'; style-src 'none'; img-src data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'self'"
    )
    assert b"<h1>418 I'm a Teapot</h1>" in rendered.body


def test_fallback_for_an_unregistered_code_says_error() -> None:
    rendered = render(Renderer(), 599, accept="application/json", detail=Unprintable())
    assert json.loads(rendered.body)["title"] == "Error"


class ExplodingHeaders(Mapping[str, str]):
    def __getitem__(self, key: str) -> str:
        raise RuntimeError("broken mapping")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("broken mapping")

    def __len__(self) -> int:
        return 0


@pytest.mark.parametrize("status", [204, 503], ids=str)
def test_a_broken_request_still_gets_a_response(
    caplog: pytest.LogCaptureFixture, status: int
) -> None:
    req = RequestInfo("GET", "/", headers=ExplodingHeaders())
    with caplog.at_level(logging.ERROR, logger="friendly_errors"):
        rendered = Renderer().render(status, req, request_id="x")
    assert rendered.status == status and rendered.format is Format.HTML
    assert (rendered.body == b"") is (status == 204)
    assert len(caplog.records) == 1


@pytest.mark.parametrize("status", [42, 1000, True, "500"], ids=["low", "high", "bool", "str"])
def test_invalid_status_becomes_500(caplog: pytest.LogCaptureFixture, status: Any) -> None:
    with caplog.at_level(logging.ERROR, logger="friendly_errors"):
        rendered = render(Renderer(), status)
    assert rendered.status == 500 and b"Internal Server Error" in rendered.body
    assert len(caplog.records) == 1


def test_not_a_request_at_all(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="friendly_errors"):
        rendered = Renderer().render("nonsense", None, request_id="x")  # type: ignore[arg-type]
    assert rendered.status == 500 and rendered.format is Format.HTML
    assert len(caplog.records) == 1


def test_http_status_enum_is_accepted() -> None:
    rendered = render(Renderer(), http.HTTPStatus.SERVICE_UNAVAILABLE, accept="application/json")
    assert rendered.status == 503 and type(rendered.status) is int
    assert json.loads(rendered.body)["status"] == 503


# -- construction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"catalogue": {}}, TypeError, "catalogue"),
        ({"default_format": "html"}, TypeError, "default_format"),
        ({"show_developer_info": 1}, TypeError, "show_developer_info"),
        ({"site_name": 3}, TypeError, "site_name"),
        ({"site_name": " "}, ValueError, "site_name"),
        ({"site_name": "a\nb"}, ValueError, "site_name"),
        ({"home_url": "javascript:alert(1)"}, ValueError, "home_url"),
        ({"home_url": b"/"}, TypeError, "home_url"),
        ({"contact_url": "https://x.example/a b"}, ValueError, "contact_url"),
        ({"contact_url": "https://x.example/\r\nSet-Cookie: a"}, ValueError, "contact_url"),
        ({"problem_type": "https://e.example/{status}"}, ValueError, "problem_type"),
        ({"problem_type": "https://e.example/{code"}, ValueError, "problem_type"),
        ({"problem_type": "https://e.example/{0}"}, ValueError, "problem_type"),
        ({"problem_type": ""}, ValueError, "problem_type"),
        ({"problem_type": None}, TypeError, "problem_type"),
        ({"problem_instance": "urn:{request_id}{code}"}, ValueError, "problem_instance"),
        ({"problem_instance": "{path.x}"}, ValueError, "problem_instance"),
        ({"frame_ancestors": "'self'; script-src *"}, ValueError, "frame_ancestors"),
        ({"frame_ancestors": "'self'\r\nX: y"}, ValueError, "frame_ancestors"),
        ({"frame_ancestors": ""}, ValueError, "frame_ancestors"),
        ({"frame_ancestors": None}, TypeError, "frame_ancestors"),
        ({"template_dirs": "templates"}, TypeError, "template_dirs"),
        ({"template_dirs": [None]}, TypeError, "template_dirs"),
        ({"template_dirs": ["/no/such/dir"]}, ValueError, "/no/such/dir"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_options_fail_at_construction(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        Renderer(**options)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"error.html": "{% if %}"}, "error.html, line 1"),
        ({"5xx.html": "ok\n{{ x | no_such_filter }}"}, "5xx.html, line 2: No filter named"),
        ({"404.txt": "{% block a %}"}, "404.txt, line 1"),
        ({"5xx.md": "{{ x|code_span }}\n{% for %}"}, "5xx.md, line 2"),
        ({"error.html": '{% extends "base.html" %}'}, "template 'base.html' not found"),
        (
            {"error.html": '{% include "part.html" %}', "part.html": "{% endif %}"},
            "part.html, line 1",
        ),
        ({"friendly_errors/error.html": "{{"}, "friendly_errors/error.html, line 1"),
    ],
    ids=[
        "syntax",
        "filter",
        "text",
        "markdown",
        "missing-parent",
        "broken-partial",
        "builtin-override",
    ],
)
def test_broken_user_templates_fail_at_construction_naming_the_file(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    for name, source in files.items():
        write(tmp_path, name, source)
    with pytest.raises(ValueError, match=r"template_dirs: .*" + re.escape(message)):
        Renderer(template_dirs=[tmp_path])


def test_template_checks_skip_what_cannot_be_resolved_before_rendering(tmp_path: Path) -> None:
    write(
        tmp_path,
        "error.html",
        '{% include "optional.html" ignore missing %}{% include site_name or "x" ignore missing %}'
        "{{ status }}",
    )
    write(tmp_path, "notes.html", "{% this is not a template %}")
    write(tmp_path, "readme.md", "{{")
    assert render(Renderer(template_dirs=[tmp_path]), 500).body == b"500"


def test_template_that_is_not_utf8_fails_at_construction(tmp_path: Path) -> None:
    (tmp_path / "error.html").write_bytes(b"caf\xe9")
    with pytest.raises(
        ValueError, match=r"template_dirs: template 'error.html' is not valid UTF-8"
    ):
        Renderer(template_dirs=[tmp_path])


def test_accepted_option_forms(tmp_path: Path) -> None:
    Renderer(
        template_dirs=(str(tmp_path),),
        home_url="/",
        contact_url="tel:+441234",
        problem_instance="{path}",
        frame_ancestors=" 'self' ",
        catalogue=Catalogue.empty(),
    )


# -- languages ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def french() -> Renderer:
    catalogue = Catalogue.default().extend(
        {
            503: {
                "title": "Service indisponible",
                "summary": "Le serveur ne peut pas répondre pour l'instant.",
            }
        },
        locale="fr",
    )
    return Renderer(catalogue=catalogue)


@pytest.mark.parametrize(
    ("accept_language", "lang"),
    [
        ("fr-CH, fr;q=0.9, en;q=0.8", "fr"),
        ("sv, en;q=0.5", "en"),
        ("fr;q=0, en", "en"),
        (";;;q=abc,,\x00", "en"),
    ],
    ids=["fr", "fallback", "refused", "malformed"],
)
def test_language_is_negotiated(french: Renderer, accept_language: str, lang: str) -> None:
    for accept in ACCEPTS.values():
        rendered = render(french, 503, accept=accept, headers={"accept_language": accept_language})
        assert header(rendered, "Content-Language") == lang


def test_french_page(french: Renderer) -> None:
    rendered = render(french, 503, headers={"accept_language": "fr"})
    body = text_of(rendered)
    assert '<html lang="fr">' in body
    assert "Service indisponible" in body and "l&#39;instant" in body
    # The page's own words are French too, so nothing on it is marked as English.
    what_happened = Catalogue.default().labels("fr")["what_happened"]
    assert f'<h2 id="what-happened">{escape(what_happened)}</h2>' in body
    assert ' lang="en"' not in body
    problem = json.loads(
        render(french, 503, accept="application/json", headers={"accept_language": "fr"}).body
    )
    assert problem["title"] == "Service indisponible"


def test_a_language_without_words_of_its_own_marks_them_english() -> None:
    """Entries in Swedish but no [labels]: the headings are English, and say so (WCAG 3.1.2)."""
    catalogue = Catalogue.default().extend(
        {503: {"title": "Tjänsten är otillgänglig"}}, locale="sv"
    )
    body = text_of(render(Renderer(catalogue=catalogue), 503, headers={"accept_language": "sv"}))
    assert '<html lang="sv">' in body
    assert '<h2 id="what-happened" lang="en">What happened</h2>' in body


def test_a_language_is_one_file_and_one_word_can_be_overridden(tmp_path: Path) -> None:
    """docs/translating.md: a file adds a language; a [labels] table changes any word of any."""
    (tmp_path / "words.toml").write_text(
        'locale = "ja"\n[labels]\nwhat_happened = "発生した問題"\n', encoding="utf-8"
    )
    catalogue = Catalogue.default().extend(DATA / "sv.toml").extend(tmp_path / "words.toml")
    r = Renderer(catalogue=catalogue)
    swedish = text_of(render(r, 503, headers={"accept_language": "sv-FI"}))
    assert '<html lang="sv">' in swedish and "Tjänsten är inte tillgänglig" in swedish
    assert '<h2 id="what-happened">Vad hände</h2>' in swedish
    assert "What you can do" in swedish, "words it does not give fall back to English"
    japanese = text_of(render(r, 503, headers={"accept_language": "ja"}))
    assert '<h2 id="what-happened">発生した問題</h2>' in japanese
    assert Catalogue.default().labels("ja")["what_you_can_do"] in japanese


def test_content_language_says_what_the_text_is_in(french: Renderer) -> None:
    """French is negotiated, but 418 has no French text: the page is English and says so."""
    for accept in ACCEPTS.values():
        rendered = render(french, 418, accept=accept, headers={"accept_language": "fr"})
        assert header(rendered, "Content-Language") == "en"
    assert '<html lang="en">' in text_of(render(french, 418, headers={"accept_language": "fr"}))
    assert (
        header(render(french, 503, headers={"accept_language": "fr"}), "Content-Language") == "fr"
    )


def test_english_page_has_no_redundant_lang_attributes(renderer: Renderer) -> None:
    assert text_of(render(renderer, headers={"accept_language": "en-GB"})).count(' lang="en"') == 1


def test_locales_that_cannot_be_headers_are_never_negotiated() -> None:
    catalogue = Catalogue.default().extend({503: {"title": "x"}}, locale="e\nvil")
    rendered = render(Renderer(catalogue=catalogue), 503, headers={"accept_language": "e\nvil"})
    assert header(rendered, "Content-Language") == "en"


#: Every built-in language but English (issue #12).
TRANSLATED = Catalogue.default().locales[1:]


@pytest.mark.parametrize("status", [404, 500, 503, 524], ids=str)
@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_language_renders_in_every_format(renderer: Renderer, lang: str, status: int) -> None:
    info = Catalogue.default().get(status, lang)
    labels = Catalogue.default().labels(lang)
    assert info.locale == lang
    for fmt, accept in ACCEPTS.items():
        rendered = render(renderer, status, accept, headers={"accept_language": lang})
        assert header(rendered, "Content-Language") == lang, fmt
        assert "Accept-Language" in (header(rendered, "Vary") or "")
        body = text_of(rendered)
        if fmt == "json":
            problem = json.loads(body)
            assert (problem["title"], problem["detail"]) == (info.title, info.summary)
            # Member names are RFC 9457's, in every language.
            assert {"type", "title", "status", "detail"} <= set(problem)
        elif fmt == "xml":
            assert ET.fromstring(rendered.body).findtext(NS + "title") == info.title
        elif fmt == "text":
            for key in ("what_happened", "what_you_can_do", "support", "route"):
                assert labels[key] in body, key
            assert f"{labels['request_id']}{labels['colon']}" in body and info.title in body
        elif fmt == "markdown":
            assert body.startswith(f"# {status} ")
            for key in ("what_happened", "what_you_can_do", "support", "route"):
                assert f"\n## {labels[key]}\n" in body, key
        else:
            assert f'<html lang="{lang}"' in body
            assert ' lang="en"' not in body, "no English on the page to mark"
            for key in ("what_happened", "what_you_can_do", "support", "support_hint", "error"):
                assert str(escape(labels[key])) in body, key


@pytest.mark.parametrize("lang", TRANSLATED)
def test_a_page_runs_in_its_languages_direction(renderer: Renderer, lang: str) -> None:
    body = text_of(render(renderer, 503, headers={"accept_language": lang}))
    html_tag = body.splitlines()[1]
    direction = ' dir="rtl"' if lang == "ar" else ""
    assert html_tag == f'<html lang="{lang}"{direction}>'


@pytest.mark.parametrize("status", [400, 404, 413, 429, 451, 500, 502, 503, 520, 524, 530, 599])
@pytest.mark.parametrize("lang", [lang for lang in TRANSLATED if lang in ("ja", "ko", "zh-Hans")])
def test_cjk_text_fits_in_80_display_columns(lang: str, status: int) -> None:
    r = Renderer(site_name="サイト名" * 30, home_url="https://shop.example/")
    body = text_of(
        render(
            r,
            status,
            accept="text/plain",
            headers={"accept_language": lang},
            detail="应用程序说明。" * 30,
            path="/注文/" + "番" * 100,
            retry_after=120,
            traceback="Traceback:\n  " + "フレーム" * 60,
        )
    )
    assert header(render(r, status, "text/plain", headers={"accept_language": lang}),
                  "Content-Language") == lang  # fmt: skip
    for line in body.splitlines():
        assert _wrap.columns(line) <= 80 or URL_LINE.fullmatch(line), line


def test_the_retry_line_names_a_utc_clock_time_in_other_languages(renderer: Renderer) -> None:
    # NOW is 07:35:25 UTC; two minutes later, rounded up to the minute, is 07:38.
    for lang in TRANSLATED:
        body = text_of(render(renderer, 503, headers={"accept_language": lang}, retry_after=120))
        assert "07:38" in body, lang
    english = text_of(render(renderer, 503, retry_after=120))
    assert "try again in about 2 minutes" in english


@pytest.mark.parametrize("accept", ACCEPTS.values(), ids=ACCEPTS.keys())
@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_fallback_speaks_the_pages_language(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, lang: str, accept: str
) -> None:
    write(tmp_path, "error.html", "{{ 1/0 }}")
    write(tmp_path, "error.txt", "{{ 1/0 }}")
    r = Renderer(template_dirs=[tmp_path])
    labels = Catalogue.default().labels(lang)
    with caplog.at_level(logging.ERROR, logger="friendly_errors"):
        rendered = render(r, 503, accept, headers={"accept_language": lang}, detail=Unprintable())
    assert rendered.fallback and len(caplog.records) == 1
    assert header(rendered, "Content-Language") == lang
    body = text_of(rendered)
    title = json.loads(body)["title"] if "json" in accept else body
    assert labels["error"] in title, "the title: the IANA phrase is English"
    assert "Service Unavailable" not in body
    if accept in (CHROME_ACCEPT, "text/plain"):
        assert labels["fallback"] in body
    if accept == CHROME_ACCEPT:
        direction = ' dir="rtl"' if lang == "ar" else ""
        assert f'<html lang="{lang}"{direction}>' in body


def test_the_fallback_is_english_before_the_language_is_known(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="friendly_errors"):
        broken = RequestInfo("GET", "/", headers=ExplodingHeaders())
        rendered = Renderer().render(503, broken, request_id="r")
    assert header(rendered, "Content-Language") == "en"
    assert b"503 Service Unavailable" in rendered.body


@pytest.mark.parametrize("accept", ACCEPTS.values(), ids=ACCEPTS.keys())
def test_fallback_words_from_a_mapping_are_made_safe(tmp_path: Path, accept: str) -> None:
    write(tmp_path, "error.html", "{{ 1/0 }}")
    write(tmp_path, "error.txt", "{{ 1/0 }}")
    catalogue = Catalogue.default().extend(
        {503: {"title": "x"}, "labels": {"error": "Fel\x1b[31m\udcff", "fallback": "<b>Nej</b>"}},
        locale="sv",
    )
    r = Renderer(catalogue=catalogue, template_dirs=[tmp_path])
    rendered = render(r, 503, accept, headers={"accept_language": "sv"}, detail=Unprintable())
    assert rendered.fallback
    body = rendered.body.decode("utf-8")
    assert "\x1b" not in body and "Fel" in body
    # Markup in a word is text, escaped wherever the format has markup.
    assert ("<b>" in body) is (accept == "text/plain")


@pytest.mark.parametrize("accept", [CHROME_ACCEPT, "text/plain"], ids=["html", "text"])
@pytest.mark.parametrize("lang", ["ja", "fr"])
def test_a_localized_page_is_kept_like_an_english_one(accept: str, lang: str) -> None:
    """Issue #12: a localized page costs what an English one does, from the same memo."""
    memo, fresh = Renderer(), full(Renderer())
    for i in range(3):
        kwargs: dict[str, Any] = {
            "headers": {"accept_language": lang},
            "request_id": f"req-{i}",
            "path": f"/p/{i}",
            "retry_after": 120,
            "now": NOW + timedelta(minutes=i),
        }
        assert render(memo, 503, accept, **kwargs) == render(fresh, 503, accept, **kwargs)
    assert len(memo.memo) == 1


# -- the colon after a label: each language's own (a follow-up of issue #12) ------------------------


#: How the route's caption starts on a 500 page: the label and its colon in bold, then the caption.
CAPTIONS = {
    "en": "<strong>Where it failed:</strong> At the server. ",
    "fr": "<strong>Où se situe l&#39;échec\u00a0:</strong> Au niveau du serveur. ",
    "ja": "<strong>障害の発生箇所：</strong>サーバーの問題です。",  # noqa: RUF001
    "zh-Hans": "<strong>故障位置：</strong>问题出在服务器上。",  # noqa: RUF001
    "ko": "<strong>실패한 지점:</strong> 서버에서 발생했습니다.",
    "ar": "<strong>موضع الخلل:</strong> في الخادم.",
}


@pytest.mark.parametrize("lang", CAPTIONS)
def test_the_route_caption_ends_its_label_with_the_languages_colon(
    renderer: Renderer, lang: str
) -> None:
    body = text_of(render(renderer, 500, headers={"accept_language": lang}))
    assert f'<figcaption id="route-caption">{CAPTIONS[lang]}' in body


#: The text body's lines where a label meets its colon, as they must read, 503 in each language.
COLON_LINES = {
    "en": [
        "Where it failed:",
        "  [Your browser: Working] ----- [Gateway: Working] ----- [Server: Error]",
        "  Message from the application:",
        "  Defined in RFC 9110, Section 15.6.4:",
        "  - Check the status page:",
        "  Status:     503 Service Unavailable",
        "  Request ID: req-1",
        "  Possible causes:",
        "  Home: /",
    ],
    "fr": [
        "Où se situe l'échec\u00a0:",
        "  [Votre navigateur\u00a0: Fonctionne] ----- [Passerelle\u00a0: Fonctionne] -----",
        "  Message de l'application\u00a0:",
        "  Défini dans RFC 9110, Section 15.6.4\u00a0:",
        "  - Consulter la page d'état\u00a0:",
        "  Statut\u00a0:        503 Service indisponible",
        "  ID de requête\u00a0: req-1",
        "  Causes possibles\u00a0:",
        "  Accueil\u00a0: /",
    ],
    "ja": [
        "障害の発生箇所：",  # noqa: RUF001
        "  [お使いのブラウザ：正常] ----- [ゲートウェイ：正常] ----- [サーバー：エラー]",  # noqa: RUF001
        "  アプリケーションからのメッセージ：",  # noqa: RUF001
        "  定義元 RFC 9110, Section 15.6.4：",  # noqa: RUF001
        "  - ステータスページを確認する：",  # noqa: RUF001
        "  ステータス：  503 サービス利用不可",  # noqa: RUF001
        "  リクエストID：req-1",  # noqa: RUF001
        "  考えられる原因：",  # noqa: RUF001
        "  トップ：/",  # noqa: RUF001
    ],
}


@pytest.mark.parametrize("lang", COLON_LINES)
def test_the_text_body_puts_the_languages_colon_after_its_labels(lang: str) -> None:
    r = Renderer(home_url="/", status_url="https://status.example.com")
    rendered = render(r, 503, "text/plain", headers={"accept_language": lang}, detail="Soon.")
    lines = text_of(rendered).split("\n")
    for line in COLON_LINES[lang]:
        assert line in lines
    assert [line for line in lines if line != line.rstrip()] == [], "no space left at a line end"


def test_words_without_a_colon_of_their_own_take_the_one_beneath(tmp_path: Path) -> None:
    """A user's language that gives no ``colon`` gets English's; a user's French words keep
    French's. Every format renders, none from the fallback."""
    (tmp_path / "sv.toml").write_text(
        'locale = "sv"\n[labels]\nroute = "Var det gick fel"\nstatus = "Status"\n'
        '[503]\ntitle = "Tjänsten är inte tillgänglig"\n',
        encoding="utf-8",
    )
    catalogue = Catalogue.default().extend(tmp_path / "sv.toml")
    catalogue = catalogue.extend({"labels": {"route": "Itinéraire"}}, locale="fr")
    r = Renderer(catalogue=catalogue)
    for lang, caption, row in (
        ("sv", "<strong>Var det gick fel:</strong> ", "Status:     503"),
        ("fr", "<strong>Itinéraire\u00a0:</strong> ", "Statut\u00a0:        503"),
    ):
        rendered = {
            fmt: render(r, 503, accept, headers={"accept_language": lang})
            for fmt, accept in ACCEPTS.items()
        }
        assert not any(page.fallback for page in rendered.values())
        assert caption in text_of(rendered["html"])
        assert f"  {row} " in text_of(rendered["text"])


def test_a_template_prints_the_colon_as_docs_templates_md_shows(tmp_path: Path) -> None:
    write(
        tmp_path,
        "error.txt",
        "{% autoescape false %}{{ labels.request_id }}{{ labels.colon }}{{ request_id }}\n"
        "{{ labels.route }}{{ labels.colon.rstrip() }}\n{% endautoescape %}",
    )
    r = Renderer(template_dirs=[tmp_path])
    french = render(r, 503, "text/plain", headers={"accept_language": "fr"})
    assert text_of(french) == "ID de requête\u00a0: req-1\nOù se situe l'échec\u00a0:\n"
    english = render(r, 503, "text/plain")
    assert text_of(english) == "Request ID: req-1\nWhere it failed:\n"


# -- the full stop after the defining document: each language's own (#12) -----------------------

_RFC = "RFC 9110, Section 15.6.4"
_RFC_URL = "https://www.rfc-editor.org/rfc/rfc9110#section-15.6.4"
#: The spec line as each format writes it: 503 names its RFC with a link, 590 (an entry of the
#: test's own) a document without one, so the text body ends that line with the full stop too.
SPEC_LINES = {
    "en": {
        "html": [
            f'<p class="spec"><span>Defined in</span> <a href="{_RFC_URL}">{_RFC}</a>.</p>',
            '<p class="spec"><span>Defined in</span> Site policy.</p>',
        ],
        "text": [f"  Defined in {_RFC}:", "  Defined in Site policy."],
        "markdown": [f"Defined in [{_RFC}](<{_RFC_URL}>).", "Defined in Site policy."],
    },
    "ja": {
        "html": [
            f'<p class="spec"><span>定義元</span> <a href="{_RFC_URL}">{_RFC}</a>。</p>',
            '<p class="spec"><span>定義元</span> Site policy。</p>',
        ],
        "text": [f"  定義元 {_RFC}：", "  定義元 Site policy。"],  # noqa: RUF001
        "markdown": [f"定義元 [{_RFC}](<{_RFC_URL}>)。", "定義元 Site policy。"],
    },
    "zh-Hans": {
        "html": [
            f'<p class="spec"><span>定义出处</span> <a href="{_RFC_URL}">{_RFC}</a>。</p>',
            '<p class="spec"><span>定义出处</span> Site policy。</p>',
        ],
        "text": [f"  定义出处 {_RFC}：", "  定义出处 Site policy。"],  # noqa: RUF001
        "markdown": [f"定义出处 [{_RFC}](<{_RFC_URL}>)。", "定义出处 Site policy。"],
    },
}


@pytest.mark.parametrize("fmt", ["html", "text", "markdown"])
@pytest.mark.parametrize("lang", SPEC_LINES)
def test_the_spec_line_ends_with_the_languages_full_stop(lang: str, fmt: str) -> None:
    catalogue = Catalogue.default().extend({590: {"title": "House Rules", "spec": "Site policy"}})
    r = Renderer(catalogue=catalogue)
    for status, line in zip((503, 590), SPEC_LINES[lang][fmt], strict=True):
        rendered = render(r, status, ACCEPTS[fmt], headers={"accept_language": lang})
        assert line in text_of(rendered).split("\n")


def test_words_without_a_full_stop_of_their_own_take_englishs(tmp_path: Path) -> None:
    (tmp_path / "sv.toml").write_text(
        'locale = "sv"\n[labels]\ndefined_in = "Definierad i"\n'
        '[503]\ntitle = "Tjänsten är inte tillgänglig"\n',
        encoding="utf-8",
    )
    r = Renderer(catalogue=Catalogue.default().extend(tmp_path / "sv.toml"))
    rendered = {
        fmt: text_of(render(r, 503, ACCEPTS[fmt], headers={"accept_language": "sv"}))
        for fmt in ("html", "markdown")
    }
    assert f'<span>Definierad i</span> <a href="{_RFC_URL}">{_RFC}</a>.</p>' in rendered["html"]
    assert f"Definierad i [{_RFC}](<{_RFC_URL}>).\n" in rendered["markdown"]


def test_the_documented_template_is_localized_without_translations(tmp_path: Path) -> None:
    """docs/templates.md, "Your template in every language": labels and entries arrive translated."""
    guide = (Path(__file__).parent.parent / "docs" / "templates.md").read_text(encoding="utf-8")
    source = guide.split("{# templates/5xx.html #}\n", 1)[1].split("```", 1)[0]
    write(tmp_path, "5xx.html", source)
    r = Renderer(template_dirs=[tmp_path])
    for lang in ("ja", "ar", "de"):
        body = text_of(render(r, 503, headers={"accept_language": lang}))
        labels, info = Catalogue.default().labels(lang), Catalogue.default().get(503, lang)
        direction = "rtl" if lang == "ar" else "ltr"
        assert f'<html lang="{lang}" dir="{direction}">' in body
        assert f"<h1>503 {escape(info.title)}</h1>" in body
        assert f"<h2>{escape(labels['what_you_can_do'])}</h2>" in body
        assert str(escape(labels["request_id"])) in body


# -- hostile input -----------------------------------------------------------------------------

EVIL = '<script>alert("x")</script>\'"&\r\n\x00\udcff\ud800'


@pytest.mark.parametrize("accept", ACCEPTS.values(), ids=ACCEPTS.keys())
def test_hostile_values_are_escaped_or_encoded(accept: str) -> None:
    r = Renderer(problem_instance="/errors/{request_id}?at={path}")
    rendered = r.render(
        500,
        RequestInfo(
            "GET" + EVIL,
            "/" + EVIL,
            query="q=" + EVIL,
            headers={"accept": accept, "accept-language": EVIL, "user-agent": EVIL, "host": EVIL},
        ),
        request_id=EVIL,
        detail=EVIL,
        traceback=EVIL,
    )
    body = rendered.body
    body.decode("utf-8")  # strict: always valid UTF-8
    if rendered.format is Format.MARKDOWN:
        assert_no_markup_from_input(body)
    elif rendered.format is not Format.TEXT:
        assert b"<script" not in body
    assert b"\x00" not in body.replace(b"\\u0000", b"")
    if rendered.format is Format.JSON:
        problem = json.loads(body)
        assert problem["detail"] == EVIL.replace("\udcff", "\ufffd").replace("\ud800", "\ufffd")
        assert "\n" not in problem["instance"] and "<" not in problem["instance"]
    if rendered.format is Format.XML:
        ET.fromstring(body)
    if rendered.format is Format.HTML:
        assert "&lt;script&gt;" in body.decode()


def assert_no_markup_from_input(body: bytes) -> None:
    """A Markdown body whose only markup is its own: no raw HTML, no image, links only to the spec."""
    tokens = MarkdownIt("commonmark").parse(body.decode())
    children = [c for t in tokens for c in t.children or ()]
    kinds = {t.type for t in [*tokens, *children]}
    assert not kinds & {"html_block", "html_inline", "image", "code_block"}
    for link in (c for c in children if c.type == "link_open"):
        assert str(link.attrGet("href")).startswith(("https://", "http://"))


def test_huge_values_are_shortened_on_the_page(renderer: Renderer) -> None:
    body = text_of(render(renderer, path="/" + "a" * 10_000, request_id="r" * 10_000))
    assert "a" * 299 + "\u2026" not in body
    assert "a" * 298 + "\u2026" in body
    assert len(body) < 25_000


header_text = st.text(st.characters(codec="latin-1"), max_size=60) | st.sampled_from(
    [
        CHROME_ACCEPT,
        "application/json",
        "text/plain;q=0.5, application/xml",
        "text/markdown",
        "*/*",
        "fr, en;q=0.1",
    ]
)
any_text = (
    st.text(max_size=80) | st.just(EVIL) | st.text(st.characters(codec="latin-1"), max_size=20)
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    status=st.integers(100, 999),
    method=st.sampled_from(["GET", "HEAD", "POST", "DELETE", "get", EVIL]),
    path=any_text,
    query=any_text,
    headers=st.dictionaries(
        st.sampled_from(["accept", "accept-language", "x-requested-with", "user-agent"]),
        header_text,
    ),
    request_id=any_text,
    detail=st.none() | any_text,
    traceback=st.none() | any_text,
    retry_after=st.none() | st.integers(-10, 10**9),
    response_content_type=st.none() | header_text,
)
def test_render_never_fails_whatever_the_input(
    status: int,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    request_id: str,
    detail: str | None,
    traceback: str | None,
    retry_after: int | None,
    response_content_type: str | None,
) -> None:
    r = _HYPOTHESIS_RENDERER
    rendered = r.render(
        status,
        RequestInfo(method, "/" + path + "<script>", query, headers),
        request_id=request_id + "<script>",
        detail=None if detail is None else detail + "<script>",
        traceback=traceback,
        retry_after=retry_after,
        response_content_type=response_content_type,
    )
    assert rendered.status == status
    for name, value in rendered.headers:
        value.encode("latin-1")
        assert "\r" not in value and "\n" not in value, name
    if status < 200 or status in (204, 205, 304):
        assert rendered.body == b""
        return
    assert header(rendered, "Content-Length") == (
        str(len(rendered.body)) if method != "HEAD" else header(rendered, "Content-Length")
    )
    body = rendered.body
    if method == "HEAD":
        assert body == b""
        return
    assert header(rendered, "Content-Length") == str(len(body))
    body.decode("utf-8")
    if rendered.format is Format.MARKDOWN:
        assert_no_markup_from_input(body)
    elif rendered.format is not Format.TEXT:
        assert b"<script" not in body
    if rendered.format is Format.JSON:
        assert json.loads(body)["status"] == status
    elif rendered.format is Format.XML:
        assert ET.fromstring(body).findtext(NS + "status") == str(status)


_HYPOTHESIS_RENDERER = Renderer(problem_instance="urn:x:{request_id}:{path}")


# -- the memo of repeated errors ---------------------------------------------------------------


# The formats whose built-in pages are kept in the memo.
PAGES = {"html": CHROME_ACCEPT, "text": "text/plain", "markdown": "text/markdown"}
# ... and every format kept in it: the problem documents too, cut where the request ID goes.
MEMOIZED = {**PAGES, "json": "application/problem+json", "xml": "application/problem+xml"}


def full(r: Renderer) -> Renderer:
    """``r`` with its memo turned off: every page rendered from scratch."""
    r.memo.max_entries = 0
    return r


PATHS = {
    "plain": "/orders/42",
    "script": '/<script>alert("x")</script>',
    "quotes-amp": "/a?b='c'&d=\"e\"",
    "unicode": "/café/日本/😀",
    "surrogates": "/\udcff\ud800",
    "10kb": "/" + "a" * 10_000,
    "controls": "/\x00\r\n\t\x1b",
}


@pytest.mark.parametrize("accept", MEMOIZED.values(), ids=MEMOIZED.keys())
@pytest.mark.parametrize("path", PATHS.values(), ids=PATHS.keys())
def test_repeated_errors_are_byte_identical_to_a_full_render(accept: str, path: str) -> None:
    memo, fresh = Renderer(), full(Renderer())
    cases = [
        {"request_id": f"req-{i}", "path": path + str(i), "now": NOW + timedelta(seconds=i)}
        for i in range(3)
    ] + [
        {"request_id": path, "path": path, "method": "HEAD"},
        {"request_id": "", "path": "", "method": "POST", "now": NOW},
        {"request_id": "r" * 400, "path": path, "detail": "it's <b>", "retry_after": 30},
    ]
    for kwargs in cases:
        kwargs.setdefault("now", NOW)
        assert render(memo, 503, accept, **kwargs) == render(fresh, 503, accept, **kwargs)
    # The path is not part of the key: an outage on many paths is one page; POST (no retry
    # button) and a detail with a retry hint are one more each. A problem document has no
    # button: POST shares the GET's.
    pages = 2 if accept.startswith("application/") else 3
    assert len(memo.memo) == pages and len(fresh.memo) == 0


@pytest.mark.parametrize(
    ("source", "memoized"),
    [
        ("{{ tips|random }}", False),
        ("{{ request_id|upper }}", False),
        ("{{ request.path|length }}", False),
        ("{% if request.query %}?{{ request.query }}{% endif %}", False),
        ("{{ request }}", False),
        ('{{ request.headers.get("x-a") }}', False),
        ("{% set id = request_id %}{{ id }}", False),
        ("{% macro m() %}{{ request_id }}{% endmacro %}{{ m()|upper }}", False),
        ("{% block b %}{{ request_id }}{% endblock %}{{ self.b()|upper }}", False),
        ("{{ request_id() if false else request_id }}", False),
        ("{{ request.path.upper() }}", False),
        ("{% autoescape false %}{{ request.path }}{% endautoescape %}", False),
        ('{% include site_name or "part.html" %}', False),
        ('{% include "part.html" %}{% include "part.html" %}', False),
        ('{% include "missing.html" ignore missing %}{{ request_id }}', False),
        (
            '{% extends "friendly_errors/error.html" %}{% block footer %}{{ super() }}'
            "<p>{{ request.method }} {{ request.path }}?{{ request.query }} {{ request_id }} "
            "{{ timestamp }}</p>{% endblock %}",
            False,
        ),
    ],
    ids=[
        "random",
        "upper",
        "length",
        "test",
        "whole-request",
        "headers",
        "set",
        "macro",
        "self",
        "conditional",
        "method-call",
        "autoescape-false",
        "computed-include",
        "include-twice",
        "include-missing",
        "extends-verbatim",
    ],
)
@pytest.mark.parametrize("ext", ["html", "txt", "md"])
def test_user_templates_are_rendered_in_full_for_every_request(
    tmp_path: Path, source: str, memoized: bool, ext: str
) -> None:
    """A user template behaves as written, whatever it does with the request's values (#10)."""
    write(tmp_path, f"error.{ext}", source.replace("tips", "['one tip']"))
    write(tmp_path, "part.html", "[{{ request_id }}|{{ request.path }}|{{ support_text }}]")
    memo, fresh = Renderer(template_dirs=[tmp_path]), full(Renderer(template_dirs=[tmp_path]))
    accept = {"html": CHROME_ACCEPT, "txt": "text/plain", "md": "text/markdown"}[ext]
    for i, path in enumerate(["/a", "/<b>&'\"/" + "x" * 500, "/é"]):
        kwargs: dict[str, Any] = {"request_id": f"Id-{i}" * (i + 1), "path": path}
        kwargs["headers"] = {"x_a": path}
        assert render(memo, 500, accept, **kwargs) == render(fresh, 500, accept, **kwargs)
    assert bool(len(memo.memo)) is memoized


def test_a_user_template_that_varies_varies_with_every_request(tmp_path: Path) -> None:
    write(tmp_path, "error.html", "{{ tick() }} {{ tips|random }} {{ request_id }}")
    r = Renderer(template_dirs=[tmp_path])
    ticks = iter(range(100))
    r._env.globals["tick"] = lambda: next(ticks)
    r._env.globals["tips"] = ["a", "b", "c", "d"]
    bodies = [render(r, request_id="x").body for _ in range(40)]
    assert [b.split()[0] for b in bodies[:3]] == [b"0", b"1", b"2"]
    assert len({b.split()[1] for b in bodies}) > 1  # 4**-39: never one tip for all
    assert len(r.memo) == 0


def test_a_built_in_page_that_transforms_a_value_is_never_cut(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The trap for whoever edits error.html: a value printed other than as it is (here
    upper-cased) leaves a piece of its marker behind, and the page is then rendered in full."""
    r, fresh = Renderer(), full(Renderer())
    for renderer in (r, fresh):
        edited = "{{ request_id|upper }} {{ request.path }} {{ support_text|length }}"
        renderer._env.loader = jinja2.ChoiceLoader(
            [jinja2.DictLoader({BUILTIN_TEMPLATE: edited}), renderer._env.loader]  # type: ignore[list-item]
        )
        renderer._env.cache = None
        renderer._templates.clear()
    for rid, path in (("abc", "/1"), ("defg", "/22")):
        got = render(r, request_id=rid, path=path)
        assert got == render(fresh, request_id=rid, path=path)
        assert got.body.startswith(rid.upper().encode() + b" " + path.encode())
    assert len(r.memo) == 0


def test_request_values_in_a_style_are_never_memoized(tmp_path: Path) -> None:
    write(tmp_path, "error.html", "<style>/* {{ request_id }} */</style>")
    r = Renderer(template_dirs=[tmp_path])
    for rid in ("a", "bb"):
        rendered = render(r, request_id=rid)
        assert _style_hashes(text_of(rendered))[0] in (
            header(rendered, "Content-Security-Policy") or ""
        )
    assert len(r.memo) == 0


def test_user_styles_keep_their_csp(tmp_path: Path) -> None:
    write(tmp_path, "error.html", "<style>p{}</style>{{ request.path }}")
    r = Renderer(template_dirs=[tmp_path])
    first, second = render(r, path="/1"), render(r, path="/22")
    assert second.body == b"<style>p{}</style>/22"
    assert header(first, "Content-Security-Policy") == header(second, "Content-Security-Policy")


@pytest.mark.parametrize("accept", MEMOIZED.values(), ids=MEMOIZED.keys())
def test_debug_tracebacks_are_never_memoized(accept: str) -> None:
    r = Renderer()
    for i in range(3):
        body = text_of(render(r, accept=accept, traceback=f"Traceback {i} <x>"))
        assert f"Traceback {i}" in body
    assert len(r.memo) == 0


@pytest.mark.parametrize("accept", MEMOIZED.values(), ids=MEMOIZED.keys())
def test_the_memo_stays_bounded_whatever_the_details(accept: str) -> None:
    r = Renderer()
    for i in range(2_000):
        render(r, accept=accept, detail=f"detail {i}")
    assert len(r.memo) <= r.memo.max_entries
    assert r.memo.bytes <= r.memo.max_bytes
    r = Renderer()
    render(r, accept=accept, detail="x" * 201)
    assert len(r.memo) == 0


@pytest.fixture(scope="module")
def memo_pairs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Renderer, Renderer]]:
    """A memoizing renderer and one that renders in full, for the built-in and a user page."""
    directory = tmp_path_factory.mktemp("memo")
    for ext in ("html", "txt", "md"):
        write(
            directory,
            f"error.{ext}",
            "{{ request_id }}|{{ request.method }}|{{ request.path }}|{{ request.query }}",
        )
    return {
        "built-in": (Renderer(), full(Renderer())),
        "user": (Renderer(template_dirs=[directory]), full(Renderer(template_dirs=[directory]))),
    }


@settings(max_examples=100, deadline=None)
@given(
    path=any_text,
    request_id=any_text,
    query=any_text,
    method=st.sampled_from(["GET", "HEAD", "POST", EVIL]),
    accept=st.sampled_from(list(MEMOIZED.values())),
    pair=st.sampled_from(["built-in", "user"]),
)
def test_memoized_output_equals_a_full_render_whatever_the_values(
    memo_pairs: dict[str, tuple[Renderer, Renderer]],
    path: str,
    request_id: str,
    query: str,
    method: str,
    accept: str,
    pair: str,
) -> None:
    memo, fresh = memo_pairs[pair]
    request = RequestInfo(method, "/" + path, query, {"accept": accept})
    rendered = memo.render(503, request, request_id=request_id, now=NOW)
    assert rendered == fresh.render(503, request, request_id=request_id, now=NOW)


@pytest.mark.parametrize("accept", ["application/problem+json", "application/problem+xml"])
@pytest.mark.parametrize("problem_instance", [None, "urn:example:{request_id}{path}"])
def test_a_problem_document_is_kept_only_when_the_request_id_is_its_one_own_value(
    accept: str, problem_instance: str | None
) -> None:
    memo = Renderer(problem_instance=problem_instance)
    fresh = full(Renderer(problem_instance=problem_instance))
    for i, request_id in enumerate(["a", 'b<&>"', "\udcff"]):
        kwargs = {"request_id": request_id, "path": f"/p/{i}"}
        rendered = render(memo, 503, accept, **kwargs)
        assert rendered == render(fresh, 503, accept, **kwargs)
        if problem_instance is not None:
            assert f"/p/{i}" in text_of(rendered)
    # An instance is made from the request by the app's template: such a document is built anew.
    assert len(memo.memo) == (0 if problem_instance else 1)


@pytest.mark.parametrize("accept", PAGES.values(), ids=PAGES.keys())
def test_a_repeated_error_serves_each_request_its_own_values(accept: str) -> None:
    memo, fresh = Renderer(), full(Renderer())
    for i, method in enumerate(["GET", "GET", "HEAD", "HEAD", "POST", "GET"]):
        kwargs: dict[str, Any] = {"request_id": f"r{i}", "path": f"/p/{i}", "method": method}
        first = render(memo, 503, accept, **kwargs)
        assert first == render(fresh, 503, accept, **kwargs)
        assert f"r{i}".encode() in first.body or method == "HEAD"
        # The list is the caller's to extend: a second response is not changed by it.
        first.headers.append(("X-Extra", "1"))
        assert header(render(memo, 503, accept, **kwargs), "X-Extra") is None


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ({"status": 503}, {"status": 503.0}),
        ({"status": 501}, {"status": True}),
        ({"status": 503, "retry_after": 1}, {"status": 503, "retry_after": True}),
        ({"status": 503, "retry_after": 1}, {"status": 503, "retry_after": 1.0}),
    ],
    ids=["float-status", "bool-status", "bool-retry-after", "float-retry-after"],
)
def test_inputs_equal_to_a_repeated_errors_are_still_checked(
    first: dict[str, Any], then: dict[str, Any]
) -> None:
    memo, fresh = Renderer(), full(Renderer())
    render(memo, **first)
    assert render(memo, **then) == render(fresh, **then)


def test_long_request_headers_are_not_kept_for_repeated_errors() -> None:
    memo, fresh = Renderer(), full(Renderer())
    accept = CHROME_ACCEPT + ", text/x-" + "a" * 1024
    for path in ("/a", "/bb"):
        assert render(memo, 503, accept, path=path) == render(fresh, 503, accept, path=path)
    assert len(memo.memo) == 1


def test_user_templates_see_the_request_made_printable(tmp_path: Path) -> None:
    """A text template printing the raw path must not hand a terminal escapes or a forged line."""
    (tmp_path / "error.txt").write_text(
        "{% autoescape false %}{{ request.path }}|{{ request.query }}{% endautoescape %}\n"
    )
    renderer = Renderer(template_dirs=[tmp_path])
    for _ in range(2):  # the full render, then the memo
        rendered = renderer.render(
            502,
            RequestInfo("GET", "/x\x1b]0;pwned\x07\r\nFake: y", "a=\x00", {"accept": "text/plain"}),
            request_id="r",
        )
        assert rendered.body.decode() == "/x\ufffd]0;pwned\ufffd\ufffdFake: y|a=\ufffd"


@pytest.mark.parametrize("value", ["'self' \U0001f600", "'self' caf\xe9", "'self'\t"])
def test_frame_ancestors_must_be_printable_ascii(value: str) -> None:
    with pytest.raises(ValueError, match="frame_ancestors"):
        Renderer(frame_ancestors=value)


def test_a_lone_surrogate_in_catalogue_text_survives_a_repeated_page() -> None:
    catalogue = Catalogue.empty().extend({590: {"title": "Odd \udcff", "spec": "House rules"}})
    r = Renderer(catalogue=catalogue)
    first, repeated = render(r, 590), render(r, 590)
    assert not repeated.fallback
    assert repeated.body == first.body
    assert "Odd \ufffd".encode() in repeated.body


# -- the maintenance page (#13) -------------------------------------------------------------------

UNTIL = NOW + timedelta(minutes=30, seconds=20)


def maintenance(r: Renderer, accept: str | None = CHROME_ACCEPT, **kwargs: Any) -> RenderedError:
    method = kwargs.pop("method", "GET")
    headers = kwargs.pop("headers", {})
    kwargs.setdefault("request_id", "req-1")
    kwargs.setdefault("now", NOW)
    return r.render_maintenance(request(accept, method, "/orders/42", **headers), **kwargs)


def test_the_maintenance_page_says_planned_work_not_a_failure(renderer: Renderer) -> None:
    rendered = maintenance(
        renderer, message="Upgrading the database.", retry_after=1820, until=UNTIL
    )
    body = text_of(rendered)
    assert rendered.status == 503
    assert '<h1><span class="code">503</span> Down for Maintenance</h1>' in body
    assert '<p class="tag">Under maintenance</p>' in body
    assert '<body class="fault-maintenance">' in body
    assert "The website is closed for planned maintenance and will be back soon." in body
    assert "Nothing is broken, and nothing you did caused this." in body
    assert '<p class="note-label">Message from the team</p>' in body
    assert '<p class="detail" dir="auto">Upgrading the database.</p>' in body
    # The server is closed, not failed; the caption is a statement, not "Where it failed".
    assert 'class="node is-maintenance"' in body and 'class="node is-failed"' not in body
    assert '<span class="state">Under maintenance</span>' in body
    assert ">At the server, on purpose." in body and "Where it failed" not in body
    # When to come back: 08:05:45 rounds up to the minute, and in words.
    assert "The work should be finished by 08:06 UTC." in body
    assert "try again in about 30 minutes" in body
    # Nothing for developers, no RFC: this is not an error to debug.
    assert "For developers and admins" not in body and "RFC 9110" not in body
    assert "Status:     503 Down for Maintenance" in body
    assert header(rendered, "Content-Security-Policy") == (
        f"default-src 'none'; style-src {' '.join(_style_hashes(body))}; img-src data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    assert len(rendered.body) < 20_000


@pytest.mark.parametrize(
    ("until", "clock"),
    [
        pytest.param(NOW + timedelta(hours=1), "08:36", id="same-day"),
        pytest.param(NOW.replace(hour=23, minute=59, second=1), "2026-05-10 00:00", id="rounds-up"),
        pytest.param(NOW + timedelta(days=1), "2026-05-10 07:36", id="another-day"),
    ],
)
def test_the_end_is_a_utc_clock_time(renderer: Renderer, until: datetime, clock: str) -> None:
    rendered = maintenance(renderer, "text/plain", retry_after=60, until=until)
    assert f"finished by {clock} UTC" in text_of(rendered)


def test_without_an_end_time_the_page_promises_none(renderer: Renderer) -> None:
    body = text_of(maintenance(renderer, retry_after=120))
    assert "should be finished" not in body and 'class="retry"' not in body
    assert "Come back a little later" in body


def test_the_wait_in_words_only_where_the_language_has_them() -> None:
    """``{duration}`` is English; a language whose retry_wait uses ``{time}`` says the time once."""
    catalogue = Catalogue.default().extend(
        {
            "labels": {
                "maintenance_until": "Fin prévue à {time} UTC.",
                "retry_wait": "Réessayez après {time} UTC.",
            }
        },
        locale="fr",
    )
    r = Renderer(catalogue=catalogue)
    french = maintenance(
        r, "text/plain", retry_after=1820, until=UNTIL, headers={"accept_language": "fr"}
    )
    assert header(french, "Content-Language") == "fr"
    assert "Fin prévue à 08:06 UTC." in text_of(french) and "Réessayez" not in text_of(french)
    english = " ".join(text_of(maintenance(r, "text/plain", retry_after=1820, until=UNTIL)).split())
    assert "finished by 08:06 UTC. This should be temporary: try again in about 30" in english


def test_the_maintenance_page_speaks_the_catalogues_words() -> None:
    catalogue = Catalogue.default().extend(
        {
            "labels": {
                "maintenance_title": "Fermé pour travaux",
                "maintenance_message": "Le mot de l'équipe",
                "state_maintenance": "En travaux",
                "what_happened": "Ce qui se passe",
                "status": "Statut",
                "request_id": "Identifiant de la requête",
            }
        },
        locale="fr",
    )
    rendered = maintenance(
        Renderer(catalogue=catalogue), message="Bientôt.", headers={"accept_language": "fr"}
    )
    body = text_of(rendered)
    assert '<html lang="fr">' in body
    assert "Fermé pour travaux" in body and "Le mot de l&#39;équipe" in body
    # The labels are in the page's language: no lang="en" marks.
    assert '<h2 id="what-happened">Ce qui se passe</h2>' in body and ' lang="en"' not in body
    # The support block stays aligned whatever the labels' lengths.
    support = re.search(r'<pre class="copy">(.*?)</pre>', body, re.DOTALL)
    assert support is not None
    lines = support.group(1).splitlines()
    assert lines[0].startswith("Statut\u00a0:")
    assert lines[1].startswith("Identifiant de la requête\u00a0:")
    assert len({re.match(r"[^:]*:\s*", line).end() for line in lines}) == 1  # type: ignore[union-attr]


def test_maintenance_problem_members(renderer: Renderer) -> None:
    problem = json.loads(
        maintenance(
            Renderer(problem_instance="urn:req:{request_id}", status_url="/status"),
            "application/problem+json",
            message="Upgrading.",
            retry_after=1820,
            until=UNTIL,
        ).body
    )
    assert problem == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "Upgrading.",
        "instance": "urn:req:req-1",
        "fault": "server",
        "maintenance": True,
        "summary": "The website is closed for planned maintenance and will be back soon.",
        "fixes": {
            "visitor": [
                "Come back a little later: the page will work again as soon as the work is "
                "finished."
            ]
        },
        "retryable": True,
        "retry_after": 1820,
        "until": "2026-05-09T08:05:45Z",
        "status_url": "/status",
        "request_id": "req-1",
        "spec": "RFC 9110, Section 15.6.4",
        "spec_url": "https://www.rfc-editor.org/rfc/rfc9110#section-15.6.4",
    }
    bare = json.loads(maintenance(renderer, "application/json").body)
    assert bare["detail"] == bare["summary"]
    assert {"until", "retry_after", "status_url", "instance"}.isdisjoint(bare)
    xml = ET.fromstring(maintenance(renderer, "application/xml", retry_after=60).body)
    assert (xml.findtext(NS + "maintenance"), xml.findtext(NS + "retry_after")) == ("true", "60")


@pytest.mark.parametrize("status_url", [None, "https://status.example.com"])
def test_maintenance_text_fits_80_columns(status_url: str | None) -> None:
    r = Renderer(site_name="Example Shop", home_url="/", status_url=status_url)
    text = text_of(
        maintenance(r, "text/plain", message="Upgrading. " * 30, retry_after=99, until=UNTIL)
    )
    assert text.startswith("503 Down for Maintenance\n========================\n")
    assert "[Server: Under maintenance]" in text
    assert all(len(line) <= 80 or "https://" in line for line in text.splitlines())


@pytest.mark.parametrize(
    "accept", [CHROME_ACCEPT, "text/plain", "text/markdown"], ids=["html", "text", "markdown"]
)
@pytest.mark.parametrize("until", [None, UNTIL], ids=["no-end", "end"])
def test_a_repeated_maintenance_page_equals_a_full_render(
    accept: str, until: datetime | None
) -> None:
    memo, fresh = Renderer(), full(Renderer())
    for i, method in enumerate(["GET", "GET", "HEAD", "POST"]):
        kwargs: dict[str, Any] = {
            "request_id": f"r{i}",
            "method": method,
            "message": "Back soon.",
            "retry_after": 1820 - i,
            "until": until,
        }
        first = maintenance(memo, accept, **kwargs)
        assert first == maintenance(fresh, accept, **kwargs)
        assert f"r{i}".encode() in first.body or method == "HEAD"
    assert len(memo.memo) > 0 and len(fresh.memo) == 0


@pytest.mark.parametrize(
    ("files", "accept", "used"),
    [
        pytest.param({"maintenance.html": "M {{ title }}"}, CHROME_ACCEPT, "M Down", id="html"),
        pytest.param({"maintenance.txt": "T {{ detail }}"}, "text/plain", "T msg", id="text"),
        pytest.param({"error.html": "E", "5xx.html": "X"}, CHROME_ACCEPT, "<!doctype", id="not-5xx"),
        pytest.param(
            {"maintenance.html": '{% extends "friendly_errors/maintenance.html" %}'
             "{% block tag %}Closed{% endblock %}"},
            CHROME_ACCEPT,
            "<!doctype",
            id="extends",
        ),
    ],
)  # fmt: skip
def test_a_maintenance_template_wins_over_the_built_in_one(
    tmp_path: Path, files: dict[str, str], accept: str, used: str
) -> None:
    for name, source in files.items():
        write(tmp_path, name, source)
    body = text_of(maintenance(Renderer(template_dirs=[tmp_path]), accept, message="msg"))
    assert body.startswith(used)
    if "extends" in next(iter(files.values())):
        assert '<p class="tag">Closed</p>' in body


def test_a_broken_maintenance_template_stops_the_app_from_starting(tmp_path: Path) -> None:
    write(tmp_path, "maintenance.html", "{% if %}")
    with pytest.raises(ValueError, match=r"maintenance\.html, line 1"):
        Renderer(template_dirs=[tmp_path])


def test_a_maintenance_template_failing_at_render_serves_the_static_503(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path, "maintenance.html", "{{ 1 / 0 }}")
    rendered = maintenance(Renderer(template_dirs=[tmp_path]))
    assert (rendered.status, rendered.fallback) == (503, True)
    assert "503 Service Unavailable" in text_of(rendered)
    assert len([r for r in caplog.records if "maintenance response" in r.getMessage()]) == 1


def test_the_maintenance_template_context_has_every_documented_name(tmp_path: Path) -> None:
    write(tmp_path, "maintenance.html", "{{ status }}")
    r = Renderer(template_dirs=[tmp_path])
    seen: dict[str, Any] = {}
    original = r._env.get_template("maintenance.html").render

    def spy(values: dict[str, Any]) -> str:
        seen.update(values)
        return original(values)

    r._env.get_template("maintenance.html").render = spy  # type: ignore[method-assign]
    assert maintenance(r, message="m", retry_after=60, until=UNTIL).body == b"503"
    plain: dict[str, Any] = {}
    write(tmp_path, "error.html", "{{ status }}")
    other = Renderer(template_dirs=[tmp_path])
    original_error = other._env.get_template("error.html").render

    def spy_error(values: dict[str, Any]) -> str:
        plain.update(values)
        return original_error(values)

    other._env.get_template("error.html").render = spy_error  # type: ignore[method-assign]
    render(other, 503)
    assert set(seen) == set(plain)
    assert (seen["fault"], seen["detail"], seen["title"]) == (
        "maintenance",
        "m",
        "Down for Maintenance",
    )
    assert seen["retry_text"].startswith("The work should be finished by 08:06 UTC.")
    assert [step.state for step in seen["route"] if step.kind == "node"] == [
        "ok",
        "ok",
        "maintenance",
    ]


@pytest.mark.parametrize(
    ("status", "linked"), [(500, True), (599, True), (404, False), (429, False)], ids=str
)
def test_status_url_on_error_pages_of_the_5xx_class(status: int, linked: bool) -> None:
    r = Renderer(status_url="https://status.example.com")
    for accept in ACCEPTS.values():
        body = text_of(render(r, status, accept=accept))
        assert ("https://status.example.com" in body) is linked, accept


def test_the_maintenance_page_in_markdown() -> None:
    rendered = maintenance(
        Renderer(status_url="https://status.example.com"),
        "text/markdown",
        message="Back <soon>.",
        retry_after=1820,
        until=UNTIL,
    )
    body = text_of(rendered)
    assert header(rendered, "Content-Type") == "text/markdown; charset=utf-8; variant=CommonMark"
    assert body.startswith("# 503 Down for Maintenance\n")
    assert "Server (Website): Under maintenance" in body and "Where it failed" not in body
    assert "Message from the team:\n\n> Back &lt;soon>." in body
    # The status page first under "What you can do", then the visitor's advice, then when.
    can_do = body.split("## What you can do\n\n", 1)[1]
    assert can_do.startswith("- [Check the status page](<https://status.example.com>)\n- Come back")
    assert "The work should be finished by 08:06 UTC." in can_do


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        pytest.param(
            "ja", ("503 メンテナンス中", "運営チームからのメッセージ", "08:06 UTC"), id="ja"
        ),
        pytest.param("de", ("503 Wartungsarbeiten", "Nachricht des Teams", "08:06 UTC"), id="de"),
    ],
)
def test_the_maintenance_page_in_a_built_in_translation(lang: str, words: tuple[str, ...]) -> None:
    """The page's words come from the catalogue's labels: every built-in language has them."""
    labels = Catalogue.default().labels(lang)
    rendered = maintenance(
        Renderer(),
        "text/plain",
        message="DB",
        retry_after=1820,
        until=UNTIL,
        headers={"accept_language": lang},
    )
    body = text_of(rendered)
    assert header(rendered, "Content-Language") == lang
    assert labels["maintenance_title"] in body and labels["state_maintenance"] in body
    for word in words:
        assert word in body, word
    # {duration} is English only: a translation says the clock time, once.
    assert "about 30 minutes" not in body and body.count("08:06") == 1
