"""The app the WSGI wire tests serve through gunicorn and waitress.

A raw PEP 3333 callable, so each route controls exactly when it calls start_response and what it
yields: the framing the servers produce is then down to the middleware alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from friendly_errors.wsgi import FriendlyErrorsWSGIMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

# The tests count log lines in the server's output, so ours must reach it in a known shape.
logging.basicConfig(level=logging.INFO, format="LOG %(name)s %(levelname)s %(message)s")

TEXT = [("Content-Type", "text/plain; charset=utf-8")]


def _routes(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    if path == "/ok":
        start_response("200 OK", [*TEXT, ("Content-Length", "5")])
        return [b"hello"]
    if path == "/503":
        body = b"Down for maintenance"
        start_response(
            "503 SERVICE UNAVAILABLE",
            [*TEXT, ("Retry-After", "30"), ("Content-Length", str(len(body)))],
        )
        return [body]
    if path == "/late-502":
        return _late_502(start_response)
    if path in ("/503-html", "/503-quiet-head"):
        # Like Werkzeug and Falcon: the GET's headers for HEAD, and no body.
        html = path == "/503-html"
        body = b"<p>busy</p>" if html else b"Back at ten"
        start_response(
            "503 Service Unavailable",
            [
                ("Content-Type", "text/html" if html else "text/plain"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]
    if path == "/boom":
        raise RuntimeError("wire-boom")
    if path == "/stream-then-fail":
        start_response("200 OK", TEXT)
        return _then_fail()
    if path == "/late-stream-then-fail":
        return _late_then_fail(start_response)
    if path == "/slow-stream":
        start_response("200 OK", TEXT)
        return _slow()
    start_response("404 Not Found", [*TEXT, ("Content-Length", "9")])
    return [b"not found"]


def _late_502(start_response: StartResponse) -> Iterator[bytes]:
    start_response("502 Bad Gateway", TEXT)
    yield b"upstream sent garbage " * 1000


def _then_fail() -> Iterator[bytes]:
    yield b"first-chunk"
    raise RuntimeError("wire-midway")


def _late_then_fail(start_response: StartResponse) -> Iterator[bytes]:
    start_response("200 OK", TEXT)
    yield b"first-chunk"
    raise RuntimeError("wire-late-midway")


def _slow() -> Iterator[bytes]:
    yield b"first-chunk"
    time.sleep(2)
    yield b"second-chunk"


app = FriendlyErrorsWSGIMiddleware(_routes)
