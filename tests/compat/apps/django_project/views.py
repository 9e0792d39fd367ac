"""The views; the same functions serve WSGI and ASGI."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

from django.core.handlers.asgi import ASGIRequest
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)


def hello(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"message": "Hello World"})


def unavailable(request: HttpRequest) -> HttpResponse:
    return JsonResponse(
        {"error": "Orders are paused for maintenance."}, status=503, headers={"Retry-After": "120"}
    )


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("compat-secret-6d1f")


def stream(request: HttpRequest) -> HttpResponseBase:
    # Django streams an async iterator under ASGI and a sync one under WSGI; given the other
    # kind, it reads the whole iterator first and warns.
    if isinstance(request, ASGIRequest):
        return StreamingHttpResponse(async_chunks(), content_type="text/plain")
    return StreamingHttpResponse(sync_chunks(), content_type="text/plain")


def sync_chunks() -> Iterator[bytes]:
    for number in (1, 2, 3):
        if number > 1:
            time.sleep(0.3)
        yield f"chunk-{number}\n".encode()


async def async_chunks() -> AsyncIterator[bytes]:
    for number in (1, 2, 3):
        if number > 1:
            await asyncio.sleep(0.3)
        yield f"chunk-{number}\n".encode()
