"""FastAPI, as its tutorial writes an app; friendly errors added with ``add_middleware``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import FastAPI, HTTPException, WebSocket, WebSocketDisconnect
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import StreamingResponse

from friendly_errors import FriendlyErrorsMiddleware

app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"message": "Hello World"}


# FastAPI answers HEAD with 405 unless the route lists it.
@app.api_route("/unavailable", methods=["GET", "HEAD"])
async def unavailable() -> None:
    raise HTTPException(
        503, detail="Orders are paused for maintenance.", headers={"Retry-After": "120"}
    )


@app.get("/boom")
async def boom() -> None:
    raise RuntimeError("compat-secret-6d1f")


@app.get("/stream")
async def stream() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for number in (1, 2, 3):
            if number > 1:
                await asyncio.sleep(0.3)
            yield f"chunk-{number}\n".encode()

    return StreamingResponse(chunks(), media_type="text/plain")


@app.websocket("/echo")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


# The last one added is the outermost: ours first, so CORS and GZip see its pages.
app.add_middleware(FriendlyErrorsMiddleware, site_name="Example Shop")
app.add_middleware(GZipMiddleware)
app.add_middleware(CORSMiddleware, allow_origins=["https://app.example"])
