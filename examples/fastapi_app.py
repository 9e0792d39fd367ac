"""FastAPI behind FriendlyErrorsMiddleware: every 5xx becomes a friendly, negotiated error.

Run from the repository root with either of::

    uvicorn examples.fastapi_app:app
    python examples/fastapi_app.py

then open http://127.0.0.1:8000/ and follow the links, or ask for JSON::

    curl -i -H 'Accept: application/json' http://127.0.0.1:8000/maintenance

Set FRIENDLY_ERRORS_DEBUG=1 to see tracebacks on the pages: debug is chosen when the app starts,
never by anything in a request.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from friendly_errors.asgi import FriendlyErrorsMiddleware
from friendly_errors.catalogue import Catalogue
from friendly_errors.core import ErrorEvent

HERE = Path(__file__).resolve().parent
log = logging.getLogger("examples.fastapi")

app = FastAPI(title="friendly_errors FastAPI example")


async def notify(event: ErrorEvent) -> None:
    """The on_error hook: one call per replaced response, with the ID the visitor was shown."""
    log.warning(
        "error page %s served for %s (request ID %s)",
        event.status,
        event.request.path,
        event.request_id,
    )


# Added first, so it sits innermost of the three: GZip then compresses our pages, and CORS headers
# reach them too, even when a route raises (see docs/asgi.md, "Middleware order").
app.add_middleware(
    FriendlyErrorsMiddleware,
    catalogue=Catalogue.default().extend(HERE / "catalogue.toml"),
    template_dirs=[HERE / "templates"],
    site_name="Example Shop",
    home_url="/",
    debug=os.environ.get("FRIENDLY_ERRORS_DEBUG") == "1",
    on_error=notify,
)
app.add_middleware(GZipMiddleware, minimum_size=500)
app.add_middleware(CORSMiddleware, allow_origins=["http://localhost:3000"])

INDEX = """<!doctype html><html lang="en"><meta charset="utf-8"><title>friendly_errors + FastAPI</title>
<h1>friendly_errors + FastAPI</h1><ul>
<li><a href="/bad-gateway">502 Bad Gateway</a></li>
<li><a href="/maintenance">503 Service Unavailable, with Retry-After</a></li>
<li><a href="/gateway-timeout">504 Gateway Timeout</a></li>
<li><a href="/slow-report">524 A Timeout Occurred (custom template and catalogue text)</a></li>
<li><a href="/report-engine">590 Report Engine Offline (a code from catalogue.toml)</a></li>
<li><a href="/crash">an unhandled exception</a></li>
<li><a href="/api/items">a JSON API that is down</a></li>
</ul></html>"""


@app.get("/", response_class=HTMLResponse)
def index() -> str:
    return INDEX


@app.get("/bad-gateway")
def bad_gateway() -> Response:
    return PlainTextResponse("upstream sent garbage", status_code=502)


@app.get("/maintenance")
def maintenance() -> None:
    # The detail becomes the problem's detail; the app's Retry-After wins over the catalogue's hint.
    raise HTTPException(
        503, detail="Down for maintenance until 14:00 UTC.", headers={"Retry-After": "120"}
    )


@app.get("/gateway-timeout")
def gateway_timeout() -> Response:
    return Response(status_code=504)


@app.get("/slow-report")
def slow_report() -> Response:
    return Response(status_code=524)


@app.get("/report-engine")
def report_engine() -> Response:
    return JSONResponse({"detail": "The report engine is being upgraded."}, status_code=590)


@app.get("/crash")
def crash() -> None:
    raise RuntimeError("the example crashed on purpose")


@app.get("/api/items")
def items() -> Response:
    return JSONResponse({"error": "The inventory database is unreachable."}, status_code=503)


if __name__ == "__main__":
    import uvicorn

    logging.basicConfig(level=logging.INFO)
    uvicorn.run(app, host="127.0.0.1", port=8000)
