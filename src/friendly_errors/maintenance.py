"""Planned downtime: what a request gets while maintenance is on (#13).

Sans-IO, like the rest of the core: both middlewares read :attr:`Maintenance.switch`'s ``state`` at
the top of every HTTP request, and only when it is not None ask :meth:`Maintenance.reply` what to
send. A request is let through to the app when its path is in ``allow_paths`` or its browser holds
a valid bypass cookie; a request to ``/{secret}`` gets that cookie and a redirect home; every other
request gets the maintenance page, a 503 with ``Retry-After`` in the format it negotiates.

The state comes from a :class:`MaintenanceSource`, polled by a thread (see ``_switch``); the
built-in one is :class:`MaintenanceFile`, written by ``friendly-errors down``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Final

from friendly_errors import _bypass
from friendly_errors._sources import (
    FIELDS,
    MaintenanceFile,
    MaintenanceSource,
    MaintenanceState,
    parse_time,
)
from friendly_errors._switch import Switch
from friendly_errors.rendering import RequestInfo

if TYPE_CHECKING:
    from friendly_errors.core import ErrorHandler

__all__ = [
    "FIELDS",
    "Maintenance",
    "MaintenanceFile",
    "MaintenanceSource",
    "MaintenanceState",
    "Reply",
    "parse_time",
]

#: ``Retry-After`` when the operator gave no time and the catalogue's 503 entry gives no hint.
DEFAULT_RETRY_AFTER: Final = 120
#: The close code a websocket gets during maintenance: "Try Again Later" in the registry of
#: RFC 6455 Section 11.7.
WEBSOCKET_TRY_AGAIN_LATER: Final = 1013
WEBSOCKET_REASON: Final = "Down for maintenance"


@dataclass(frozen=True)
class Reply:
    """A whole response to send as it is: the maintenance page, or the bypass redirect."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    #: The request ID the page shows (None for the redirect): the glue marks the request answered
    #: with it, so an instance of the middleware further out passes the page on untouched.
    request_id: str | None = None


class Maintenance:
    """The maintenance mode of one middleware: its source's state and what a request gets."""

    def __init__(
        self, source: MaintenanceSource, *, handler: ErrorHandler, bypass_max_age: int
    ) -> None:
        self.handler = handler
        self.bypass_max_age = bypass_max_age
        retry_hint = handler.catalogue.get(503).retry_after
        self.default_retry_after = DEFAULT_RETRY_AFTER if retry_hint is None else retry_hint
        #: Read by every request: ``switch.state`` is None while the site is open.
        self.switch = Switch(source)

    def reply(
        self,
        state: MaintenanceState,
        request: RequestInfo,
        *,
        secure: bool,
        now: float | None = None,
    ) -> Reply | None:
        """What ``request`` gets while maintenance is on; None lets it through to the app.

        ``secure``: the request came over https, so the bypass cookie is marked ``Secure``.
        """
        if now is None:
            now = time.time()
        if allowed(state.allow_paths, request.path):
            return None
        if state.secret is not None:
            if _bypass.is_secret_path(request.path, state.secret):
                return self._bypass(state.secret, now, secure)
            if _bypass.admitted(state.secret, request.headers.get("cookie"), now):
                return None
        return self._page(state, request, now)

    def admits(
        self,
        state: MaintenanceState,
        path: str,
        headers: Mapping[str, str],
        *,
        now: float | None = None,
    ) -> bool:
        """Whether a connection that cannot be shown a page (a websocket) may reach the app."""
        if now is None:
            now = time.time()
        if allowed(state.allow_paths, path):
            return True
        return state.secret is not None and _bypass.admitted(
            state.secret, headers.get("cookie"), now
        )

    def _bypass(self, secret: str, now: float, secure: bool) -> Reply:
        """302 to the home page with the cookie; no body, no caching, no Referer with the secret."""
        cookie = _bypass.set_cookie(secret, now=now, max_age=self.bypass_max_age, secure=secure)
        headers = [
            ("Location", "/"),
            ("Set-Cookie", cookie),
            ("Cache-Control", "no-store"),
            ("Referrer-Policy", "no-referrer"),
            ("Content-Length", "0"),
        ]
        return Reply(302, headers, b"")

    def _page(self, state: MaintenanceState, request: RequestInfo, now: float) -> Reply:
        """The 503 page, with the headers of every error page plus ``Retry-After``."""
        handler = self.handler
        current = datetime.fromtimestamp(now, timezone.utc)
        seconds, until = state.timing(current)
        retry_after = self.default_retry_after if seconds is None else seconds
        request_id = handler.request_id(request.headers)
        rendered = handler.renderer.render_maintenance(
            request,
            request_id=request_id,
            message=state.message,
            retry_after=retry_after,
            until=until,
            now=current,
        )
        headers = rendered.headers
        headers.append(("Retry-After", str(retry_after)))
        if handler.request_id_response_header:
            headers.append((handler.request_id_response_header, request_id))
        return Reply(503, headers, rendered.body, request_id)


def allowed(allow_paths: Sequence[str], path: str) -> bool:
    """Whether ``path`` is let through: an entry itself or below it, or after a prefix ending in ``*``.

    A path with ``.`` or ``..`` segments is never let through: ``/health/../admin`` is not under
    ``/health`` for an app that resolves it.
    """
    if not allow_paths:
        return False
    if "/." in path and any(segment in (".", "..") for segment in path.split("/")):
        return False
    for entry in allow_paths:
        if entry.endswith("*"):
            if path.startswith(entry[:-1]):
                return True
        elif path == entry or path.startswith(entry.rstrip("/") + "/"):
            return True
    return False
