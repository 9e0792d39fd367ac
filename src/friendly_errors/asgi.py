"""Pure ASGI 3 glue between an application and the shared error core.

Nothing here decides what an error page says or which headers survive; :mod:`friendly_errors.core`
does. This module only watches the messages an app sends, holds back the start of a response that will
be replaced, and moves bytes. Starlette is never imported, so the middleware wraps any ASGI app.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any, Final, Literal, TypedDict

from friendly_errors._types import AnyReceive, AnyScope, ASGIApp, Message, Receive, Scope, Send
from friendly_errors.core import ANSWERED_KEY, DetailCollector, ErrorHandler
from friendly_errors.maintenance import (
    WEBSOCKET_REASON,
    WEBSOCKET_TRY_AGAIN_LATER,
    Maintenance,
    MaintenanceState,
)
from friendly_errors.rendering import RenderedError, RequestInfo

__all__ = ["FriendlyErrorsMiddleware"]

logger = logging.getLogger("friendly_errors")


class _ResponseStart(TypedDict):
    type: Literal["http.response.start"]
    status: int
    headers: list[tuple[bytes, bytes]]


class _ResponseBody(TypedDict):
    type: Literal["http.response.body"]
    body: bytes
    more_body: bool


class _WebSocketAccept(TypedDict):
    type: Literal["websocket.accept"]


class _WebSocketClose(TypedDict):
    type: Literal["websocket.close"]
    code: int
    reason: str


# Where a response stands once it left the fast path (_Responder.passing says it is on it).
_WAITING: Final = "waiting"  # nothing sent yet
_HOLDING: Final = "holding"  # the app's start is held back while its body is drained
_HELD: Final = "held"  # a replaced 500 is complete; its page waits for the app to return or raise
_REPLACED: Final = "replaced"  # our page went out; whatever the app sends now is dropped


class FriendlyErrorsMiddleware:
    """Replace error responses and unhandled exceptions with a negotiated friendly error.

    ``options`` are forwarded to :class:`~friendly_errors.core.ErrorHandler` and validated here, so a
    misspelt or ill-typed option stops the app at start-up instead of at its first error.
    """

    # ``app`` is positional-only for type checkers, which accept the class where Starlette's
    # ``add_middleware`` expects a factory only then; Litestar builds middleware as
    # ``cls(app=app, **kwargs)``, so it is taken by keyword as well (#11). No option is named app.
    def __init__(self, app: ASGIApp | None = None, /, **options: Any) -> None:
        if app is None:
            if "app" not in options:
                raise TypeError("FriendlyErrorsMiddleware needs the ASGI app to wrap")
            app = options.pop("app")
        self.app: ASGIApp = app
        self.handler = ErrorHandler(**options)
        self.maintenance: Maintenance | None = self.handler.maintenance
        # The one thing every request reads when maintenance is configured (#13).
        self._switch = None if self.maintenance is None else self.maintenance.switch

    async def __call__(self, scope: AnyScope, receive: AnyReceive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket" and self._switch is not None:
                state = self._switch.state
                if state is not None and await self._refused(state, scope, receive, send):
                    return
            # Lifespan traffic, and websockets but during maintenance, are none of our business.
            await self.app(scope, receive, send)
            return
        switch = self._switch
        if switch is not None:
            state = switch.state
            if state is not None and await self._closed(state, scope, send):
                return
        responder = _Responder(self.handler, scope, receive, send)
        try:
            await self.app(scope, responder.receive, responder.send)
        except Exception as exc:
            if await responder.failed(exc):
                raise
        else:
            if not responder.passing:
                await responder.returned()

    async def _closed(self, state: MaintenanceState, scope: Scope, send: Send) -> bool:
        """Answer for the maintenance mode when it does not let the request through (#13)."""
        assert self.maintenance is not None
        secure = scope.get("scheme") == "https"
        reply = self.maintenance.reply(state, request_info(scope), secure=secure)
        if reply is None:
            return False
        if reply.request_id is not None:
            scope[ANSWERED_KEY] = reply.request_id
        try:
            await send_response(send, reply.status, reply.headers, reply.body)
        except OSError:
            logger.debug("Client went away before the maintenance page")
        return True

    async def _refused(
        self, state: MaintenanceState, scope: Scope, receive: Receive, send: Send
    ) -> bool:
        """Close a websocket with 1013, Try Again Later, unless maintenance lets it through.

        Accepted first: a close before the accept reaches the client as a bare HTTP 403, which
        says nothing about coming back (ASGI websocket spec, "Close - send event").
        """
        assert self.maintenance is not None
        if self.maintenance.admits(state, scope["path"], request_headers(scope)):
            return False
        message = await receive()
        if message["type"] == "websocket.connect":
            accept: _WebSocketAccept = {"type": "websocket.accept"}
            close: _WebSocketClose = {
                "type": "websocket.close",
                "code": WEBSOCKET_TRY_AGAIN_LATER,
                "reason": WEBSOCKET_REASON,
            }
            await send(accept)
            await send(close)
        return True


class _Responder:
    """One request's state; the middleware instance stays free of per-request state.

    ``send`` and ``receive`` return the server's own awaitables once a response passes through, so a
    normal response costs one comparison per message and no coroutine frame of ours.
    """

    # What only the slow path reads, as class defaults: a passed-through request pays for the six
    # attributes set in __init__ and no more.
    #: The client hung up: the app received ``http.disconnect`` or a send of ours failed.
    disconnected = False
    #: The status of the response being replaced, its headers as text and what its body says.
    held = 0
    held_headers: tuple[tuple[str, str], ...] = ()
    collector: DetailCollector | None = None

    def __init__(self, handler: ErrorHandler, scope: Scope, receive: Receive, send: Send) -> None:
        self.handler = handler
        self.scope = scope
        self.server_receive = receive
        self.server_send = send
        #: The app's own response goes to the server; we are out of the way. A flag beside the
        #: state, since it is the one question every message asks.
        self.passing = False
        self.state = _WAITING

    # -- what the app calls ---------------------------------------------------------------------

    def send(self, message: Message) -> Awaitable[None]:
        if self.passing:
            return self.server_send(message)
        if (
            message["type"] == "http.response.start"
            and self.state is _WAITING
            and message["status"] not in self.handler.intercept
        ):
            # The one decision a normal response pays for: a set lookup on the start message.
            self.passing = True
            return self.server_send(message)
        return self._slow_send(message)

    def receive(self) -> Awaitable[Message]:
        if self.passing:
            return self.server_receive()
        return self._watch_receive()

    async def _watch_receive(self) -> Message:
        message = await self.server_receive()
        if message["type"] == "http.disconnect":
            self.disconnected = True
        return message

    # -- the slow path --------------------------------------------------------------------------

    async def _slow_send(self, message: Message) -> None:
        if self.state is _HOLDING:
            self._drain(message)
            if not message.get("more_body", False) and self.held != 500:
                # The last body message (or a ``pathsend``, which ends a body by itself).
                await self._replace(self.held)
        elif self.state is _WAITING and message["type"] == "http.response.start":
            await self._start(message)
        elif self.state is _WAITING:
            # Anything sent before the start (``http.response.debug`` from Starlette's TestClient,
            # say) is forwarded untouched.
            try:
                await self.server_send(message)
            except OSError:
                # The server fails a send only when the client has gone; the app's reaction to that
                # must not turn into a 500 for nobody.
                self.disconnected = True
                raise
        # _HELD and _REPLACED: the replaced response's late chunks and trailers go nowhere.

    async def _start(self, message: Message) -> None:
        status = message["status"]
        headers = _decode(message.get("headers", ()))
        if ANSWERED_KEY in self.scope or self.handler.leaves_alone(headers):
            # Our own page from an instance further in, or an app that formatted its own error.
            self.passing = True
            await self.server_send(message)
            return
        code = self.handler.status_code(status)
        if code is None:
            # A bad status (503.0, "503") is the app's bug: a 500 page, with nothing of its own.
            code = self.handler.bad_status(status)
            headers = []
        self.state = _HOLDING
        self.held = code
        self.held_headers = tuple(headers)
        self.collector = self.handler.collector(code, self.held_headers)

    def _drain(self, message: Message) -> None:
        """Keep a few KB of the body being replaced and drop the rest, whatever its size.

        A complete 500 is held until the app returns or raises: a framework's own error handler
        inside (Starlette's ServerErrorMiddleware) sends one and then re-raises the exception,
        which the page should show in debug and the hook should hear of (#11).
        """
        assert self.collector is not None
        if message["type"] == "http.response.body":
            self.collector.feed(message.get("body", b""))
        if self.held == 500 and not message.get("more_body", False):
            self.state = _HELD

    # -- endings --------------------------------------------------------------------------------

    async def failed(self, exc: Exception) -> bool:
        """Answer the app's exception if nothing reached the server yet; whether to re-raise it.

        The exception goes on after our page, as with Starlette's ServerErrorMiddleware: the server
        logs it, error trackers and tracing wrapped around the app record it, and a test client
        raises it in the test (docs/asgi.md, "Exceptions"). Only a client that went away ends it
        here: nobody is listening, and a client hanging up is not a server error.
        """
        if self.passing or self.state is _REPLACED:
            # The server has a start line already: only it can signal the failure, by cutting the
            # connection short.
            return True
        if self.disconnected:
            logger.debug("Client went away while the app was failing", exc_info=exc)
            return False
        if not self.handler.intercepts(500):
            return True
        await self._replace(500, exception=exc, reraised=True)
        return True

    async def returned(self) -> None:
        """The app returned with its response held, unfinished or never started."""
        if self.state is _HOLDING or self.state is _HELD:
            await self._replace(self.held)
        elif self.state is _WAITING and not self.disconnected and self.handler.intercepts(500):
            problem = RuntimeError("The ASGI app returned without starting a response")
            await self._replace(500, exception=problem)

    async def _replace(
        self, status: int, *, exception: Exception | None = None, reraised: bool = False
    ) -> None:
        """Send the friendly response for ``status``.

        Only the held response lends its headers and detail, and only when no exception came: a
        500 raised while it was draining is a different response.
        """
        handler = self.handler
        held = exception is None and self.collector is not None
        self.state = _REPLACED
        request = request_info(self.scope)
        request_id = handler.request_id(request.headers)
        self.scope[ANSWERED_KEY] = request_id
        rendered = handler.respond(
            status,
            request,
            request_id=request_id,
            original_headers=self.held_headers if held else (),
            detail=self.collector.detail() if held and self.collector else None,
            detail_unseen=held and self.collector is not None and self.collector.unseen,
            exception=exception,
            head_body=True,
        )
        pending = handler.report(
            rendered.status,
            request,
            request_id=request_id,
            scope=self.scope,
            exception=exception,
            reraised=reraised,
        )
        try:
            await self._send_page(rendered)
        finally:
            if pending is not None:
                await pending

    async def _send_page(self, rendered: RenderedError) -> None:
        try:
            await send_response(self.server_send, rendered.status, rendered.headers, rendered.body)
        except OSError:
            # The client is gone; the error was real all the same and is still reported.
            self.disconnected = True
            logger.debug("Client went away before the error page")


async def send_response(
    send: Send, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    """Send a whole response in two messages, exactly as the core framed it.

    The core sets Content-Length and leaves the body empty for HEAD, so nothing here can
    contradict it. Raises OSError when the client has gone.
    """
    start: _ResponseStart = {
        "type": "http.response.start",
        "status": status,
        "headers": encode_headers(headers),
    }
    message: _ResponseBody = {"type": "http.response.body", "body": body, "more_body": False}
    await send(start)
    await send(message)


def request_headers(scope: Scope) -> dict[str, str]:
    """An ASGI scope's headers as the core reads them: lower-case names, latin-1 text.

    RFC 9110 Section 5.3: repeated fields combine into one comma-separated list.
    """
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def request_info(scope: Scope) -> RequestInfo:
    """The protocol-free view of an ASGI request that the core and the hook receive."""
    return RequestInfo(
        method=scope["method"],
        path=scope["path"],
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=request_headers(scope),
    )


def encode_headers(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """The core's latin-1 text back to ASGI bytes, names lower-cased as HTTP/2 requires."""
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


def _decode(raw: Any) -> list[tuple[str, str]]:
    """ASGI headers are bytes; the core speaks latin-1 text, the only lossless reading of them."""
    return [(bytes(name).decode("latin-1"), bytes(value).decode("latin-1")) for name, value in raw]
