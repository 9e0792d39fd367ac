"""Make the server in this process serve "the same app without us", for byte-for-byte comparisons.

The compat tests start each app twice: as written, and with this directory on ``PYTHONPATH``, where
Python imports this module before anything else. It swaps both middlewares (and so the integration
helpers, which build them) for wrappers that only call the app, so the app module, its framework and
the server are exactly the same and only friendly_errors is gone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import friendly_errors
import friendly_errors.asgi
import friendly_errors.wsgi

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from friendly_errors._types import ASGIApp, Receive, Scope, Send


class PassThrough:
    """Takes the middleware's arguments, as frameworks pass them, and does nothing with them."""

    def __init__(self, app: ASGIApp, **options: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class WSGIPassThrough:
    def __init__(self, app: WSGIApplication, **options: Any) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self.app(environ, start_response)


SWAPS = (
    (friendly_errors, "FriendlyErrorsMiddleware", PassThrough),
    (friendly_errors.asgi, "FriendlyErrorsMiddleware", PassThrough),
    (friendly_errors, "FriendlyErrorsWSGIMiddleware", WSGIPassThrough),
    (friendly_errors.wsgi, "FriendlyErrorsWSGIMiddleware", WSGIPassThrough),
)
for module, name, replacement in SWAPS:
    setattr(module, name, replacement)
