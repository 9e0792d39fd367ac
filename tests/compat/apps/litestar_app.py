"""Litestar, as its documentation writes an app; friendly errors wrap the whole app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, WebSocket, get, route, websocket
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.exceptions import ServiceUnavailableException, WebSocketDisconnect
from litestar.response import Stream

from friendly_errors import FriendlyErrorsMiddleware


@get("/hello")
async def hello() -> dict[str, str]:
    return {"message": "Hello World"}


# Litestar answers HEAD with 405 unless the route lists it.
@route("/unavailable", http_method=["GET", "HEAD"])
async def unavailable() -> None:
    raise ServiceUnavailableException(
        detail="Orders are paused for maintenance.", headers={"Retry-After": "120"}
    )


@get("/boom")
async def boom() -> None:
    raise RuntimeError("compat-secret-6d1f")


@get("/stream")
async def stream() -> Stream:
    async def chunks() -> AsyncIterator[bytes]:
        for number in (1, 2, 3):
            if number > 1:
                await asyncio.sleep(0.3)
            yield f"chunk-{number}\n".encode()

    return Stream(chunks(), media_type="text/plain")


@websocket("/echo")
async def echo(socket: WebSocket[Any, Any, State]) -> None:
    await socket.accept()
    try:
        while True:
            await socket.send_text(await socket.receive_text())
    except WebSocketDisconnect:
        pass


route_handlers = [hello, unavailable, boom, stream, echo]

litestar_app = Litestar(
    route_handlers=route_handlers,
    cors_config=CORSConfig(allow_origins=["https://app.example"]),
    compression_config=CompressionConfig(backend="gzip"),
)
# Outside Litestar, ours also sees the 404s and 405s of its router; its CORS and compression
# run inside ours. litestar_middleware_app puts ours in the middleware list instead.
app = FriendlyErrorsMiddleware(litestar_app, site_name="Example Shop")
