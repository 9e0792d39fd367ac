"""BlackSheep, as its documentation writes an app; friendly errors wrap the app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from blacksheep import Application, Response, StreamedContent, WebSocket, get, head, json, ws
from blacksheep.server.websocket import WebSocketDisconnectError

from friendly_errors import FriendlyErrorsMiddleware

blacksheep_app = Application()
blacksheep_app.use_cors(allow_methods="GET", allow_origins="https://app.example")


@get("/hello")
async def hello() -> Response:
    return json({"message": "Hello World"})


# BlackSheep answers HEAD with 404 unless a route lists it.
@get("/unavailable")
@head("/unavailable")
async def unavailable() -> Response:
    response = json({"message": "Orders are paused for maintenance."}, status=503)
    response.add_header(b"Retry-After", b"120")
    return response


@get("/boom")
async def boom() -> Response:
    raise RuntimeError("compat-secret-6d1f")


@get("/stream")
async def stream() -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for number in (1, 2, 3):
            if number > 1:
                await asyncio.sleep(0.3)
            yield f"chunk-{number}\n".encode()

    return Response(200, content=StreamedContent(b"text/plain", chunks))


@ws("/echo")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnectError:
        pass


# BlackSheep's middlewares wrap request handlers, not the ASGI app: ours wraps the whole app.
app = FriendlyErrorsMiddleware(blacksheep_app, site_name="Example Shop")
