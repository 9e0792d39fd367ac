"""Quart, as its documentation writes an app; friendly errors wrap ``app.asgi_app``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from quart import Quart, websocket

from friendly_errors import FriendlyErrorsMiddleware

app = Quart(__name__)


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"message": "Hello World"}


@app.get("/unavailable")
async def unavailable() -> tuple[dict[str, str], int, dict[str, str]]:
    return {"message": "Orders are paused for maintenance."}, 503, {"Retry-After": "120"}


@app.get("/boom")
async def boom() -> str:
    raise RuntimeError("compat-secret-6d1f")


@app.get("/stream")
async def stream() -> tuple[AsyncIterator[bytes], int, dict[str, str]]:
    async def chunks() -> AsyncIterator[bytes]:
        for number in (1, 2, 3):
            if number > 1:
                await asyncio.sleep(0.3)
            yield f"chunk-{number}\n".encode()

    return chunks(), 200, {"Content-Type": "text/plain"}


@app.websocket("/echo")
async def echo() -> None:
    while True:
        await websocket.send(await websocket.receive())


# Quart's documented place for ASGI middleware, as app.wsgi_app is Flask's.
app.asgi_app = FriendlyErrorsMiddleware(app.asgi_app, site_name="Example Shop")  # type: ignore[method-assign]
