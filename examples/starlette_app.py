"""Starlette behind FriendlyErrorsMiddleware: every 5xx becomes a friendly, negotiated error.

Run from the repository root with either of::

    uvicorn examples.starlette_app:app
    python examples/starlette_app.py

then open http://127.0.0.1:8000/ and follow the links, or ask for JSON::

    curl -i -H 'Accept: application/json' http://127.0.0.1:8000/maintenance

Set FRIENDLY_ERRORS_DEBUG=1 to see tracebacks on the pages: debug is chosen when the app starts,
never by anything in a request.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from friendly_errors.asgi import FriendlyErrorsMiddleware
from friendly_errors.catalogue import Catalogue
from friendly_errors.core import ErrorEvent

HERE = Path(__file__).resolve().parent
log = logging.getLogger("examples.starlette")


def notify(event: ErrorEvent) -> None:
    """The on_error hook (a plain function works as well as a coroutine function)."""
    log.warning(
        "error page %s served for %s (request ID %s)",
        event.status,
        event.request.path,
        event.request_id,
    )


INDEX = """<!doctype html><html lang="en"><meta charset="utf-8"><title>friendly_errors + Starlette</title>
<h1>friendly_errors + Starlette</h1><ul>
<li><a href="/bad-gateway">502 Bad Gateway</a></li>
<li><a href="/maintenance">503 Service Unavailable, with Retry-After</a></li>
<li><a href="/gateway-timeout">504 Gateway Timeout</a></li>
<li><a href="/slow-report">524 A Timeout Occurred (custom template and catalogue text)</a></li>
<li><a href="/report-engine">590 Report Engine Offline (a code from catalogue.toml)</a></li>
<li><a href="/crash">an unhandled exception</a></li>
</ul></html>"""


async def index(request: Request) -> Response:
    return HTMLResponse(INDEX)


async def bad_gateway(request: Request) -> Response:
    return PlainTextResponse("upstream sent garbage", status_code=502)


async def maintenance(request: Request) -> Response:
    raise HTTPException(
        503, detail="Down for maintenance until 14:00 UTC.", headers={"Retry-After": "120"}
    )


async def gateway_timeout(request: Request) -> Response:
    return Response(status_code=504)


async def slow_report(request: Request) -> Response:
    return Response(status_code=524)


async def report_engine(request: Request) -> Response:
    return JSONResponse({"detail": "The report engine is being upgraded."}, status_code=590)


async def crash(request: Request) -> Response:
    raise RuntimeError("the example crashed on purpose")


app = Starlette(
    routes=[
        Route("/", index),
        Route("/bad-gateway", bad_gateway),
        Route("/maintenance", maintenance),
        Route("/gateway-timeout", gateway_timeout),
        Route("/slow-report", slow_report),
        Route("/report-engine", report_engine),
        Route("/crash", crash),
    ],
    # Outermost first: CORS and GZip wrap our pages (see docs/asgi.md, "Middleware order").
    middleware=[
        Middleware(CORSMiddleware, allow_origins=["http://localhost:3000"]),
        Middleware(GZipMiddleware, minimum_size=500),
        Middleware(
            FriendlyErrorsMiddleware,
            catalogue=Catalogue.default().extend(HERE / "catalogue.toml"),
            template_dirs=[HERE / "templates"],
            site_name="Example Shop",
            home_url="/",
            debug=os.environ.get("FRIENDLY_ERRORS_DEBUG") == "1",
            on_error=notify,
        ),
    ],
)


if __name__ == "__main__":
    import uvicorn

    logging.basicConfig(level=logging.INFO)
    uvicorn.run(app, host="127.0.0.1", port=8000)
