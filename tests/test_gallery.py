"""The preview gallery, through both protocols: the same table runs against ASGI and WSGI."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client

from friendly_errors.catalogue import Catalogue
from friendly_errors.gallery import gallery_asgi, gallery_wsgi


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str


Fetch = Callable[..., Reply]


def asgi_fetch(app: Any, root: str = "") -> Fetch:
    def fetch(path: str, method: str = "GET", headers: dict[str, str] | None = None) -> Reply:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=app, root_path=root)
            async with httpx.AsyncClient(transport=transport, base_url="http://dev") as client:
                return await client.request(method, root + path, headers=headers)

        response = asyncio.run(go())
        return Reply(response.status_code, dict(response.headers), response.text)

    return fetch


def wsgi_fetch(app: Any, root: str = "") -> Fetch:
    mounted = DispatcherMiddleware(lambda e, s: [], {root: app}) if root else app
    client = Client(mounted)

    def fetch(path: str, method: str = "GET", headers: dict[str, str] | None = None) -> Reply:
        response = client.open(root + path, method=method, headers=headers or {})
        headers_out = {k.lower(): v for k, v in response.headers.items()}
        return Reply(response.status_code, headers_out, response.get_data(as_text=True))

    return fetch


BUILDERS = {"asgi": (gallery_asgi, asgi_fetch), "wsgi": (gallery_wsgi, wsgi_fetch)}


@pytest.fixture(params=sorted(BUILDERS))
def make(request: pytest.FixtureRequest) -> Callable[..., Fetch]:
    build, wrap = BUILDERS[request.param]

    def make(root: str = "", **options: Any) -> Fetch:
        options.setdefault("debug", True)
        return wrap(build(**options), root)

    return make


@pytest.mark.parametrize(
    ("path", "headers", "media_type", "contains"),
    [
        pytest.param("/502", {"accept": "text/html"}, "text/html", "<h1>", id="negotiated-html"),
        pytest.param(
            "/502",
            {"accept": "application/json"},
            "application/json",
            '"status":502',
            id="neg-json",
        ),
        pytest.param("/502.html", {"accept": "application/json"}, "text/html", "<h1>", id="html"),
        pytest.param("/502.json", {}, "application/problem+json", '"status":502', id="json"),
        pytest.param("/502.txt", {}, "text/plain", "502 Bad Gateway", id="txt"),
        pytest.param("/502.md", {}, "text/markdown", "# 502 Bad Gateway\n", id="md"),
        pytest.param(
            "/502", {"accept": "text/markdown"}, "text/markdown", "# 502", id="negotiated-md"
        ),
        pytest.param(
            "/503.md?detail=%5Bx%5D(javascript%3Ay)",
            {},
            "text/markdown",
            "> \\[x\\](javascript:y)",
            id="md-detail",
        ),
        pytest.param("/502.xml?lang=fr", {}, "application/problem+xml", "<status>", id="xml-lang"),
        pytest.param("/418.txt", {}, "text/plain", "418", id="teapot"),
        pytest.param("/599.txt", {}, "text/plain", "599", id="unofficial"),
        pytest.param(
            "/503.txt?detail=Back+at+06%3A00", {}, "text/plain", "Back at 06:00", id="detail"
        ),
    ],
)
def test_previews(
    make: Callable[..., Fetch],
    path: str,
    headers: dict[str, str],
    media_type: str,
    contains: str,
) -> None:
    reply = make()(path, headers=headers)
    code = re.match(r"/(\d{3})", path)
    assert code is not None
    assert reply.status == 200
    assert reply.headers["x-preview-status"] == code.group(1)
    assert reply.headers["content-type"].split(";")[0] == media_type
    assert contains in reply.text


def test_index_lists_every_code_with_every_format(make: Callable[..., Fetch]) -> None:
    reply = make()("/")
    assert reply.status == 200
    assert "style-src 'sha256-" in reply.headers["content-security-policy"]
    codes = Catalogue.default().codes()
    for code in codes:
        assert f'href="/{code}"' in reply.text
    for ext in ("html", "json", "txt", "xml", "md"):
        assert f'href="/502.{ext}?lang=en"' in reply.text
    # 1xx, 204 and 304 cannot carry a page, so no format links for them.
    assert 'href="/204.html' not in reply.text
    languages = len(Catalogue.default().locales)
    assert f"{len(codes)} codes in {languages} language" in reply.text


def test_languages_of_the_catalogue_are_offered(make: Callable[..., Fetch]) -> None:
    french = Catalogue.default().extend({502: {"title": "Mauvaise passerelle"}}, locale="fr")
    fetch = make(catalogue=french)
    assert 'href="/502.txt?lang=fr"' in fetch("/").text
    assert "Mauvaise passerelle" in fetch("/502.txt?lang=fr").text
    assert "Bad Gateway" in fetch("/502.txt?lang=en").text


def test_links_follow_the_mount_point(make: Callable[..., Fetch]) -> None:
    fetch = make(root="/_errors")
    index = fetch("/")
    assert 'href="/_errors/502.json?lang=en"' in index.text
    assert fetch("/502.json").headers["x-preview-status"] == "502"


@pytest.mark.parametrize(
    ("debug", "shown"),
    [pytest.param(True, True, id="debug"), pytest.param(False, False, id="prod")],
)
def test_sample_traceback_only_with_debug(
    make: Callable[..., Fetch], debug: bool, shown: bool
) -> None:
    fetch = make(debug=debug, allow_in_production=True)
    # JSON, because the text page wraps long traceback lines at 80 columns.
    traceback = json.loads(fetch("/500.json?traceback=1").text).get("traceback", "")
    assert ("_SampleError: a sample exception from the preview gallery" in traceback) is shown
    assert ("KeyError: 'report_id'" in traceback) is shown
    assert ("?traceback=1" in fetch("/").text) is shown


def test_a_statuses_without_content_previews_as_empty(make: Callable[..., Fetch]) -> None:
    reply = make()("/304.html")
    assert (reply.status, reply.headers["x-preview-status"], reply.text) == (200, "304", "")


@pytest.mark.parametrize("path", ["/nope", "/1000", "/502.pdf", "/050"])
def test_unknown_paths_get_a_real_404(make: Callable[..., Fetch], path: str) -> None:
    reply = make()(path, headers={"accept": "text/html"})
    assert reply.status == 404
    assert "x-preview-status" not in reply.headers
    assert "Not Found" in reply.text


def test_head_and_other_methods(make: Callable[..., Fetch]) -> None:
    fetch = make()
    head = fetch("/502.json", method="HEAD")
    assert (head.status, head.text) == (200, "")
    assert int(head.headers["content-length"]) > 0
    assert fetch("/", method="HEAD").text == ""
    post = fetch("/502", method="POST")
    assert (post.status, post.headers["allow"]) == (405, "GET, HEAD")


def test_user_templates_are_previewed(make: Callable[..., Fetch], tmp_path: Path) -> None:
    (tmp_path / "5xx.html").write_text(
        '{% extends "friendly_errors/error.html" %}{% block title %}Ours {{ status }}{% endblock %}'
    )
    reply = make(template_dirs=[tmp_path])("/503.html")
    assert "<title>Ours 503</title>" in reply.text


@pytest.mark.parametrize("build", [gallery_asgi, gallery_wsgi], ids=["asgi", "wsgi"])
def test_refuses_to_start_without_an_explicit_opt_in(build: Callable[..., Any]) -> None:
    with pytest.raises(RuntimeError, match=r"debug=True .* allow_in_production=True"):
        build()


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        pytest.param({"debug": "yes"}, TypeError, "debug must be True or False", id="debug-str"),
        pytest.param(
            {"allow_in_production": 1}, TypeError, "allow_in_production must be", id="allow-int"
        ),
        pytest.param(
            {"debug": True, "template_dirs": ["/nonexistent"]},
            ValueError,
            "not a directory",
            id="dirs",
        ),
    ],
)
def test_bad_options_fail_at_construction(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        gallery_asgi(**options)


def test_lifespan_is_left_to_the_host_app() -> None:
    app = gallery_asgi(debug=True)
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        raise AssertionError("not called")  # pragma: no cover

    async def send(message: Any) -> None:  # pragma: no cover - nothing is sent
        sent.append(message)

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert sent == []
