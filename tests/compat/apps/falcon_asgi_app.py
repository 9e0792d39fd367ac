"""Falcon's ASGI app, as its tutorial writes resources; friendly errors wrap the app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import falcon
import falcon.asgi

from friendly_errors import FriendlyErrorsMiddleware


class Hello:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.media = {"message": "Hello World"}


class Unavailable:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        raise falcon.HTTPServiceUnavailable(
            description="Orders are paused for maintenance.", retry_after=120
        )

    # Falcon answers HEAD with 405 unless the resource has a responder for it.
    on_head = on_get


class Boom:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        raise RuntimeError("compat-secret-6d1f")


class Stream:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            for number in (1, 2, 3):
                if number > 1:
                    await asyncio.sleep(0.3)
                yield f"chunk-{number}\n".encode()

        resp.content_type = falcon.MEDIA_TEXT
        resp.stream = chunks()


class Echo:
    async def on_websocket(self, req: falcon.asgi.Request, ws: falcon.asgi.WebSocket) -> None:
        await ws.accept()
        while True:
            await ws.send_text(await ws.receive_text())


falcon_app = falcon.asgi.App(cors_enable=True)
falcon_app.add_route("/hello", Hello())
falcon_app.add_route("/unavailable", Unavailable())
falcon_app.add_route("/boom", Boom())
falcon_app.add_route("/stream", Stream())
falcon_app.add_route("/echo", Echo())

# Falcon's own middleware are resource hooks, not ASGI middleware: ours wraps the whole app.
app = FriendlyErrorsMiddleware(falcon_app, site_name="Example Shop")
