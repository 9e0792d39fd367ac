"""The benchmarks compare what their tables say they compare.

The README's performance figures are ratios between our middleware and apps or calls written for the
comparison: a bare ``Template.render`` of the same page, ``json.dumps`` of the same document, floor
middlewares that send the same response with the least work, no-op wrappers that pass the same 200.
If one of them drifted from what it stands for (another page, a missing header, a different
document), its ratio would quietly stop meaning anything; these tests keep them honest, keep the
soak's checks true to its apps, and keep the in-process runs working. No timing is asserted.
"""

from __future__ import annotations

import html
import json
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module", autouse=True)
def _importable() -> Iterator[None]:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield
    finally:
        sys.path.remove(str(BENCHMARKS))


def _without_id(start: Mapping[str, Any], body: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body with the request ID and the time taken out, the only values that differ."""
    headers = dict(start["headers"])
    request_id = headers.pop(b"x-request-id")
    body = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"TIME", body.replace(request_id, b"ID"))
    return sorted(headers.items()), body


# -- ASGI, in process --------------------------------------------------------------------------------


def test_asgi_pass_through_contenders_send_the_same_200() -> None:
    import bench_asgi

    expected = bench_asgi.sent(bench_asgi.bare, bench_asgi.scope_for("/"))
    assert expected[0]["status"] == 200
    for name, app in (
        ("no-op", bench_asgi.noop),
        ("starlette", bench_asgi.starlette_errors),
        ("ours", bench_asgi.ours),
    ):
        assert bench_asgi.sent(app, bench_asgi.scope_for("/")) == expected, name


def test_template_baseline_renders_the_page_we_send() -> None:
    import bench_asgi

    template, context = bench_asgi.template_baseline()
    start, body = bench_asgi.sent(bench_asgi.ours, bench_asgi.scope_for("/503"))
    assert start["status"] == 503
    # The app's detail is on the page, and in the baseline's.
    assert bench_asgi.DETAIL.encode() in body["body"]
    (request_id,) = [value for name, value in start["headers"] if name == b"x-request-id"]
    page = template.render(context).encode()
    page = page.replace(context["request_id"].encode(), request_id)
    assert _without_id(start, page)[1] == _without_id(start, body["body"])[1]
    assert len(page) > 10_000


def test_json_baseline_dumps_the_document_we_send() -> None:
    import bench_asgi

    problem = bench_asgi.problem_baseline()
    scope = bench_asgi.scope_for("/503", "application/json")
    start, body = bench_asgi.sent(bench_asgi.ours, scope)
    assert start["status"] == 503
    sent = json.loads(body["body"])
    assert sent.pop("request_id") != problem.pop("request_id")  # a new ID each request
    assert sent == problem
    assert problem["detail"] == bench_asgi.DETAIL and problem["status"] == 503


@pytest.mark.parametrize(
    ("floor", "accept"),
    [
        ("LEAST_HTML", "text/html"),
        ("LEAST_JSON", "application/json"),
        ("DUMPED_JSON", "application/json"),
    ],
    ids=["html", "json-spliced", "json-dumped"],
)
def test_floor_middlewares_send_our_response_with_a_fresh_id(floor: str, accept: str) -> None:
    import bench_asgi

    middleware = bench_asgi.floors()[getattr(bench_asgi, floor)]
    scope = bench_asgi.scope_for("/503", accept)
    ours_start, ours_body = bench_asgi.sent(bench_asgi.ours, dict(scope))
    first, second = (bench_asgi.sent(middleware, dict(scope)) for _ in range(2))
    assert ours_start["status"] == first[0]["status"] == 503
    ours_headers, ours_page = _without_id(ours_start, ours_body["body"])
    headers, page = _without_id(first[0], first[1]["body"])
    assert headers == ours_headers
    if floor == "DUMPED_JSON":  # json.dumps spaces its separators; the document is the same
        assert json.loads(page) == json.loads(ours_page)
    else:
        assert page == ours_page
    ids = [dict(start["headers"])[b"x-request-id"] for start, _ in (first, second)]
    assert ids[0] != ids[1] and len(ids[0]) == 32


def test_the_spliced_floors_put_the_apps_own_detail_in() -> None:
    """The floors read the detail from the app's body: another detail, another page."""
    import bench_asgi

    detail = 'Back at "noon" <soon>'

    async def other(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": json.dumps({"detail": detail}).encode()})

    for name, accept, shown in (
        ("LEAST_HTML", "text/html", html.escape(detail)),
        ("LEAST_JSON", "application/json", json.dumps(detail)[1:-1]),
    ):
        floor = bench_asgi.floors()[getattr(bench_asgi, name)]
        floor.app = other
        _, body = bench_asgi.sent(floor, bench_asgi.scope_for("/503", accept))
        assert shown.encode() in body["body"]
        assert bench_asgi.DETAIL.encode() not in body["body"]


def test_never_seen_paths_get_the_same_page_as_a_repeated_one() -> None:
    """The unique-path contender differs from the repeated one in its path and nothing else."""
    import bench_asgi

    pages = []
    for path in ("/503", "/503/1", "/503/2"):
        start, body = bench_asgi.sent(bench_asgi.ours, bench_asgi.scope_for(path))
        assert start["status"] == 503
        headers, page = _without_id(start, body["body"].replace(path.encode(), b"PATH"))
        # Content-Length follows the path's length; every other header is the same.
        pages.append(([h for h in headers if h[0] != b"content-length"], page))
    assert pages[0] == pages[1] == pages[2]
    measure = bench_asgi.new_scopes(bench_asgi.ours, "/503", "text/html", unique=True)
    assert measure(3) > 0


@pytest.mark.parametrize(
    ("app", "path", "status"),
    [
        ("ours", "/", 200),
        ("noop", "/", 200),
        ("ours", "/503", 503),
        ("ours", "/503/7", 503),
        ("bare", "/500", 500),
        ("bare", "/500/7", 500),
    ],
)
def test_http_comparisons_get_the_status_the_load_generator_expects(
    app: str, path: str, status: int
) -> None:
    import bench_asgi

    start, body = bench_asgi.sent(getattr(bench_asgi, app), bench_asgi.scope_for(path))
    assert start["status"] == status
    length = dict(start["headers"])[b"content-length"]
    assert int(length) == len(body["body"])
    if status == 500:
        assert body["body"] == b"Internal Server Error"


def test_unique_loads_send_a_new_path_each_time() -> None:
    from _load import Load

    requests = Load("/503", unique=True).requests(10, 3).split(b"\r\n\r\n")
    assert [r.split(b" ")[1] for r in requests if r] == [b"/503/10", b"/503/11", b"/503/12"]
    assert Load("/").requests(0, 2).count(b"GET / HTTP/1.1") == 2


# -- WSGI, in process --------------------------------------------------------------------------------


def test_wsgi_contenders_send_the_same_200() -> None:
    import bench_wsgi

    expected = Client(bench_wsgi.bare).get("/")
    assert expected.status_code == 200 and expected.data == b"hello"
    for app in (bench_wsgi.noop, bench_wsgi.check_only, bench_wsgi.ours):
        response = Client(app).get("/")
        assert (response.status, response.data) == (expected.status, expected.data)
        assert response.headers == expected.headers


def test_the_wsgi_floor_refuses_what_it_would_have_to_replace() -> None:
    import bench_wsgi

    def failing(environ: Any, start_response: Any) -> list[bytes]:
        start_response("503 Service Unavailable", [])
        return [b""]

    with pytest.raises(NotImplementedError):
        Client(bench_wsgi.StatusCheckOnly(failing)).get("/")


# -- the soak ----------------------------------------------------------------------------------------


def _asgi_response(kind: Any, n: int) -> Any:
    import bench_asgi
    import soak

    scope = bench_asgi.scope_for(kind.path(n), kind.accept)
    scope["method"] = kind.method
    messages: list[dict[str, Any]] = []

    async def keep(message: dict[str, Any]) -> None:
        messages.append(message)

    coroutine = soak.asgi_app(scope, bench_asgi.receive, keep)
    with pytest.raises(StopIteration):
        coroutine.send(None)  # the exceptions go on after the page, as the server would see
    start = messages[0]
    body = b"".join(m.get("body", b"") for m in messages[1:])
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    if "content-length" not in headers and kind.method == "GET":
        headers["transfer-encoding"] = "chunked"
    return soak.Response(start["status"], headers, b"" if kind.method == "HEAD" else body)


def _wsgi_response(kind: Any, n: int) -> Any:
    import soak

    response = Client(soak.wsgi_app).open(
        kind.path(n), method=kind.method, headers={"Accept": kind.accept}
    )
    headers = {name.lower(): value for name, value in response.headers.items()}
    body = b"" if kind.method == "HEAD" else response.get_data()  # a server sends no HEAD body
    return soak.Response(response.status_code, headers, body)


def test_the_soaks_apps_give_what_its_checks_expect() -> None:
    import soak

    for n, kind in enumerate(soak.MIX):
        if kind.route == "raise":
            with pytest.raises(RuntimeError, match="the soak's exception"):
                _asgi_response(kind, n)
        else:
            soak.check(kind, _asgi_response(kind, n))
        soak.check(kind, _wsgi_response(kind, n))
    assert {kind.route for kind in soak.MIX} == {"ok", "busy", "busy-stream", "stream", "raise"}
    assert {kind.method for kind in soak.MIX} == {"GET", "HEAD"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"status": 500}, "status", id="status"),
        pytest.param({"body": b"<!doctype html>cut"}, "page", id="page-without-its-id"),
        pytest.param({"headers": {"content-type": "text/plain"}}, "content type", id="type"),
        pytest.param({"drop": "content-security-policy"}, "fallback", id="fallback-page"),
        pytest.param({"drop": "x-request-id"}, "request ID", id="no-request-id"),
    ],
)
def test_the_soak_counts_a_wrong_response_as_an_error(change: dict[str, Any], message: str) -> None:
    import soak

    kind = soak.MIX[1]  # GET /busy/<n>, HTML
    good = _wsgi_response(kind, 1)
    soak.check(kind, good)
    headers = dict(good.headers) | change.get("headers", {})
    headers.pop(change.get("drop", ""), None)
    bad = soak.Response(change.get("status", good.status), headers, change.get("body", good.body))
    with pytest.raises(soak.ResponseError, match=message):
        soak.check(kind, bad)


# -- the in-process runs -----------------------------------------------------------------------------


def test_in_process_runs_complete(capsys: pytest.CaptureFixture[str]) -> None:
    import bench_asgi
    import bench_wsgi

    assert bench_asgi.main(["--rounds", "1", "--scale", "0.01"]) == 0
    assert bench_wsgi.main(["--rounds", "1", "--scale", "0.01"]) == 0
    out = capsys.readouterr().out
    for line in (
        "200 through ours / through the no-op wrapper",
        "200 through ours / through ServerErrorMiddleware",
        "repeated error / Template.render",
        "never-seen path / Template.render",
        "never-seen path / repeated error (no cliff)",
        "problem+json / json.dumps",
        "floor: status check only / the no-op wrapper",
    ):
        assert line in out


def test_the_languages_benchmark_completes(capsys: pytest.CaptureFixture[str]) -> None:
    import bench_languages

    assert bench_languages.main(["--runs", "1", "--rounds", "1", "--number", "5"]) == 0
    out = capsys.readouterr().out
    assert "Catalogue.default(), English only:" in out and "(13 languages)" in out
    for case in ("html", "text", "html, Retry-After", "text, Retry-After"):
        assert re.search(rf"^{re.escape(case)} +ja ", out, re.MULTILINE), case
