"""Pyramid, as its documentation writes a single-file app; friendly errors wrap the WSGI app."""

from __future__ import annotations

import time
from collections.abc import Iterator

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response

from friendly_errors import FriendlyErrorsWSGIMiddleware


def hello(request: Request) -> dict[str, str]:
    return {"message": "Hello World"}


def unavailable(request: Request) -> dict[str, str]:
    request.response.status_code = 503
    request.response.headers["Retry-After"] = "120"
    return {"message": "Orders are paused for maintenance."}


def boom(request: Request) -> Response:
    raise RuntimeError("compat-secret-6d1f")


def stream(request: Request) -> Response:
    def chunks() -> Iterator[bytes]:
        for number in (1, 2, 3):
            if number > 1:
                time.sleep(0.3)
            yield f"chunk-{number}\n".encode()

    return Response(app_iter=chunks(), content_type="text/plain")


with Configurator() as config:
    config.add_route("hello", "/hello")
    config.add_view(hello, route_name="hello", renderer="json")
    config.add_route("unavailable", "/unavailable")
    config.add_view(unavailable, route_name="unavailable", renderer="json")
    config.add_route("boom", "/boom")
    config.add_view(boom, route_name="boom")
    config.add_route("stream", "/stream")
    config.add_view(stream, route_name="stream")
    pyramid_app = config.make_wsgi_app()

# Pyramid's documented place for WSGI middleware: around the app that make_wsgi_app() returns.
app = FriendlyErrorsWSGIMiddleware(pyramid_app, site_name="Example Shop")
