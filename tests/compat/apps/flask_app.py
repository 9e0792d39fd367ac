"""Flask, as its quickstart writes an app; friendly errors wrap ``app.wsgi_app``."""

from __future__ import annotations

import time
from collections.abc import Iterator

from flask import Flask

from friendly_errors import FriendlyErrorsWSGIMiddleware

app = Flask(__name__)


@app.get("/hello")
def hello() -> dict[str, str]:
    return {"message": "Hello World"}


@app.get("/unavailable")
def unavailable() -> tuple[dict[str, str], int, dict[str, str]]:
    return {"message": "Orders are paused for maintenance."}, 503, {"Retry-After": "120"}


@app.get("/boom")
def boom() -> str:
    raise RuntimeError("compat-secret-6d1f")


@app.get("/stream")
def stream() -> tuple[Iterator[bytes], int, dict[str, str]]:
    def chunks() -> Iterator[bytes]:
        for number in (1, 2, 3):
            if number > 1:
                time.sleep(0.3)
            yield f"chunk-{number}\n".encode()

    return chunks(), 200, {"Content-Type": "text/plain"}


# Flask's documented place for WSGI middleware; `app` stays the Flask object.
app.wsgi_app = FriendlyErrorsWSGIMiddleware(app.wsgi_app, site_name="Example Shop")  # type: ignore[method-assign]
