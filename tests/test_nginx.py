"""The exported nginx snippet and the error-page server, behind Debian's real nginx.

In-process tests cannot show that nginx accepts the generated configuration, keeps the status of an
error it raises itself, picks the variant from Accept, or substitutes the request ID; only nginx can.
Each test starts nginx in the foreground with a private prefix and a configuration that includes the
exported files, in front of an upstream that fails on purpose: a closed port (502) or one that accepts
and never answers (504).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from friendly_errors.catalogue import Catalogue
from friendly_errors.export import export
from friendly_errors.negotiation import Format
from test_server import start_subprocess, stop_subprocess

pytestmark = pytest.mark.nginx

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HEX_ID = re.compile(r"[0-9a-f]{32}")


def find_nginx() -> str:
    """The nginx binary, or a failure that says how to get one: a missing proxy is not a pass."""
    found = shutil.which("nginx")
    if found is None and os.access("/usr/sbin/nginx", os.X_OK):
        found = "/usr/sbin/nginx"
    if found is None:
        if os.environ.get("FRIENDLY_ERRORS_SKIP_NGINX") == "1":
            pytest.skip("nginx is not installed and FRIENDLY_ERRORS_SKIP_NGINX=1")
        pytest.fail(
            "nginx is not installed: install Debian's nginx (apt-get install nginx; scripts/test "
            "does) or set FRIENDLY_ERRORS_SKIP_NGINX=1 to skip these tests"
        )
    return found


@pytest.fixture(scope="module")
def nginx() -> str:
    return find_nginx()


@pytest.mark.parametrize(
    ("skip", "outcome"),
    [
        pytest.param("1", pytest.skip.Exception, id="skip"),
        pytest.param(None, pytest.fail.Exception, id="fail"),
    ],
)
def test_missing_nginx_fails_unless_skipping_is_asked_for(
    monkeypatch: pytest.MonkeyPatch, skip: str | None, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    if skip is None:
        monkeypatch.delenv("FRIENDLY_ERRORS_SKIP_NGINX", raising=False)
    else:
        monkeypatch.setenv("FRIENDLY_ERRORS_SKIP_NGINX", skip)
    with pytest.raises(outcome, match="nginx is not installed"):
        find_nginx()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def silent_upstream() -> Iterator[int]:
    """A server that accepts connections and never answers: nginx times out reading from it (504)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


@contextlib.contextmanager
def running_nginx(nginx: str, prefix: Path, http_block: str) -> Iterator[str]:
    """nginx in the foreground on a free port; stopped through its master PID whatever happens."""
    port = free_port()
    for name in ("logs", "tmp"):
        (prefix / name).mkdir(parents=True, exist_ok=True)
    # Run as root, nginx would start its workers as "nobody", who cannot read pytest's private
    # temporary directories.
    user = "user root;" if os.geteuid() == 0 else ""
    config = prefix / "nginx.conf"
    config.write_text(
        f"""
daemon off;
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {prefix}/logs/access.log;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    {http_block.replace("LISTEN", f"listen 127.0.0.1:{port};")}
}}
"""
    )
    proc = subprocess.Popen(
        [nginx, "-p", str(prefix), "-e", str(prefix / "logs/error.log"), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                log = (
                    (prefix / "logs/error.log").read_text()
                    if (prefix / "logs/error.log").exists()
                    else ""
                )
                pytest.fail(
                    f"nginx exited ({proc.returncode}): {proc.stderr.read() if proc.stderr else ''}{log}"
                )
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            assert time.monotonic() < deadline, "nginx did not listen within 10 s"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        # SIGQUIT is nginx's graceful shutdown (`nginx -s quit` sends the same to the master PID).
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover - only when nginx hangs
            proc.kill()
            proc.wait(5)
        if proc.stderr is not None:
            proc.stderr.close()


# -- the exported static pages -------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("export") / "errors"
    french = Catalogue.default().extend({502: {"title": "Mauvaise passerelle"}}, locale="fr")
    export(
        target,
        codes=[404, 500, 502, 503, 504],
        formats=[Format.HTML, Format.JSON, Format.TEXT, Format.MARKDOWN],
        locales=["en", "fr"],
        catalogue=french,
    )
    return target


@pytest.fixture(scope="module")
def static_proxy(
    nginx: str, exported: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    closed = free_port()
    with silent_upstream() as silent:
        block = f"""
    include {exported}/nginx/http.conf;
    server {{
        LISTEN
        include {exported}/nginx/server.conf;
        location / {{ proxy_pass http://127.0.0.1:{closed}; }}
        location /slow {{
            proxy_pass http://127.0.0.1:{silent};
            proxy_read_timeout 1s;
        }}
    }}
"""
        with running_nginx(nginx, tmp_path_factory.mktemp("nginx-static"), block) as url:
            yield url


@pytest.mark.parametrize(
    ("headers", "media_type", "marker"),
    [
        pytest.param({"accept": BROWSER}, "text/html", "<h1>", id="browser"),
        pytest.param({}, "text/html", "<h1>", id="no-accept"),
        pytest.param(
            {"accept": "application/json"}, "application/problem+json", '"status":502', id="json"
        ),
        pytest.param(
            {"accept": "application/json, text/plain, */*"},
            "application/problem+json",
            '"status":502',
            id="axios",
        ),
        pytest.param({"accept": "text/plain"}, "text/plain", "502 Bad Gateway\n===", id="text"),
        pytest.param(
            {"accept": "text/markdown, text/html, */*"},
            "text/markdown",
            "# 502 Bad Gateway\n",
            id="agent",
        ),
    ],
)
def test_closed_upstream_gets_the_exported_502(
    static_proxy: str, headers: dict[str, str], media_type: str, marker: str
) -> None:
    response = httpx.get(f"{static_proxy}/reports", headers=headers, timeout=10)
    assert response.status_code == 502
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    assert marker in response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["vary"] == "Accept, Accept-Language"
    # The placeholders became this request's ID and time.
    request_id = response.headers["x-request-id"]
    assert HEX_ID.fullmatch(request_id)
    assert request_id in response.text
    assert "unknown (static page)" not in response.text
    assert "1970-01-01" not in response.text


def test_the_html_page_is_the_exported_one_with_its_csp(static_proxy: str, exported: Path) -> None:
    response = httpx.get(f"{static_proxy}/", headers={"accept": BROWSER}, timeout=10)
    on_disk = (exported / "pages/en/502.html").read_text()
    request_id = response.headers["x-request-id"]
    expected = on_disk.replace("unknown (static page)", request_id)
    assert re.sub(r"Time \(UTC\): \S+", "", response.text) == re.sub(
        r"Time \(UTC\): \S+", "", expected
    )
    policy = response.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; style-src 'sha256-")
    assert response.headers["content-language"] == "en"


def test_json_problem_carries_the_request_id(static_proxy: str) -> None:
    response = httpx.get(f"{static_proxy}/", headers={"accept": "application/json"}, timeout=10)
    problem = json.loads(response.text)
    assert problem["status"] == 502
    assert problem["request_id"] == response.headers["x-request-id"]
    assert "content-security-policy" not in response.headers


def test_language_follows_accept_language(static_proxy: str) -> None:
    response = httpx.get(
        f"{static_proxy}/",
        headers={"accept": BROWSER, "accept-language": "fr-CA,fr;q=0.9"},
        timeout=10,
    )
    assert response.status_code == 502
    assert "Mauvaise passerelle" in response.text
    assert response.headers["content-language"] == "fr"


def test_slow_upstream_gets_the_exported_504(static_proxy: str) -> None:
    started = time.monotonic()
    response = httpx.get(f"{static_proxy}/slow", headers={"accept": "application/json"}, timeout=10)
    assert response.status_code == 504
    assert json.loads(response.text)["title"] == "Gateway Timeout"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("method", ["HEAD", "POST"])
def test_other_methods_get_the_page_too(static_proxy: str, method: str) -> None:
    response = httpx.request(
        method, f"{static_proxy}/", headers={"accept": "text/plain"}, timeout=10
    )
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert (response.content == b"") is (method == "HEAD")


def test_the_pages_are_not_reachable_directly(static_proxy: str) -> None:
    response = httpx.get(f"{static_proxy}/__friendly_errors/en/502.html", timeout=10)
    # `internal`: nginx answers 404, with the exported 404 page.
    assert response.status_code == 404
    assert "Not Found" in response.text


# -- the error-page server behind nginx ----------------------------------------------------------


@pytest.fixture(scope="module")
def served_proxy(nginx: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server, server_url = start_subprocess("serve", "--site-name", "Acme")
    closed = free_port()
    try:
        with silent_upstream() as silent:
            # No "=" after the codes: nginx then keeps the status, and $status holds it for X-Code
            # (with "=", $status is 000 inside the named location).
            block = f"""
    server {{
        LISTEN
        location / {{
            proxy_pass http://127.0.0.1:{closed};
            error_page 502 504 @errors;
        }}
        location /slow {{
            proxy_pass http://127.0.0.1:{silent};
            proxy_read_timeout 1s;
            error_page 502 504 @errors;
        }}
        location @errors {{
            proxy_pass {server_url};
            proxy_set_header X-Code $status;
            proxy_set_header X-Format $http_accept;
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Request-ID $request_id;
        }}
    }}
"""
            with running_nginx(nginx, tmp_path_factory.mktemp("nginx-serve"), block) as url:
                yield url
    finally:
        _, err = stop_subprocess(server)
        assert "Traceback" not in err


@pytest.mark.parametrize(
    ("path", "status", "title"),
    [
        pytest.param("/reports?page=2", 502, "Bad Gateway", id="closed-502"),
        pytest.param("/slow", 504, "Gateway Timeout", id="silent-504"),
    ],
)
def test_serve_behind_nginx(served_proxy: str, path: str, status: int, title: str) -> None:
    response = httpx.get(
        f"{served_proxy}{path}", headers={"accept": "application/json"}, timeout=10
    )
    problem = json.loads(response.text)
    assert response.status_code == status
    assert (problem["status"], problem["title"]) == (status, title)
    # nginx's own $request_id travelled to the server and back.
    assert HEX_ID.fullmatch(problem["request_id"])
    assert response.headers["x-request-id"] == problem["request_id"]


def test_serve_behind_nginx_shows_the_original_uri(served_proxy: str) -> None:
    response = httpx.get(
        f"{served_proxy}/reports/2024?page=2", headers={"accept": BROWSER}, timeout=10
    )
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "GET /reports/2024" in response.text
    assert "Acme" in response.text
