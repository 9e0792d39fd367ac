"""The error-page backend: what a proxy asks for, what it gets back, and how the server starts."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

import httpx
import pytest

from friendly_errors.cli import main
from friendly_errors.server import INSTALL_HINT, ErrorPageApp, ServeError, listen, run_app

Message = MutableMapping[str, Any]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def fetch(
    path: str, headers: dict[str, str] | None = None, method: str = "GET", **options: Any
) -> httpx.Response:
    transport = httpx.ASGITransport(app=ErrorPageApp(**options))
    async with httpx.AsyncClient(transport=transport, base_url="http://errors") as client:
        return await client.request(method, path, headers=headers)


# -- what a proxy asks for, in process -----------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "headers", "status", "media_type"),
    [
        pytest.param("/502", {"accept": "text/html"}, 502, "text/html", id="traefik-path"),
        pytest.param("/504/", {"accept": "text/html"}, 504, "text/html", id="trailing-slash"),
        pytest.param(
            "/503.json", {"accept": "text/html"}, 503, "application/problem+json", id="ext"
        ),
        pytest.param("/503.txt", {}, 503, "text/plain", id="ext-txt"),
        pytest.param("/520.xml", {}, 520, "application/problem+xml", id="ext-xml"),
        pytest.param("/524.md", {}, 524, "text/markdown", id="ext-md"),
        pytest.param(
            "/", {"x-code": "502", "x-format": "text/markdown"}, 502, "text/markdown", id="x-md"
        ),
        pytest.param(
            "/502", {"accept": "application/json"}, 502, "application/json", id="traefik-accept"
        ),
        pytest.param(
            "/",
            {"x-code": "503", "x-format": "application/json"},
            503,
            "application/json",
            id="ingress-x-format",
        ),
        pytest.param(
            "/",
            {"x-code": "502", "x-format": "text/plain", "accept": "text/html"},
            502,
            "text/plain",
            id="x-format-beats-accept",
        ),
        pytest.param(
            "/504", {"x-code": "502", "accept": "text/html"}, 502, "text/html", id="x-code-wins"
        ),
        pytest.param("/", {"accept": "text/html"}, 404, "text/html", id="default-backend"),
        pytest.param("/999x", {"accept": "text/html"}, 404, "text/html", id="not-a-code"),
        pytest.param("/999", {"accept": "text/html"}, 404, "text/html", id="beyond-599"),
        pytest.param("/200", {"accept": "text/html"}, 404, "text/html", id="not-an-error"),
        pytest.param("/", {"x-code": "abc"}, 404, "text/html", id="bad-x-code"),
    ],
)
async def test_status_and_format(
    path: str, headers: dict[str, str], status: int, media_type: str
) -> None:
    response = await fetch(path, headers)
    assert response.status_code == status
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.headers["cache-control"] == "no-store"
    assert int(response.headers["content-length"]) == len(response.content)


@pytest.mark.anyio
async def test_the_status_is_never_200_and_the_page_is_the_right_one() -> None:
    response = await fetch("/", {"x-code": "524", "x-format": "application/json"})
    problem = response.json()
    assert response.status_code == 524
    assert (problem["status"], problem["title"]) == (524, "A Timeout Occurred")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("headers", "shown"),
    [
        pytest.param({"x-request-id": "abc-123"}, "abc-123", id="valid"),
        pytest.param({"x-request-id": "<script>"}, None, id="unsafe-replaced"),
        pytest.param({}, None, id="absent-generated"),
    ],
)
async def test_request_id_is_validated_like_the_middleware(
    headers: dict[str, str], shown: str | None
) -> None:
    response = await fetch("/", {"x-code": "502", "accept": "application/json", **headers})
    request_id = response.json()["request_id"]
    assert response.headers["x-request-id"] == request_id
    if shown is None:
        assert len(request_id) == 32 and request_id.isalnum()
    else:
        assert request_id == shown


@pytest.mark.anyio
async def test_original_uri_is_shown_and_cluster_context_is_only_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    headers = {
        "x-code": "503",
        "x-format": "text/plain",
        "x-original-uri": "/reports/2024?page=2",
        "x-namespace": "billing",
        "x-ingress-name": "reports",
        "x-service-name": "reports-svc",
        "x-service-port": "8080",
    }
    with caplog.at_level(logging.INFO, logger="friendly_errors.server"):
        response = await fetch("/", headers)
    assert response.status_code == 503
    assert "GET /reports/2024" in response.text
    assert "billing" not in response.text and "reports-svc" not in response.text
    assert "'x-namespace': 'billing'" in caplog.text
    assert "reports-svc" in caplog.text


@pytest.mark.anyio
async def test_503_carries_a_retry_after_hint() -> None:
    response = await fetch("/503")
    assert response.headers["retry-after"].isdigit()


@pytest.mark.anyio
async def test_options_reach_the_renderer() -> None:
    response = await fetch("/502", {"accept": "text/html"}, site_name="Acme Reports")
    assert "Acme Reports" in response.text


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("headers", "status", "body"),
    [
        pytest.param({}, 200, "ok\n", id="probe"),
        # A visitor whose own /healthz failed upstream gets the error, not "ok".
        pytest.param({"x-code": "502", "accept": "text/plain"}, 502, None, id="proxied"),
    ],
)
async def test_healthz(headers: dict[str, str], status: int, body: str | None) -> None:
    response = await fetch("/healthz", headers)
    assert response.status_code == status
    if body is not None:
        assert response.text == body
    else:
        assert response.text.startswith("502 Bad Gateway")


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/502", "/healthz"])
async def test_head_has_headers_and_no_body(path: str) -> None:
    get = await fetch(path)
    head = await fetch(path, method="HEAD")
    assert head.status_code == get.status_code
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(ValueError, match="home_url"):
        ErrorPageApp(home_url="javascript:alert(1)")


@pytest.mark.anyio
async def test_lifespan_is_acknowledged_and_websockets_are_ignored() -> None:
    app = ErrorPageApp()
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await app({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    sent.clear()
    await app({"type": "websocket", "path": "/"}, receive, send)
    assert sent == []


# -- listening -----------------------------------------------------------------------------------


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_listen_refuses_a_port_in_use(busy_port: int) -> None:
    with pytest.raises(ServeError, match=f"port {busy_port} on 127.0.0.1 is already in use"):
        listen("127.0.0.1", busy_port)


@pytest.mark.parametrize(
    ("host", "message"),
    [
        pytest.param("no-such-host.invalid", "unknown host", id="unknown-host"),
        # 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never an address of this machine.
        pytest.param("192.0.2.1", "cannot listen on 192.0.2.1 port 0", id="foreign-address"),
    ],
)
def test_listen_explains_other_failures(host: str, message: str) -> None:
    with pytest.raises(ServeError, match=message):
        listen(host, 0)


def test_listen_on_ipv6_names_the_url_with_brackets() -> None:
    if not socket.has_ipv6:  # pragma: no cover - depends on the machine
        pytest.skip("no IPv6")
    try:
        sock = listen("::1", 0)
    except ServeError:  # pragma: no cover - IPv6 disabled in the container
        pytest.skip("::1 is not configured")
    with sock:
        from friendly_errors.server import url_of

        assert url_of(sock).startswith("http://[::1]:")


# -- running for real ----------------------------------------------------------------------------


@contextlib.contextmanager
def running(target: Callable[[], object], capsys: pytest.CaptureFixture[str]) -> Iterator[str]:
    """Run ``target`` (which starts uvicorn) in a thread; yield the URL its banner announced.

    uvicorn's Server class is wrapped so the test can ask the very server that started to stop, and
    ``target``'s return value is checked to be 0 or None once it has.
    """
    import uvicorn

    servers: list[Any] = []

    class Captured(uvicorn.Server):
        def __init__(self, config: Any) -> None:
            super().__init__(config)
            servers.append(self)

    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(target())
        except BaseException as exc:  # pragma: no cover - reported below
            outcome.append(exc)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(uvicorn, "Server", Captured)
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not (servers and servers[0].started) and thread.is_alive():
            assert time.monotonic() < deadline, "the server did not start within 10 s"
            time.sleep(0.02)
    found = re.search(r"http://[^/\s]+", capsys.readouterr().out)
    assert found is not None, outcome
    try:
        yield found.group()
    finally:
        if servers:
            servers[0].should_exit = True
        thread.join(10)
        assert not thread.is_alive()
        assert outcome in ([None], [0]), outcome


def test_run_app_serves_until_told_to_stop(capsys: pytest.CaptureFixture[str]) -> None:
    def target() -> None:
        run_app(ErrorPageApp(), host="127.0.0.1", port=0, banner="up at {url}")

    with running(target, capsys) as url:
        assert url.startswith("http://127.0.0.1:")
        response = httpx.get(f"{url}/503", headers={"accept": "application/json"}, timeout=5)
        assert response.status_code == 503
        assert response.json()["status"] == 503
        assert "server" not in response.headers
        assert httpx.get(f"{url}/healthz", timeout=5).text == "ok\n"


def test_serve_command_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    with running(lambda: main(["serve", "--port", "0", "--site-name", "Acme"]), capsys) as url:
        response = httpx.get(
            f"{url}/", headers={"x-code": "502", "accept": "text/plain"}, timeout=5
        )
        assert response.status_code == 502
        assert "Acme" in response.text


def test_run_app_reports_a_failed_startup(capsys: pytest.CaptureFixture[str]) -> None:
    async def broken(
        scope: Any,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    with pytest.raises(ServeError, match="did not start"):
        run_app(broken, host="127.0.0.1", port=0, banner="up at {url}")


def test_run_app_without_uvicorn_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes `import uvicorn` raise ImportError, as on a machine without it.
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(ServeError, match=r"pip install 'friendly-http-errors\[server\]'"):
        run_app(ErrorPageApp(), host="127.0.0.1", port=0, banner="")


# -- the command ---------------------------------------------------------------------------------


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["--port", "abc"],
            "--port: 'abc' is not a port number (expected 1 to 65535, or 0 for any)",
            id="port-abc",
        ),
        pytest.param(
            ["--port", "70000"],
            "--port: '70000' is not a port number (expected 1 to 65535, or 0 for any)",
            id="port-70000",
        ),
        pytest.param(["--port", "-1"], "--port: '-1' is not a port number", id="port-negative"),
        pytest.param(
            ["--template-dir", "/nonexistent"],
            "--template-dir: '/nonexistent' is not a directory",
            id="template-dir",
        ),
        pytest.param(
            ["--catalogue", "/nonexistent.toml"],
            "/nonexistent.toml: cannot read file",
            id="catalogue",
        ),
        pytest.param(["--home-url", "javascript:x"], "home_url must be", id="home-url"),
        pytest.param(
            ["--host", "no-such-host.invalid", "--port", "0"],
            "cannot listen on 'no-such-host.invalid': unknown host",
            id="host",
        ),
    ],
)
def test_serve_bad_input_is_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run_cli(capsys, "serve", *argv)
    assert code == 2
    assert out == ""
    assert err.startswith(f"friendly-errors: error: {message}")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_serve_on_a_port_in_use(capsys: pytest.CaptureFixture[str], busy_port: int) -> None:
    code, _, err = run_cli(capsys, "serve", "--port", str(busy_port))
    assert code == 2
    assert err == (
        f"friendly-errors: error: port {busy_port} on 127.0.0.1 is already in use; stop what is "
        "running there or choose another port with --port\n"
    )


def test_serve_without_uvicorn(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    code, _, err = run_cli(capsys, "serve", "--port", "0")
    assert code == 2
    assert err == (
        "friendly-errors: error: this command needs uvicorn, which is not installed: "
        f"{INSTALL_HINT}\n"
    )


def start_subprocess(*argv: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``python -m friendly_errors ...`` on port 0 and return it with the URL it announced.

    Port 0 lets the server pick a free port and say which in its banner, so there is no window in
    which another process can take a port chosen in advance.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "friendly_errors", *argv, "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=20), "the server printed no banner within 20 s"
        line = proc.stdout.readline()
        found = re.search(r"http://[^/\s]+", line)
        assert found is not None, f"no URL in {line!r}"
    except BaseException:  # pragma: no cover - only when the server fails to start
        proc.kill()
        _, err = proc.communicate(timeout=5)
        print(err, file=sys.stderr)
        raise
    return proc, found.group()


def stop_subprocess(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - only when shutdown hangs
        proc.kill()
        _, err = proc.communicate(timeout=5)
    return proc.returncode, err


@pytest.mark.wire
def test_serve_as_a_subprocess() -> None:
    proc, url = start_subprocess("serve", "--site-name", "Acme")
    try:
        assert httpx.get(f"{url}/healthz", timeout=10).text == "ok\n"
        response = httpx.get(
            f"{url}/", headers={"X-Code": "504", "X-Format": "application/json"}, timeout=10
        )
        assert response.status_code == 504
        assert json.loads(response.text)["title"] == "Gateway Timeout"
    finally:
        code, err = stop_subprocess(proc)
    # Ctrl+C ends the command quietly with the conventional 130.
    assert code == 130, err
    assert "Traceback" not in err
    assert "served a 504 page" in err
