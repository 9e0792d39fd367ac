"""The app the ASGI wire tests serve through uvicorn and hypercorn.

Built the way a user would build it: Starlette with the middleware list, ours outermost and a GZip
middleware inside it, so a compressed 503 has to be replaced on its way out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from friendly_errors.asgi import FriendlyErrorsMiddleware

# The tests count log lines in the server's output, so ours must reach it in a known shape.
logging.basicConfig(level=logging.INFO, format="LOG %(name)s %(levelname)s %(message)s")


async def ok(request: Request) -> Response:
    return PlainTextResponse("hello")


async def unavailable(request: Request) -> Response:
    return JSONResponse({"detail": "Down for maintenance"}, 503, headers={"Retry-After": "30"})


async def big_unavailable(request: Request) -> Response:
    # Big enough for GZipMiddleware to compress it when the client accepts gzip.
    return PlainTextResponse("the database is unreachable\n" * 1000, 503)


async def boom(request: Request) -> Response:
    raise RuntimeError("wire-boom")


async def stream_then_fail(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"first-chunk"
        raise RuntimeError("wire-midway")

    return StreamingResponse(chunks(), media_type="text/plain")


async def slow_stream(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"first-chunk"
        await asyncio.sleep(float(request.query_params.get("pause", "1")))
        yield b"second-chunk"

    return StreamingResponse(chunks(), media_type="text/plain")


app = Starlette(
    routes=[
        Route("/ok", ok, methods=["GET", "HEAD"]),
        Route("/503", unavailable, methods=["GET", "HEAD"]),
        Route("/big-503", big_unavailable),
        Route("/boom", boom),
        Route("/stream-then-fail", stream_then_fail),
        Route("/slow-stream", slow_stream),
    ],
    middleware=[
        Middleware(FriendlyErrorsMiddleware),
        Middleware(GZipMiddleware, minimum_size=100),
    ],
)
