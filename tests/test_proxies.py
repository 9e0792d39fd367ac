"""The exported HAProxy and Apache snippets, behind Debian's real HAProxy 2.6 and Apache 2.4.

As with nginx (test_nginx.py), only the server itself can show that it accepts the generated
configuration and serves the exported page, with the status of the error it raised, when the app
cannot be reached: a closed port, or one that accepts and never answers. Each server runs in the
foreground on a free port with a configuration written into a temporary directory that includes the
exported files, and is stopped through its PID whatever happens.

Caddy is not run: Debian's Caddy (2.6) predates ``handle_errors <codes>``, which the snippet needs.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from friendly_errors.export import export
from friendly_errors.negotiation import Format
from test_nginx import free_port, silent_upstream

pytestmark = pytest.mark.proxies

CODES = [404, 500, 502, 503, 504]
APACHE_MODULES = Path("/usr/lib/apache2/modules")


def find_proxy(name: str) -> str:
    """The binary, or a failure that says how to get one: a missing proxy is not a pass."""
    found = shutil.which(name)
    if found is None and os.access(f"/usr/sbin/{name}", os.X_OK):
        found = f"/usr/sbin/{name}"
    if found is None:
        if os.environ.get("FRIENDLY_ERRORS_SKIP_PROXIES") == "1":
            pytest.skip(f"{name} is not installed and FRIENDLY_ERRORS_SKIP_PROXIES=1")
        pytest.fail(
            f"{name} is not installed: install Debian's haproxy and apache2 (apt-get install "
            "haproxy apache2; scripts/test does) or set FRIENDLY_ERRORS_SKIP_PROXIES=1 to skip "
            "these tests"
        )
    return found


@pytest.mark.parametrize(
    ("skip", "outcome"),
    [
        pytest.param("1", pytest.skip.Exception, id="skip"),
        pytest.param(None, pytest.fail.Exception, id="fail"),
    ],
)
@pytest.mark.parametrize("name", ["haproxy", "apache2"])
def test_missing_proxy_fails_unless_skipping_is_asked_for(
    monkeypatch: pytest.MonkeyPatch, name: str, skip: str | None, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    if skip is None:
        monkeypatch.delenv("FRIENDLY_ERRORS_SKIP_PROXIES", raising=False)
    else:
        monkeypatch.setenv("FRIENDLY_ERRORS_SKIP_PROXIES", skip)
    with pytest.raises(outcome, match=f"{name} is not installed"):
        find_proxy(name)


@contextlib.contextmanager
def own_503_upstream() -> Iterator[int]:
    """An app that answers 503 itself, with a body of its own the proxy should replace."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"the app's own 503\n"
            self.send_response(503)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


@contextlib.contextmanager
def running(argv: list[str], port: int, log: Path) -> Iterator[str]:
    """``argv`` in the foreground until it listens on ``port``; then stopped, children included."""
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{argv[0]} exited ({proc.returncode}):\n{log.read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            assert time.monotonic() < deadline, f"{argv[0]} did not listen within 10 s"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        # Apache's children are taken down by its parent; kill any that outlive it, by PID.
        children: list[psutil.Process] = []
        with contextlib.suppress(psutil.NoSuchProcess):
            children = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover - only when the server hangs
            proc.kill()
            proc.wait(5)
        _, alive = psutil.wait_procs(children, timeout=5)
        for child in alive:  # pragma: no cover - only when a child hangs
            child.kill()


def split_response(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines)}
    return status_line, headers, body


def raw_get(url: str, path: str) -> bytes:
    """One GET on a fresh connection, read to the end: what the client really received."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # Apache refuses to serve pages as root and drops to another user, who cannot enter pytest's
    # private temporary directories; so the export goes where anyone may read it.
    parent = Path(tempfile.mkdtemp(prefix="friendly-errors-proxies-"))
    parent.chmod(0o755)
    try:
        target = parent / "errors"
        export(target, codes=CODES, formats=[Format.HTML, Format.JSON, Format.TEXT])
        yield target
    finally:
        shutil.rmtree(parent, ignore_errors=True)


# -- HAProxy -------------------------------------------------------------------------------------


def haproxy_config(exported: Path, port: int, closed: int, silent: int, own_503: int) -> str:
    # `retries 0`: HAProxy waits up to a second before each retry of a refused connection.
    return (
        (exported / "haproxy.cfg").read_text()
        + f"""
defaults
    mode http
    retries 0
    timeout connect 1s
    timeout client 5s
    timeout server 1s
    errorfiles friendly_errors

frontend web
    bind 127.0.0.1:{port}
    use_backend silent if {{ path_beg /slow }}
    use_backend own_503 if {{ path_beg /own }}
    default_backend closed

backend closed
    server app 127.0.0.1:{closed}

backend silent
    server app 127.0.0.1:{silent}

backend own_503
    http-response return status 503 errorfiles friendly_errors if {{ status 503 }}
    server app 127.0.0.1:{own_503}
"""
    )


@pytest.fixture(scope="module")
def haproxy_cfg(exported: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    closed = free_port()
    with silent_upstream() as silent, own_503_upstream() as own_503:
        config = tmp_path_factory.mktemp("haproxy") / "haproxy.cfg"
        config.write_text(haproxy_config(exported, free_port(), closed, silent, own_503))
        yield config


@pytest.fixture(scope="module")
def haproxy(haproxy_cfg: Path) -> Iterator[str]:
    binary = find_proxy("haproxy")
    port = int(haproxy_cfg.read_text().split("bind 127.0.0.1:")[1].split()[0])
    with running(
        [binary, "-f", str(haproxy_cfg), "-db"], port, haproxy_cfg.with_suffix(".log")
    ) as url:
        yield url


def test_haproxy_accepts_the_configuration_without_warnings(haproxy_cfg: Path) -> None:
    check = subprocess.run(
        [find_proxy("haproxy"), "-c", "-f", str(haproxy_cfg)],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Configuration file is valid" in check.stdout
    # HAProxy only warns about an errorfile it ignores (a code it cannot produce, say).
    assert "WARNING" not in check.stdout + check.stderr


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param("/reports", 503, id="closed-503"),
        pytest.param("/slow", 504, id="silent-504"),
        pytest.param("/own", 503, id="app-503"),
    ],
)
def test_haproxy_sends_the_exported_errorfile(
    haproxy: str, exported: Path, path: str, status: int
) -> None:
    started = time.monotonic()
    raw = raw_get(haproxy, path)
    assert time.monotonic() - started < 5
    status_line, headers, body = split_response(raw)
    exported_raw = (exported / f"haproxy/{status}.http").read_bytes()
    file_status_line, file_headers, file_body = split_response(exported_raw)
    assert status_line == file_status_line
    assert status_line.split(" ")[1] == str(status)
    # Framing: exactly Content-Length bytes follow the head, and then the connection ends.
    assert headers["content-length"] == str(len(body)) == file_headers["content-length"]
    assert body == file_body
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-store"
    assert b"<h1>" in body and b"the app's own 503" not in body


def test_haproxy_head_gets_the_headers_only(haproxy: str) -> None:
    response = httpx.head(f"{haproxy}/reports", timeout=10)
    assert response.status_code == 503
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.content == b""


# -- Apache --------------------------------------------------------------------------------------


def apache_config(root: Path, exported: Path, port: int, closed: int, silent: int, own: int) -> str:
    modules = ["mpm_event", "authz_core", "mime", "alias", "headers", "proxy", "proxy_http"]
    loads = "\n".join(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so" for m in modules)
    # As root, Apache must switch to an unprivileged user before serving anything.
    nobody = pwd.getpwnam("nobody")
    user = f"User #{nobody.pw_uid}\nGroup #{nobody.pw_gid}" if os.geteuid() == 0 else ""
    # An empty types file: the snippet must name the media types itself, whatever mime.types says.
    (root / "mime.types").write_text("")
    return f"""
ServerRoot "{root}"
DefaultRuntimeDir "{root}"
PidFile "{root}/httpd.pid"
ErrorLog "{root}/error.log"
LogLevel warn
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
StartServers 1
TypesConfig "{root}/mime.types"
{loads}
{user}
ProxyTimeout 1
<VirtualHost 127.0.0.1:{port}>
    Include "{exported}/apache.conf"
    ProxyPass /__friendly_errors/ !
    <Location /own>
        ProxyPass http://127.0.0.1:{own}/ retry=0
        ProxyErrorOverride On
    </Location>
    ProxyPass /slow http://127.0.0.1:{silent}/ retry=0
    ProxyPass / http://127.0.0.1:{closed}/ retry=0
</VirtualHost>
"""


@pytest.fixture(scope="module")
def apache_conf(exported: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    closed = free_port()
    root = tmp_path_factory.mktemp("apache")
    with silent_upstream() as silent, own_503_upstream() as own:
        config = root / "httpd.conf"
        config.write_text(apache_config(root, exported, free_port(), closed, silent, own))
        yield config


@pytest.fixture(scope="module")
def apache(apache_conf: Path) -> Iterator[str]:
    binary = find_proxy("apache2")
    port = int(apache_conf.read_text().split("Listen 127.0.0.1:")[1].split()[0])
    argv = [binary, "-f", str(apache_conf), "-DFOREGROUND"]
    with running(argv, port, apache_conf.with_name("stdout.log")) as url:
        yield url


def test_apache_accepts_the_configuration(apache_conf: Path) -> None:
    check = subprocess.run(
        [find_proxy("apache2"), "-t", "-f", str(apache_conf)],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Syntax OK" in check.stderr


# mod_proxy_http answers 503 when the connection is refused, and 502 ("Error reading from remote
# server"), not 504, when the app accepts and sends nothing within ProxyTimeout.
@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param("/reports", 503, id="closed-503"),
        pytest.param("/slow", 502, id="silent-502"),
        pytest.param("/own", 503, id="app-503"),
    ],
)
def test_apache_serves_the_exported_page(
    apache: str, exported: Path, path: str, status: int
) -> None:
    started = time.monotonic()
    response = httpx.get(f"{apache}{path}", timeout=10)
    assert time.monotonic() - started < 5
    assert response.status_code == status
    assert response.content == (exported / f"pages/en/{status}.html").read_bytes()
    assert response.headers["content-length"] == str(len(response.content))
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-language"] == "en"
    policy = response.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; style-src 'sha256-")


@pytest.mark.parametrize("method", ["HEAD", "POST"])
def test_apache_other_methods_get_the_page_too(apache: str, method: str) -> None:
    response = httpx.request(method, f"{apache}/reports", content=b"a=1", timeout=10)
    assert response.status_code == 503
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert (response.content == b"") is (method == "HEAD")


def test_apache_pages_are_not_reachable_directly(apache: str, exported: Path) -> None:
    response = httpx.get(f"{apache}/__friendly_errors/503.html", timeout=10)
    # Like nginx's `internal`: a page asked for by its address is not found, with the 404 page.
    assert response.status_code == 404
    assert response.content == (exported / "pages/en/404.html").read_bytes()
