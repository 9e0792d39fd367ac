"""Bottle, as its tutorial writes an app; friendly errors wrap the app."""

from __future__ import annotations

import time
from collections.abc import Iterator

import bottle

from friendly_errors import FriendlyErrorsWSGIMiddleware

bottle_app = bottle.Bottle()


@bottle_app.get("/hello")
def hello() -> dict[str, str]:
    return {"message": "Hello World"}


@bottle_app.get("/unavailable")
def unavailable() -> dict[str, str]:
    bottle.response.status = 503
    bottle.response.set_header("Retry-After", "120")
    return {"message": "Orders are paused for maintenance."}


@bottle_app.get("/boom")
def boom() -> str:
    raise RuntimeError("compat-secret-6d1f")


@bottle_app.get("/stream")
def stream() -> Iterator[bytes]:
    bottle.response.content_type = "text/plain"
    for number in (1, 2, 3):
        if number > 1:
            time.sleep(0.3)
        yield f"chunk-{number}\n".encode()


# Bottle's documented way to add WSGI middleware: wrap the app object.
app = FriendlyErrorsWSGIMiddleware(bottle_app, site_name="Example Shop")
