"""The benchmarks' reference apps must be what their tables say they are.

The README's performance figures compare our middleware with apps written for the comparison: the
same page sent as constants, the same page with only a fresh request ID, a wrapper that checks the
status and keeps no state. If one of them drifted from what it stands for (a shorter page, a missing
header), its ratio would quietly stop meaning anything; these tests keep them honest and keep the
in-process runs working. No timing is asserted.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module", autouse=True)
def _importable() -> Iterator[None]:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield
    finally:
        sys.path.remove(str(BENCHMARKS))


def _sent(app: Any, path: str) -> list[dict[str, Any]]:
    import bench_asgi

    scope = bench_asgi._scope(path)
    scope["headers"] = [(b"host", b"127.0.0.1"), (b"accept", bench_asgi._BROWSER_ACCEPT)]
    sent: list[dict[str, Any]] = []

    async def keep(message: dict[str, Any]) -> None:
        sent.append(message)

    step = app(scope, bench_asgi._receive, keep).__await__()
    with contextlib.suppress(StopIteration):
        next(step)
    return sent


def _same_time(page: bytes) -> bytes:
    return re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"TIME", page)


def test_asgi_reference_pages_are_our_page() -> None:
    import bench_asgi

    ours_start, ours_body = _sent(bench_asgi.ours, "/503")
    ours_headers = dict(ours_start["headers"])
    for reference in (bench_asgi.prerendered, bench_asgi.fresh_id):
        start, body = _sent(reference, "/")
        headers = dict(start["headers"])
        assert start["status"] == ours_start["status"] == 503
        # Same header names and values, the request ID aside; the same body, the ID aside.
        assert headers.keys() == ours_headers.keys()
        rid, our_rid = headers.pop(b"x-request-id"), ours_headers[b"x-request-id"]
        assert {k: v for k, v in ours_headers.items() if k != b"x-request-id"} == headers
        # The references were captured when the module was imported, maybe a second earlier.
        assert _same_time(body["body"].replace(rid, b"ID")) == _same_time(
            ours_body["body"].replace(our_rid, b"ID")
        )
        assert int(headers[b"content-length"]) == len(body["body"]) > 10_000


def test_asgi_fresh_id_reference_sends_a_new_id_each_time() -> None:
    import bench_asgi

    first = dict(_sent(bench_asgi.fresh_id, "/")[0]["headers"])[b"x-request-id"]
    second = dict(_sent(bench_asgi.fresh_id, "/")[0]["headers"])[b"x-request-id"]
    assert first != second
    assert len(first) == len(second) == 32


def test_wsgi_status_check_only_passes_what_the_bare_app_sends() -> None:
    import bench_wsgi
    from werkzeug.test import Client

    for path, status in (("/", 200), ("/404", 404)):
        response = Client(bench_wsgi.check_only).get(path)
        assert response.status_code == status
        assert response.data == Client(bench_wsgi.bare).get(path).data


def test_in_process_runs_complete(capsys: pytest.CaptureFixture[str]) -> None:
    import bench_asgi
    import bench_wsgi

    assert bench_asgi.main(["--iterations", "500", "--repeats", "1"]) == 0
    assert bench_wsgi.main(["--iterations", "50", "--repeats", "3"]) == 0
    out = capsys.readouterr().out
    assert "FriendlyErrorsMiddleware" in out
    assert "The status check alone, with no state:" in out


def test_the_languages_benchmark_completes(capsys: pytest.CaptureFixture[str]) -> None:
    import bench_languages

    assert bench_languages.main(["--runs", "1", "--rounds", "1", "--number", "5"]) == 0
    out = capsys.readouterr().out
    assert "Catalogue.default(), English only:" in out and "(13 languages)" in out
    for case in ("html", "text", "html, Retry-After", "text, Retry-After"):
        assert re.search(rf"^{re.escape(case)} +ja ", out, re.MULTILINE), case
