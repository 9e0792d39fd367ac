"""The apps the maintenance wire tests serve: uvicorn (ASGI) and gunicorn (WSGI), two workers each.

Both answer ``/seq/N`` with the path and the worker's PID, so a test can tell which request an answer
belongs to and which worker gave it. The maintenance file and which of the two ``app`` is come from the
environment (one middleware per process, so each worker logs each switch once), and our log lines
carry the PID, so a test can see every worker switch.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from friendly_errors import FriendlyErrorsMiddleware, FriendlyErrorsWSGIMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

# The PID says which worker switched, the time when (the test prints how long after the file).
logging.basicConfig(
    level=logging.INFO, format="LOG %(process)d %(name)s %(levelname)s %(message)s @%(created).3f"
)

MAINTENANCE_FILE = os.environ["FRIENDLY_ERRORS_TEST_MAINTENANCE_FILE"]


def _body(path: str) -> bytes:
    return f"app {path} pid {os.getpid()}".encode()


async def _asgi(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[Any]],
    send: Callable[[Any], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    body = _body(scope["path"])
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    body = _body(environ["PATH_INFO"])
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


app: Any
if os.environ["FRIENDLY_ERRORS_TEST_KIND"] == "asgi":
    app = FriendlyErrorsMiddleware(_asgi, maintenance_file=MAINTENANCE_FILE)
else:
    app = FriendlyErrorsWSGIMiddleware(_wsgi, maintenance_file=MAINTENANCE_FILE)
