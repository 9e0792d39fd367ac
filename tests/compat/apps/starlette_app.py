"""Starlette, as its documentation writes an app; friendly errors in the ``middleware`` list."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from friendly_errors import FriendlyErrorsMiddleware


async def hello(request: Request) -> Response:
    return JSONResponse({"message": "Hello World"})


async def unavailable(request: Request) -> Response:
    raise HTTPException(
        503, detail="Orders are paused for maintenance.", headers={"Retry-After": "120"}
    )


async def boom(request: Request) -> Response:
    raise RuntimeError("compat-secret-6d1f")


async def stream(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for number in (1, 2, 3):
            if number > 1:
                await asyncio.sleep(0.3)
            yield f"chunk-{number}\n".encode()

    return StreamingResponse(chunks(), media_type="text/plain")


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


routes = [
    Route("/hello", hello),
    Route("/unavailable", unavailable),
    Route("/boom", boom),
    Route("/stream", stream),
    WebSocketRoute("/echo", echo),
]

# The list runs outermost first: ours last, so CORS and GZip see its pages.
app = Starlette(
    routes=routes,
    middleware=[
        Middleware(CORSMiddleware, allow_origins=["https://app.example"]),
        Middleware(GZipMiddleware),
        Middleware(FriendlyErrorsMiddleware, site_name="Example Shop"),
    ],
)
