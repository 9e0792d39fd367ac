"""The demo app: every example its index page promises, in process and as the real command."""

from __future__ import annotations

import gc
import re
import socket
import subprocess
import sys
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from friendly_errors import Catalogue
from friendly_errors.cli import main
from friendly_errors.demo import DemoApp
from test_server import running, start_subprocess, stop_subprocess

Message = MutableMapping[str, Any]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def app() -> DemoApp:
    return DemoApp()


async def fetch(app: DemoApp, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        return await client.get(path, headers=headers)


@pytest.mark.anyio
async def test_index_links_to_every_example(app: DemoApp) -> None:
    response = await fetch(app, "/")
    assert response.status_code == 200
    assert "style-src 'sha256-" in response.headers["content-security-policy"]
    links = set(re.findall(r'href="([^"]+)"', response.text))
    expected = {
        "/status/502",
        "/status/503",
        "/status/504",
        *(f"/status/{code}" for code in range(520, 528)),
        "/exception",
        "/debug/exception",
        "/detail",
        "/custom/status/502",
        "/status/502?accept=json",
        "/status/502?accept=text",
        "/status/502?accept=markdown",
    }
    assert expected <= links
    assert "curl -i -H 'Accept: application/json' http://127.0.0.1:8000/status/502" in (
        response.text
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "headers", "status", "media_type", "contains"),
    [
        pytest.param(
            "/status/502", {"accept": "text/html"}, 502, "text/html", "Bad Gateway", id="502"
        ),
        pytest.param(
            "/status/504", {"accept": "text/html"}, 504, "text/html", "Gateway Timeout", id="504"
        ),
        pytest.param(
            "/status/522",
            {"accept": "text/html"},
            522,
            "text/html",
            "Connection Timed Out",
            id="522",
        ),
        pytest.param(
            "/status/502?accept=json", {}, 502, "application/json", '"status":502', id="accept-json"
        ),
        pytest.param(
            "/status/502?accept=text",
            {"accept": "text/html"},
            502,
            "text/plain",
            "502 Bad",
            id="text",
        ),
        pytest.param(
            "/status/502?accept=xml", {}, 502, "application/xml", "<status>502</status>", id="xml"
        ),
        pytest.param(
            "/status/502?accept=pdf", {"accept": "text/html"}, 502, "text/html", "Bad", id="unknown"
        ),
        pytest.param(
            "/exception",
            {"accept": "text/html"},
            500,
            "text/html",
            "Internal Server Error",
            id="exc",
        ),
        pytest.param(
            "/detail?accept=json", {}, 503, "application/json", "nightly import", id="app-detail"
        ),
        pytest.param(
            "/detail?accept=markdown",
            {"accept": "text/html"},
            503,
            "text/markdown",
            "> The nightly import is rebuilding the reports table",
            id="app-detail-markdown",
        ),
        pytest.param(
            "/status/502?accept=md", {}, 502, "text/markdown", "# 502 Bad Gateway", id="md"
        ),
        pytest.param(
            "/custom/status/502",
            {"accept": "text/html"},
            502,
            "text/html",
            "Acme Reports",
            id="custom",
        ),
        pytest.param(
            "/no/such/page", {"accept": "text/html"}, 404, "text/html", "Not Found", id="404"
        ),
        pytest.param(
            "/status/200", {"accept": "text/html"}, 404, "text/html", "Not Found", id="not-4xx"
        ),
    ],
)
async def test_examples(
    app: DemoApp,
    caplog: pytest.LogCaptureFixture,
    path: str,
    headers: dict[str, str],
    status: int,
    media_type: str,
    contains: str,
) -> None:
    response = await fetch(app, path, headers)
    assert response.status_code == status
    assert response.headers["content-type"].split(";")[0] == media_type
    assert contains in response.text


@pytest.mark.anyio
async def test_503_says_when_to_come_back(app: DemoApp) -> None:
    response = await fetch(app, "/status/503?accept=json")
    assert response.headers["retry-after"] == "120"
    assert response.json()["retry_after"] == 120


@pytest.mark.anyio
async def test_the_index_switches_the_language_of_every_example(app: DemoApp) -> None:
    index = await fetch(app, "/")
    for tag in Catalogue.default().locales:
        assert f'<a href="/?lang={tag}" lang="{tag}" hreflang="{tag}"' in index.text
    assert 'hreflang="en" aria-current="true"' in index.text
    japanese = await fetch(app, "/?lang=ja")
    assert 'hreflang="ja" aria-current="true">日本語</a>' in japanese.text
    links = set(re.findall(r'href="([^"]+)"', japanese.text))
    assert {"/status/503?lang=ja", "/status/502?accept=json&amp;lang=ja", "/exception?lang=ja"} <= (
        links
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "lang", "start"),
    [
        ("/status/503?lang=ja", "ja", '<html lang="ja">'),
        ("/status/502?lang=ar", "ar", '<html lang="ar" dir="rtl">'),
        ("/status/504?accept=json&lang=de", "de", "{"),
        ("/status/503?lang=zh-CN", "zh-Hans", '<html lang="zh-Hans">'),
        ("/status/503?lang=ja%0d%0aX-Evil:%201", "en", '<html lang="en">'),
        ("/status/503?lang=", "en", '<html lang="en">'),
    ],
    ids=["ja", "ar", "json-de", "zh-CN", "header-injection", "empty"],
)
async def test_lang_stands_in_for_accept_language(
    app: DemoApp, path: str, lang: str, start: str
) -> None:
    response = await fetch(app, path, {"accept": "text/html", "accept-language": "en"})
    assert response.headers["content-language"] == lang
    assert "x-evil" not in response.headers
    assert start in response.text[:200]


@pytest.mark.anyio
async def test_the_traceback_shows_only_under_debug(
    app: DemoApp, caplog: pytest.LogCaptureFixture
) -> None:
    plain = await fetch(app, "/exception", {"accept": "text/plain"})
    debug = await fetch(app, "/debug/exception", {"accept": "text/plain"})
    assert "RuntimeError" not in plain.text
    assert "RuntimeError: the demo app failed on purpose" in debug.text


@pytest.mark.anyio
async def test_the_custom_page_keeps_a_strict_csp(app: DemoApp) -> None:
    custom = await fetch(app, "/custom/status/503", {"accept": "text/html"})
    plain = await fetch(app, "/status/503", {"accept": "text/html"})
    policy = custom.headers["content-security-policy"]
    assert "unsafe-inline" not in policy
    assert policy != plain.headers["content-security-policy"]


@pytest.mark.anyio
async def test_lifespan_and_websockets(app: DemoApp) -> None:
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await app({"type": "lifespan"}, receive, send)
    await app({"type": "websocket", "path": "/"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_the_template_directory_goes_away_with_the_app() -> None:
    app = DemoApp()
    directory = app.template_dir
    assert (directory / "5xx.html").is_file()
    del app
    gc.collect()
    assert not Path(directory).exists()


# -- the command ---------------------------------------------------------------------------------


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--port", "abc"], "--port: 'abc' is not a port number", id="port-abc"),
        pytest.param(["--port", "70000"], "--port: '70000' is not a port number", id="port-big"),
    ],
)
def test_demo_bad_input(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert main(["demo", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"friendly-errors: error: {message}")
    assert err.count("\n") == 1


def test_demo_on_a_port_in_use(capsys: pytest.CaptureFixture[str], busy_port: int) -> None:
    assert main(["demo", "--port", str(busy_port)]) == 2
    assert capsys.readouterr().err == (
        f"friendly-errors: error: port {busy_port} on 127.0.0.1 is already in use; stop what is "
        "running there or choose another port with --port\n"
    )


def test_demo_without_uvicorn(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    assert main(["demo"]) == 2
    assert capsys.readouterr().err == (
        "friendly-errors: error: this command needs uvicorn, which is not installed: "
        "pip install 'friendly-http-errors[server]'\n"
    )


def test_demo_without_uvicorn_in_a_fresh_interpreter() -> None:
    """The same, with the real import machinery: the package must not import uvicorn on its own."""
    code = (
        "import sys; sys.modules['uvicorn'] = None; "
        "from friendly_errors.cli import main; sys.exit(main(['demo', '--port', '0']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 2
    assert "pip install 'friendly-http-errors[server]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_demo_command_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    with running(lambda: main(["demo", "--port", "0"]), capsys) as url:
        response = httpx.get(f"{url}/status/520", headers={"accept": "text/html"}, timeout=5)
        assert response.status_code == 520


def test_ctrl_c_ends_the_command_quietly(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import friendly_errors.demo

    def interrupted(**kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(friendly_errors.demo, "run_demo", interrupted)
    assert main(["demo"]) == 130
    assert capsys.readouterr().err == ""


@pytest.mark.wire
def test_demo_as_a_subprocess() -> None:
    proc, url = start_subprocess("demo")
    try:
        index = httpx.get(f"{url}/", timeout=10)
        assert index.status_code == 200
        assert f"curl -i -H 'Accept: application/json' {url}/status/502" in index.text
        page = httpx.get(f"{url}/status/504", headers={"accept": "text/html"}, timeout=10)
        assert page.status_code == 504
        assert "Gateway Timeout" in page.text
        problem = httpx.get(f"{url}/status/503?accept=json", timeout=10)
        assert (problem.status_code, problem.json()["status"]) == (503, 503)
    finally:
        code, err = stop_subprocess(proc)
    assert code == 130, err
    assert "Traceback" not in err
