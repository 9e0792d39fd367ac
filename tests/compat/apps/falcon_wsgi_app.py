"""Falcon's WSGI app, as its tutorial writes resources; friendly errors wrap the app."""

from __future__ import annotations

import time
from collections.abc import Iterator

import falcon

from friendly_errors import FriendlyErrorsWSGIMiddleware


class Hello:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"message": "Hello World"}


class Unavailable:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        raise falcon.HTTPServiceUnavailable(
            description="Orders are paused for maintenance.", retry_after=120
        )

    # Falcon answers HEAD with 405 unless the resource has a responder for it.
    on_head = on_get


class Boom:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        raise RuntimeError("compat-secret-6d1f")


class Stream:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        def chunks() -> Iterator[bytes]:
            for number in (1, 2, 3):
                if number > 1:
                    time.sleep(0.3)
                yield f"chunk-{number}\n".encode()

        resp.content_type = falcon.MEDIA_TEXT
        resp.stream = chunks()


falcon_app = falcon.App(cors_enable=True)
falcon_app.add_route("/hello", Hello())
falcon_app.add_route("/unavailable", Unavailable())
falcon_app.add_route("/boom", Boom())
falcon_app.add_route("/stream", Stream())

# Falcon's own middleware are resource hooks, not WSGI middleware: ours wraps the whole app.
app = FriendlyErrorsWSGIMiddleware(falcon_app, site_name="Example Shop")
