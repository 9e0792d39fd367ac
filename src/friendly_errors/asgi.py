"""Pure ASGI 3 glue between an application and the shared error core.

Nothing here decides what an error page says or which headers survive; :mod:`friendly_errors.core`
does. This module only watches the messages an app sends, holds back the start of a response that will
be replaced, and moves bytes. Starlette is never imported, so the middleware wraps any ASGI app.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any, Final, Literal, TypedDict

from friendly_errors._types import ASGIApp, Message, Receive, Scope, Send
from friendly_errors.core import DetailCollector, ErrorHandler
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


# The responder's states: plain small ints, the cheapest thing the hot path can compare. The hot
# path (FriendlyErrorsMiddleware.__call__, _Responder.send and .receive) spells 0 and 1 out: CPython
# does not fold a Final, and a module global costs a dictionary-version check at every use, about
# 150 instructions a passed-through request.
_WAITING: Final = 0  # nothing sent yet, no start message seen
_PASSING: Final = 1  # the app's start went to the server; we are out of the way
_HOLDING: Final = 2  # the app's start is held back; its body is being drained
_REPLACED: Final = 3  # our page went out; whatever the app sends now is dropped


class FriendlyErrorsMiddleware:
    """Replace error responses and unhandled exceptions with a negotiated friendly error.

    ``options`` are forwarded to :class:`~friendly_errors.core.ErrorHandler` and validated here, so a
    misspelt or ill-typed option stops the app at start-up instead of at its first error.
    """

    # ``app`` is positional-only so that no option name can ever collide with it, and so that type
    # checkers accept the class where Starlette's ``add_middleware`` expects a middleware factory.
    def __init__(self, app: ASGIApp, /, **options: Any) -> None:
        self.app = app
        self.handler = ErrorHandler(**options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            # Lifespan and websocket traffic is none of our business, and must not pay for us.
            await self.app(scope, receive, send)
            return
        # Built field by field rather than through an __init__: CPython 3.11 does not specialise
        # calls to a Python class, and an __init__ frame alone was about a tenth of what a
        # passed-through request costs us (benchmarks/bench_asgi.py). A class without __init__ is
        # cheaper to call than object.__new__, whose wrapper builds an argument tuple.
        responder = _Responder()
        responder.handler = self.handler
        responder.scope = scope
        responder.server_receive = receive
        responder.server_send = send
        responder.state = 0  # _WAITING
        try:
            await self.app(scope, responder.receive, responder.send)
        except Exception as exc:
            if not await responder.absorbed(exc):
                raise
        else:
            # Unfinished unless passed through (1) or replaced (3); the common case is decided by
            # the first comparison alone.
            if responder.state != 1 and responder.state != 3:
                await responder.finished()


class _Responder:
    """Everything one request needs; the middleware instance stays free of per-request state.

    ``send`` and ``receive`` are plain functions that return the awaitable of whatever handles the
    message. Once a response passes through they hand back the server's own coroutines, so a normal
    response costs one attribute check per message and no coroutine frame of ours.
    """

    __slots__ = (
        "_collector",
        "_held",
        "_held_headers",
        "_roles",
        "disconnected",
        "handler",
        "scope",
        "server_receive",
        "server_send",
        "state",
    )
    # Set by FriendlyErrorsMiddleware.__call__ for every request:
    handler: ErrorHandler
    scope: Scope
    server_receive: Receive
    server_send: Send
    state: int
    # Set only when needed, and read only after that (or through _gone):
    #: The client hung up: the app received ``http.disconnect`` or a send of ours failed.
    disconnected: bool
    _held: Message
    _held_headers: tuple[tuple[str, str], ...]
    _collector: DetailCollector
    #: What each request header name means to a prepared response (see _roles).
    _roles: dict[bytes, int] | None

    @property
    def _gone(self) -> bool:
        # ``disconnected`` is left unset on the pass-through path, which saves a store per request.
        return getattr(self, "disconnected", False)

    # -- what the app calls ---------------------------------------------------------------------

    def send(self, message: Message) -> Awaitable[None]:
        state = self.state
        if state == 1:  # _PASSING
            return self.server_send(message)
        if (
            state == 0  # _WAITING
            and message["type"] == "http.response.start"
            and message["status"] not in self.handler.intercept
        ):
            # The one decision a normal response pays for: a set lookup on the start message.
            self.state = 1  # _PASSING
            return self.server_send(message)
        return self._other(message)

    def receive(self) -> Awaitable[Message]:
        if self.state == 1:  # _PASSING
            return self.server_receive()
        return self._watch_receive()

    # -- the slow path --------------------------------------------------------------------------

    def _other(self, message: Message) -> Awaitable[None]:
        if self.state == _HOLDING:
            return self._drain(message)
        if self.state == _REPLACED:
            # Our page is out: late body chunks or trailers of the replaced response go nowhere.
            return _nothing()
        if message["type"] == "http.response.start":
            return self._hold(message)
        # Anything sent before the start (``http.response.debug`` from Starlette's TestClient, say)
        # is forwarded untouched.
        return self._forward_early(message)

    async def _forward_early(self, message: Message) -> None:
        try:
            await self.server_send(message)
        except OSError:
            # The server only fails a send when the client has gone; the app's reaction to that
            # failure must not turn into a 500 for nobody.
            self.disconnected = True
            raise

    async def _hold(self, message: Message) -> None:
        headers, leaves_alone, collector, self._roles = _held(
            self.handler, message["status"], message
        )
        if leaves_alone:
            self.state = _PASSING
            await self.server_send(message)
            return
        self.state = _HOLDING
        self._held = message
        self._held_headers = headers
        self._collector = DetailCollector(*collector)

    async def _drain(self, message: Message) -> None:
        """Keep a few KB of the body being replaced and drop the rest, whatever its size."""
        if message["type"] == "http.response.body":
            self._collector.feed(message.get("body", b""))
        if message.get("more_body", False):
            return
        # The last body message (or a ``pathsend``, which ends a body by itself): time to answer.
        await self._replace(self._held["status"], held=True)

    async def _watch_receive(self) -> Message:
        message = await self.server_receive()
        if message["type"] == "http.disconnect":
            self.disconnected = True
        return message

    # -- endings --------------------------------------------------------------------------------

    async def absorbed(self, exc: Exception) -> bool:
        """Whether the app's exception ends here; it does only if nothing has reached the server yet.

        An absorbed exception is not re-raised: ``report`` has logged it once with its traceback and
        the visitor has a page. Re-raising would make the server log it a second time and drop a
        keep-alive connection that is perfectly healthy.
        """
        if self.state == _PASSING or self.state == _REPLACED:
            # The server has a start line already: only it can signal the failure, by cutting the
            # connection short, and it logs the exception itself.
            return False
        if self._gone:
            # Nobody is listening, and a client hanging up is not a server error.
            logger.debug("Client went away while the app was failing", exc_info=exc)
            return True
        if not self.handler.intercepts(500):
            return False
        await self._replace(500, exception=exc)
        return True

    async def finished(self) -> None:
        """The app returned normally but left its response unfinished or never started it."""
        if self.state == _HOLDING:
            await self._replace(self._held["status"], held=True)
        elif self.state == _WAITING and not self._gone and self.handler.intercepts(500):
            problem = RuntimeError("The ASGI app returned without starting a response")
            await self._replace(500, exception=problem)

    async def _replace(
        self, status: int, *, held: bool = False, exception: Exception | None = None
    ) -> None:
        """Send the friendly response for ``status``; ``held`` when it replaces the held response.

        Only the held response lends its headers and detail: a 500 raised while it was draining is a
        different response.
        """
        handler = self.handler
        self.state = _REPLACED
        original: tuple[tuple[str, str], ...] = ()
        detail = None
        if held:
            original = self._held_headers
            detail = self._collector.detail()
        fast = self._prepared(status, detail) if held and exception is None else None
        request: RequestInfo | None
        if fast is not None:
            status, headers, page, request_id = fast
            # The hook is told about every error; the request is built only for it.
            request = request_info(self.scope) if handler.on_error is not None else None
        else:
            request = request_info(self.scope)
            request_id = handler.request_id(request.headers)
            rendered = handler.respond(
                status,
                request,
                request_id=request_id,
                original_headers=original,
                detail=detail,
                exception=exception,
            )
            # Sent exactly as rendered: the renderer frames the body itself (Content-Length, and
            # an empty body for HEAD), so nothing here can contradict it.
            status, headers, page = (
                rendered.status,
                encode_headers(rendered.headers, request_id),
                rendered.body,
            )
        start: _ResponseStart = {
            "type": "http.response.start",
            "status": status,
            "headers": headers,
        }
        body: _ResponseBody = {"type": "http.response.body", "body": page, "more_body": False}
        pending = None
        if request is not None:
            pending = handler.report(
                status, request, request_id=request_id, scope=self.scope, exception=exception
            )
        try:
            try:
                await self.server_send(start)
                await self.server_send(body)
            except OSError:
                # The client is gone; the error was real all the same and is still reported.
                logger.debug("Client went away before the error page (request ID %s)", request_id)
        finally:
            if pending is not None:
                await pending

    def _prepared(
        self, status: int, detail: str | None
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes, str] | None:
        """Status, headers, body and request ID from the handler's memo of recent responses (see
        :class:`~friendly_errors.core.Prepared`), or None when this response is rendered in full.

        Reads the scope's raw headers once for the few the response depends on, instead of
        decoding them all: a flood of identical errors then costs little more than its bytes.
        """
        scope = self.scope
        method = scope["method"]
        handler = self.handler
        roles = self._roles
        raw = scope.get("headers", ())
        # HEAD has no body to prepare; headers that are not a sequence can be read only once.
        if method == "HEAD" or roles is None or not isinstance(raw, (list, tuple)):
            return None
        keyed = []
        ids: dict[str, str] | None = None
        try:
            for name, value in raw:
                role = roles.get(name)
                if role is None:
                    if name.islower() or name.lower() not in roles:
                        continue
                    # One of ours, not in the lower case the ASGI spec asks servers for.
                    return None
                if role == _KEYED:
                    keyed.append((name, value))
                else:
                    text = name.decode("latin-1")
                    if ids is None:
                        ids = {}
                    elif text in ids:
                        return None  # repeated: the full path reads them combined
                    ids[text] = value.decode("latin-1")
        except (TypeError, ValueError, AttributeError):
            return None  # something odd in the scope (a bytearray name): the full path copes
        key = (
            status,
            method,
            scope["path"],
            scope.get("query_string", b""),
            tuple(keyed),
            self._held_headers,
            detail,
        )
        prepared, request_id = handler.prepared(
            key, ids, status, self._held_headers, detail, request_info, scope
        )
        if prepared is None:
            return None
        if isinstance(prepared, RenderedError):  # rendered for this request: sent as it is
            headers = encode_headers(prepared.headers, request_id)
            return prepared.status, headers, prepared.body, request_id
        wire: _Wire | None = prepared.wire
        if wire is None:
            name = prepared.request_id_header
            wire = prepared.wire = (
                tuple(encode_headers(list(prepared.head))),
                tuple(encode_headers(list(prepared.tail))),
                None if name is None else name.lower().encode("latin-1"),
            )
        encoded_id = request_id.encode("ascii")
        page = encoded_id.join(prepared.parts)
        headers = list(wire[0])
        headers.append((b"content-length", str(len(page)).encode("ascii")))
        headers.extend(wire[1])
        if wire[2] is not None:
            headers.append((wire[2], encoded_id))
        return prepared.status, headers, page, request_id


# What the core decided about a response that will be replaced, by its status and raw headers: the
# headers as text, whether the app formatted its own error (leave it alone), and the detail
# collector's arguments. An app answers its errors with a handful of distinct header sets.
_HeldPlan = tuple[
    tuple[tuple[str, str], ...], bool, tuple[str | None, int, str], "dict[bytes, int] | None"
]
_HELD: dict[tuple[object, ...], _HeldPlan] = {}
_HELD_LIMIT: Final = 256


def _held(handler: ErrorHandler, status: int, message: Message) -> _HeldPlan:
    raw = message.get("headers", ())
    key: tuple[object, ...] | None = None
    # Exact types only: 503.0 == 503 would find the plan of a status the core accepts.
    if isinstance(raw, (list, tuple)) and type(status) is int:
        try:
            key = (handler, status, *raw)
            plan = _HELD.get(key)
        except TypeError:  # [name, value] lists: fine by the ASGI spec, but not hashable
            key = plan = None
        if plan is not None:
            return plan
    headers = tuple(_decode(raw))
    collector = handler.collector(status, headers)
    plan = (
        headers,
        handler.leaves_alone(headers),
        (collector.content_type, collector.limit, collector.title),
        _roles(handler.request_id_headers),
    )
    if key is not None:
        if len(_HELD) >= _HELD_LIMIT:
            _HELD.clear()  # bounded: starts over when full
        _HELD[key] = plan
    return plan


# A Prepared's headers as ASGI sends them: before Content-Length, after it, the request ID's name.
_Wire = tuple[tuple[tuple[bytes, bytes], ...], tuple[tuple[bytes, bytes], ...], bytes | None]

# What a request header means to a prepared response (_Responder._prepared), by its raw name.
_KEYED: Final = 1  # the response depends on its value
_ID: Final = 2  # it may carry the request ID
_ROLES: dict[tuple[str, ...], dict[bytes, int] | None] = {}


def _roles(request_id_headers: tuple[str, ...]) -> dict[bytes, int] | None:
    """The roles of header names for a handler's request ID headers; None if they overlap."""
    try:
        return _ROLES[request_id_headers]
    except KeyError:
        pass
    keyed = ("accept", "accept-language", "x-requested-with")
    roles: dict[bytes, int] | None = None
    if not set(keyed) & set(request_id_headers):
        roles = {}
        for names, role in ((keyed, _KEYED), (request_id_headers, _ID)):
            for name in names:
                roles[name.encode("latin-1")] = role
    _ROLES[request_id_headers] = roles
    return roles


def request_headers(scope: Scope) -> dict[str, str]:
    """An ASGI scope's headers as the core reads them: lower-case names, latin-1 text."""
    raw = scope.get("headers", ())
    if not isinstance(raw, (list, tuple)):
        raw = list(raw)
    # A loop, not a comprehension: CPython 3.11 gives a comprehension a frame of its own.
    headers = {}
    for raw_name, raw_value in raw:
        headers[raw_name.decode("latin-1").lower()] = raw_value.decode("latin-1")
    if len(headers) < len(raw):
        # RFC 9110 Section 5.3: repeated fields combine into one comma-separated list. Rare enough
        # to be worth a second pass rather than a check on every field of every request.
        headers = {}
        for raw_name, raw_value in raw:
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


async def _nothing() -> None:
    return None


# Encoded response headers by their text: the headers of an error page are the same few every time.
# Bounded (it starts over when full) since Content-Length and kept headers vary.
_ENCODED: dict[tuple[str, str], tuple[bytes, bytes]] = {}
_ENCODED_LIMIT: Final = 256


def encode_headers(
    headers: list[tuple[str, str]], request_id: str = ""
) -> list[tuple[bytes, bytes]]:
    """The core's latin-1 text back to ASGI bytes, names lower-cased as HTTP/2 requires."""
    out = []
    for pair in headers:
        encoded = _ENCODED.get(pair)
        if encoded is None:
            name, value = pair
            encoded = (name.lower().encode("latin-1"), value.encode("latin-1"))
            # A request ID is new with almost every request: keeping it would only churn the cache.
            if value != request_id:
                if len(_ENCODED) >= _ENCODED_LIMIT:
                    _ENCODED.clear()
                _ENCODED[pair] = encoded
        out.append(encoded)
    return out


def _decode(raw: Any) -> list[tuple[str, str]]:
    """ASGI headers are bytes; the core speaks latin-1 text, the only lossless reading of them."""
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]
