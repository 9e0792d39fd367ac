"""The error-page backend for reverse proxies, and the one place that starts a server.

A proxy that cannot reach the application (502, 504) has no middleware to turn to: the error happens
before any Python code runs. Traefik's ``errors`` middleware and ingress-nginx's ``custom-http-errors``
solve that by asking a separate backend for the page; :class:`ErrorPageApp` is that backend. It renders
with the same :class:`~friendly_errors.core.ErrorHandler` as the middlewares, so a page served here and a
page served by the app itself cannot drift apart.

The app is pure ASGI. uvicorn is imported only by :func:`run_app`, when a server is really started, so
importing this module (or the package) never needs the ``server`` extra.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import re
import socket
from typing import Any, Final

from friendly_errors._types import ASGIApp, Receive, Scope, Send
from friendly_errors.asgi import encode_headers, request_headers
from friendly_errors.core import ErrorHandler
from friendly_errors.negotiation import Format
from friendly_errors.rendering import RenderedError, RequestInfo

__all__ = ["INSTALL_HINT", "ErrorPageApp", "ServeError", "lifespan", "listen", "run_app", "url_of"]

logger = logging.getLogger("friendly_errors.server")

#: What to type when uvicorn is missing; the message names the extra, not uvicorn, so the version pin
#: of the extra is what gets installed.
INSTALL_HINT: Final = "pip install 'friendly-http-errors[server]'"

# "/502", "/502.html" (Traefik's documented ``query: /{status}.html``) and a trailing slash.
_CODE_PATH: Final = re.compile(r"/([0-9]{3})(?:\.(html|json|txt|xml|md))?/?")
_FORMATS_BY_EXTENSION: Final = {fmt.extension: fmt for fmt in Format}
# RFC 9110 Section 15: a status is three digits from 100 to 599. Below 400 a page is not an error (and
# 204 or 304 cannot even carry one), so only 4xx and 5xx are served as asked.
_SERVED: Final = range(400, 600)
_NOT_FOUND: Final = 404
_HEALTH_BODY: Final = b"ok\n"
_HEALTH_HEADERS: Final = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", str(len(_HEALTH_BODY)).encode("ascii")),
    (b"cache-control", b"no-store"),
]
# Sent by ingress-nginx to describe where the error came from. They name cluster internals, so they
# go to the log for the operator and never onto the page for the visitor.
_INGRESS_CONTEXT: Final = ("x-namespace", "x-ingress-name", "x-service-name", "x-service-port")


class ServeError(Exception):
    """A server could not start for a reason the user can fix; the CLI prints it as one line."""


class ErrorPageApp:
    """An ASGI app that answers every request with the error page the proxy asks for.

    The status comes from ``X-Code`` (ingress-nginx) or the path (``/502``, Traefik's
    ``query: /{status}``), and is always the status of the response: ingress-nginx passes the backend's
    answer through unchanged, so a 200 here would turn an outage into a success for every client and
    cache. A missing or invalid code gets the 404 page, which is what a default backend owes a request
    for a host or path nobody serves. ``options`` are the middleware's, validated the same way.
    """

    def __init__(self, **options: Any) -> None:
        self.handler = ErrorHandler(**options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            # A websocket handshake that the app does not accept is refused by the server (403).
            return
        headers = request_headers(scope)
        if scope.get("path") == "/healthz" and "x-code" not in headers:
            # A proxy forwards the client's own path with X-Code, so only a request without one is a
            # probe; a visitor whose /healthz failed upstream still gets the error page.
            await _send(send, 200, list(_HEALTH_HEADERS), _HEALTH_BODY, scope.get("method"))
            return
        rendered = self.respond(scope.get("method", "GET"), scope.get("path", "/"), headers)
        raw = encode_headers(rendered.headers)
        await _send(send, rendered.status, raw, rendered.body, scope.get("method"))

    def respond(self, method: str, path: str, headers: dict[str, str]) -> RenderedError:
        """The page for one proxied request; sans-IO, so it can be tested and reused without a server."""
        status, extension = _NOT_FOUND, None
        match = _CODE_PATH.fullmatch(path)
        if match is not None:
            extension = match.group(2)
        code = headers.get("x-code", "").strip() or (match.group(1) if match else "")
        if code.isdigit() and int(code) in _SERVED:
            status = int(code)
        request_headers = dict(headers)
        # ingress-nginx passes the client's Accept as X-Format; an extension in the path is an explicit
        # choice by whoever configured the proxy and wins over both.
        x_format = headers.get("x-format", "").strip()
        if extension is not None:
            request_headers["accept"] = _FORMATS_BY_EXTENSION[extension].media_type
        elif x_format:
            request_headers["accept"] = x_format
        shown_path, query = path, ""
        original = headers.get("x-original-uri", "")
        if original.startswith("/"):
            shown_path, _, query = original.partition("?")
        request = RequestInfo(method=method, path=shown_path, query=query, headers=request_headers)
        request_id = self.handler.request_id(request_headers)
        context = {name: headers[name] for name in _INGRESS_CONTEXT if name in headers}
        # %r keeps a hostile header from writing fake lines into the log.
        logger.info(
            "served a %d page for %r (request ID %s)%s",
            status,
            shown_path,
            request_id,
            f" {context!r}" if context else "",
        )
        return self.handler.respond(status, request, request_id=request_id)


async def lifespan(receive: Receive, send: Send) -> None:
    """Acknowledge startup and shutdown: these apps hold no resources, but servers wait for the answer."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        else:  # "lifespan.shutdown", the only other event of the protocol
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _send(
    send: Send,
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    method: str | None,
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    # RFC 9110 Section 9.3.2: HEAD gets the GET's headers, Content-Length included, and no body.
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})


# -- starting a server ---------------------------------------------------------------------------


def listen(host: str, port: int) -> socket.socket:
    """A listening socket, bound here rather than by uvicorn so that a taken port is one clear line.

    uvicorn reports a failed bind by logging and exiting the process, which the command could neither
    word nor test; binding first also means the banner can name the real port when ``port`` is 0.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ServeError(f"cannot listen on {host!r}: unknown host ({exc})") from None
    sock = socket.socket(family, kind, proto)
    try:
        # Lets a restarted server bind while old connections sit in TIME_WAIT; on Linux it still
        # refuses a port that another socket is listening on.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(
                f"port {port} on {host} is already in use; stop what is running there or choose "
                "another port with --port"
            ) from None
        raise ServeError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def run_app(app: ASGIApp, *, host: str, port: int, banner: str) -> None:
    """Serve ``app`` with uvicorn until interrupted; ``banner`` is printed with ``{url}`` filled in.

    Raises :class:`ServeError` when uvicorn is not installed, the address cannot be bound or the server
    fails to start, so that the command can say so in one line.
    """
    try:
        import uvicorn
    except ImportError:
        raise ServeError(
            f"this command needs uvicorn, which is not installed: {INSTALL_HINT}"
        ) from None
    sock = listen(host, port)
    try:
        bound_host, bound_port = sock.getsockname()[:2]
        config = uvicorn.Config(
            app,
            host=bound_host,
            port=bound_port,
            lifespan="on",
            # No websockets library is loaded: none of these apps speaks the protocol.
            ws="none",
            log_level="info",
            server_header=False,
        )
        server = uvicorn.Server(config)
        print(banner.format(url=url_of(sock)), flush=True)
        # A failed startup exits the process in recent uvicorn versions and merely returns in older
        # ones; either way `started` tells, and the command turns it into one line.
        with contextlib.suppress(SystemExit):
            server.run(sockets=[sock])
    finally:
        sock.close()
    if not server.started:
        raise ServeError("the server did not start; the log above says why")
