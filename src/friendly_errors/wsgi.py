"""PEP 3333 glue between a WSGI application and the shared error core.

Nothing here decides what an error page says or which headers survive; :mod:`friendly_errors.core`
does. This module only watches ``start_response``, holds back a status that will be replaced, drains
the body being replaced and hands the server a page instead. A response that is not replaced costs one
object and a set lookup: its iterable goes back to the server untouched whenever the app has started
it before returning, so ``wsgi.file_wrapper`` and its ``sendfile`` keep working.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
import threading
from collections.abc import Awaitable, Callable, Generator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final

from friendly_errors.core import ANSWERED_KEY, DetailCollector, ErrorHandler
from friendly_errors.maintenance import Maintenance, MaintenanceState
from friendly_errors.rendering import RenderedError, RequestInfo

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["FriendlyErrorsWSGIMiddleware"]

# The app to wrap, typed loosely where frameworks differ: Falcon declares the ``start_response`` its
# app takes more narrowly than typeshed's StartResponse, so a strict type checker would reject it.
# Any WSGI app is taken, as the ASGI middleware takes any ASGI app (_types.ASGIApp).
_AnyWSGIApp = Callable[["WSGIEnvironment", Any], Iterable[bytes]]

logger = logging.getLogger("friendly_errors")

_Write = Callable[[bytes], object]

# Where one response stands, as far as the fast path needs to know.
_WAITING: Final = "waiting"  # start_response not called yet
_PASSED: Final = "passed"  # the app's status went to the server on the fast path
_WATCHED: Final = "watched"  # anything else: the _Exchange's own fields say more


class FriendlyErrorsWSGIMiddleware:
    """Replace error responses and unhandled exceptions of a WSGI app with a negotiated friendly error.

    ``options`` are forwarded to :class:`~friendly_errors.core.ErrorHandler` and validated here, the
    same options with the same meaning as the ASGI middleware's, so a misspelt or ill-typed option
    stops the app at start-up instead of at its first error.

    An exception is answered with a page and logged here, and not re-raised: PEP 3333 gives a
    middleware no way to answer and let the exception go on to the server too. Flask and Django
    tell error trackers through their own signals before the exception reaches us.
    ``propagate_exceptions`` (True, or a callable asked per exception) lets the app's exceptions
    go on untouched instead, for a framework's test client or debugger; the Flask and Django
    helpers pass Flask's ``PROPAGATE_EXCEPTIONS`` (testing, debug) and Django's
    ``DEBUG_PROPAGATE_EXCEPTIONS``.
    """

    def __init__(
        self,
        app: _AnyWSGIApp,
        *,
        propagate_exceptions: bool | Callable[[], bool] = False,
        **options: Any,
    ) -> None:
        if not (isinstance(propagate_exceptions, bool) or callable(propagate_exceptions)):
            raise TypeError(
                "propagate_exceptions must be True, False or a callable returning one of them, "
                f"not {propagate_exceptions!r}"
            )
        self.app = app
        self.handler = ErrorHandler(**options)
        self.propagate_exceptions = propagate_exceptions
        # The start of every status line that passes ("200 "), so the one decision a normal
        # response pays for is a set lookup; anything else, odd lines included, takes the slow path.
        self.passing: frozenset[str] = frozenset(
            f"{code} " for code in range(100, 1000) if not self.handler.intercepts(code)
        )
        self.maintenance: Maintenance | None = self.handler.maintenance
        # The one thing every request reads when maintenance is configured (#13).
        self._switch = None if self.maintenance is None else self.maintenance.switch

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        switch = self._switch
        if switch is not None:
            state = switch.state
            if state is not None:
                answered = self._closed(state, environ, start_response)
                if answered is not None:
                    return answered
        exchange = _Exchange(self, environ, start_response)
        try:
            body = self.app(environ, exchange.start_response)
        except Exception as exc:
            if self._propagates():
                raise
            page = exchange.failed(exc)
            if page is None:
                raise
            return [page]
        if exchange.state is _PASSED:
            # The app's own iterable goes back untouched, so wsgi.file_wrapper keeps its sendfile.
            return body
        return exchange.returned(body)

    def _closed(
        self, state: MaintenanceState, environ: WSGIEnvironment, start_response: StartResponse
    ) -> list[bytes] | None:
        """The maintenance mode's answer, or None when it lets the request through (#13)."""
        assert self.maintenance is not None
        secure = environ.get("wsgi.url_scheme") == "https"
        reply = self.maintenance.reply(state, request_info(environ), secure=secure)
        if reply is None:
            return None
        if reply.request_id is not None:
            environ[ANSWERED_KEY] = reply.request_id
        start_response(_status_line(self.handler, reply.status), reply.headers)
        return [reply.body]

    def _propagates(self) -> bool:
        propagate = self.propagate_exceptions
        return propagate if isinstance(propagate, bool) else bool(propagate())


class _Exchange:
    """One request: it plays the server towards the app and the app towards the server.

    Its ``start_response`` keeps PEP 3333's promises about ``exc_info``; when a response is replaced
    or started late, it is the iterable the server gets back, with a ``close`` that reaches the app's
    iterable exactly once. A normal response only ever touches ``start_response``'s first lines.
    """

    # Defaults for what only the slow path sets, so that a passed-through request pays for three
    # attributes and no more.
    _forwarded = False
    #: Whether the app produced body bytes since its last start_response; None when the fast path
    #: passed its status on and only the server knows whether write() sent anything.
    _started: bool | None = False
    #: A status that passes but is not the server's yet: until a body byte needs it, it can still be
    #: replaced without asking the server to take anything back.
    _pending: tuple[str, list[tuple[str, str]], OptExcInfo | None] | None = None
    _server_write: _Write | None = None
    #: The status code and headers of a response that will be replaced, and what its body says.
    _held: tuple[int, list[tuple[str, str]], DetailCollector] | None = None
    #: What the app's error handler told us with exc_info, for the log, the hook and debug pages.
    _exception: BaseException | None = None
    #: What to give the server with the page when it already holds a status from the app.
    _server_exc_info: OptExcInfo | None = None
    _body: Iterable[bytes] | None = None
    #: The body's one iterator, once returned() started draining it.
    _chunks: Iterator[bytes] | None = None
    _stream: Generator[bytes, None, None] | None = None
    _closed = False

    def __init__(
        self,
        middleware: FriendlyErrorsWSGIMiddleware,
        environ: WSGIEnvironment,
        server_start_response: StartResponse,
    ) -> None:
        self.middleware = middleware
        self.environ = environ
        self.server_start_response = server_start_response
        self.state = _WAITING

    @property
    def handler(self) -> ErrorHandler:
        return self.middleware.handler

    # -- what the app calls ---------------------------------------------------------------------

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
    ) -> _Write:
        if status[:4] in self.middleware.passing and exc_info is None and self.state is _WAITING:
            # The one decision a normal response pays for.
            self.state = _PASSED
            return self.server_start_response(status, headers)
        return self._start(status, headers, exc_info)

    def _start(
        self, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None
    ) -> _Write:
        self._start_watching()
        error = exc_info[1] if exc_info is not None else None
        asked = False
        if error is not None:
            if self._started:
                # PEP 3333: headers already sent, so the app's error handler cannot take them back.
                raise error.with_traceback(error.__traceback__)
            if self._started is None:
                # The fast path gave the server a status and only the server knows whether write()
                # sent anything since: handing it the app's call is how to ask (it re-raises if so).
                self._server_write = self.server_start_response(status, headers, exc_info)
                asked = True
        elif self._held is not None or self._pending is not None or self._forwarded:
            raise RuntimeError(
                "start_response() called a second time without exc_info; PEP 3333 allows a "
                "second call only from an error handler that passes sys.exc_info()"
            )
        self._started = False
        self._pending = None
        code = self.handler.status_code(status)
        if code is None:
            # A bad status line ("5031 X") is the app's bug: a 500 page, with nothing of its own.
            code = self.handler.bad_status(status)
            headers = []
        elif ANSWERED_KEY in self.environ or not self.handler.intercepts(code):
            # Passed on: not ours to replace, or our own page from an instance further in.
            code = 0
        if code and not self.handler.leaves_alone(headers):
            self._held = (code, headers, self.handler.collector(code, headers))
            self._exception = error
            self._server_exc_info = exc_info if error is not None else None
        else:
            self._held = None
            self._exception = None
            if not asked:
                self._pending = (status, headers, exc_info)
        return self._write

    def _start_watching(self) -> None:
        """Leave the fast path: from here on the fields below say where the response stands."""
        if self.state is _PASSED:
            # The server holds the app's status already, and only it knows whether write() sent
            # body bytes since.
            self._forwarded = True
            self._started = None
        self.state = _WATCHED

    def _write(self, data: bytes) -> object:
        """write() as PEP 3333 has it; bytes of a response being replaced go to its collector."""
        if self._held is not None:
            if data:
                self._started = True
            self._held[2].feed(data)
            return None
        if self._pending is not None:
            self._flush()
        if data:
            self._started = True
        assert self._server_write is not None
        return self._server_write(data)

    def _flush(self) -> None:
        """Give the server the status that passes, now that a body byte needs it."""
        assert self._pending is not None
        status, headers, exc_info = self._pending
        self._pending = None
        self._server_write = self.server_start_response(
            status, headers, exc_info if self._forwarded else None
        )
        self._forwarded = True

    # -- what the server calls ------------------------------------------------------------------

    def returned(self, body: Iterable[bytes]) -> Iterable[bytes]:
        """What the server gets once the app returned ``body`` without its status passing on.

        A response the app started before returning is replaced right here: its body is drained
        and the server's ``start_response`` called before we return, which some servers require
        (granian ignores a status given during the first iteration, #11). Only an app that really
        starts late, from its first iteration, is answered from our iterable.
        """
        self._body = body
        if self._held is None:
            # A late start comes from within our iteration, where the fast path must not run.
            self._start_watching()
            return self
        self._chunks = iter(body)
        try:
            for chunk in self._chunks:
                collector = self._collector()
                if collector is None:
                    # The app's error handler switched to a status that passes: this chunk and
                    # the rest of the body are its own.
                    self._chunks = itertools.chain((chunk,), self._chunks)
                    break
                if chunk:
                    self._started = True
                collector.feed(chunk)
            else:
                self._close_body()
                return [self._replace()]
        except Exception as exc:
            self._close_body_quietly()
            page = self.failed(exc)
            if page is None:
                raise
            return [page]
        # A status that passes, set from within the body: the rest of the body is the app's.
        return self

    def _collector(self) -> DetailCollector | None:
        """The collector of the response being replaced; the app's error handler may change it."""
        return None if self._held is None else self._held[2]

    def __iter__(self) -> Iterator[bytes]:
        self._stream = self._run()
        return self._stream

    def close(self) -> None:
        # The server calls this when it is done, also when the client went away mid-body.
        if self._stream is not None:
            self._stream.close()
        self._close_body()

    # -- endings --------------------------------------------------------------------------------

    def _run(self) -> Generator[bytes, None, None]:
        assert self._body is not None
        page: bytes | None
        try:
            for chunk in self._body if self._chunks is None else self._chunks:
                if self._held is not None:
                    if chunk:
                        self._started = True
                    self._held[2].feed(chunk)
                    continue
                if self._pending is not None:
                    self._flush()
                elif not self._forwarded:
                    raise RuntimeError("The WSGI app yielded body bytes before start_response()")
                if chunk:
                    self._started = True
                yield chunk
            self._close_body()
            if self._held is None:
                if self._pending is not None:
                    self._flush()
                elif not self._forwarded:
                    raise RuntimeError("The WSGI app returned without calling start_response()")
                return
            page = self._replace()
        except Exception as exc:
            self._close_body_quietly()
            page = self.failed(exc)
            if page is None:
                raise
        yield page

    def failed(self, exc: Exception) -> bytes | None:
        """The page for an exception, or None when the exception must go on to the server.

        Called while ``exc`` is being handled. An exception answered with a page is not re-raised:
        it is logged here once with its traceback, and re-raising would only make the server log it
        again and drop a healthy keep-alive connection. Once bytes of the app's own response went
        out, only the server can tell the client, by cutting the response short; it logs the
        exception then, so it is not reported here (the same decision as the ASGI middleware).
        """
        if self.state is _PASSED:
            self._start_watching()
        if (self._started and self._held is None) or not self.handler.intercepts(500):
            return None
        # A 500 raised while a response was being replaced is a different response: the one being
        # replaced lends it neither headers nor detail.
        self._held = None
        self._pending = None
        request = request_info(self.environ)
        request_id = self.handler.request_id(request.headers)
        rendered = self.handler.respond(500, request, request_id=request_id, exception=exc)
        self._server_exc_info = sys.exc_info()
        page = self._send(rendered, request_id)
        self._report(500, request, request_id, exc)
        return page

    def _replace(self) -> bytes:
        assert self._held is not None
        code, headers, collector = self._held
        handler = self.handler
        request = request_info(self.environ)
        request_id = handler.request_id(request.headers)
        rendered = handler.respond(
            code,
            request,
            request_id=request_id,
            original_headers=headers,
            detail=collector.detail(),
            detail_unseen=collector.unseen,
            exception=self._exception,
        )
        page = self._send(rendered, request_id)
        self._report(code, request, request_id, self._exception)
        return page

    def _send(self, rendered: RenderedError, request_id: str) -> bytes:
        """Start our page with the server; the renderer framed it (Content-Length, HEAD) already.

        Raises when the server had sent the app's headers meanwhile: then nothing was replaced, and
        the exception is the server's to log, so callers report only after this returns.
        """
        status = _status_line(self.handler, rendered.status)
        self.environ[ANSWERED_KEY] = request_id
        # Taken on every path: a traceback kept here would hold this exchange, the app's frames and
        # the middleware in a cycle until the cyclic collector ran.
        exc_info, self._server_exc_info = self._server_exc_info, None
        if self._forwarded:
            # The server holds a status from the app already; replacing it takes exc_info, and a
            # server that sent it meanwhile re-raises, which is the right ending.
            self.server_start_response(status, rendered.headers, exc_info)
        else:
            self.server_start_response(status, rendered.headers)
        self._forwarded = True
        return rendered.body

    def _report(
        self, status: int, request: RequestInfo, request_id: str, exc: BaseException | None
    ) -> None:
        pending = self.handler.report(
            status, request, request_id=request_id, scope=self.environ, exception=exc
        )
        if pending is not None:
            _wait(pending)

    def _close_body(self) -> None:
        if self._closed or self._body is None:
            return
        self._closed = True
        close = getattr(self._body, "close", None)
        if close is not None:
            close()

    def _close_body_quietly(self) -> None:
        """Close the app's body on the way to an error page: a second failure must not hide the first."""
        try:
            self._close_body()
        except Exception:
            logger.exception("Closing the WSGI app's response failed while handling an error")


def request_info(environ: WSGIEnvironment) -> RequestInfo:
    """The protocol-free view of a WSGI request that the core and the hook receive."""
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return RequestInfo(
        method=str(environ.get("REQUEST_METHOD", "GET")),
        path=_wsgi_text(path),
        query=str(environ.get("QUERY_STRING", "")),
        headers=request_headers(environ),
    )


def request_headers(environ: WSGIEnvironment) -> dict[str, str]:
    """A WSGI environ's headers as the core reads them: lower-case names, latin-1 text."""
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_") and isinstance(value, str)
    }
    # CGI keeps these two out of the HTTP_ namespace (PEP 3333, RFC 3875 Section 4.1).
    for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if environ.get(key):
            headers[name] = environ[key]
    return headers


def _wsgi_text(value: str) -> str:
    """PEP 3333 hands the path over as bytes decoded as latin-1; the visitor typed UTF-8."""
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        # A server that decoded as UTF-8 already, against the PEP: the text is right as it is.
        return value
    return raw.decode("utf-8", "replace")


def _status_line(handler: ErrorHandler, code: int) -> str:
    """A status line for ``code``; the reason phrase is cosmetic, but PEP 3333 wants one in latin-1."""
    title = handler.catalogue.get(code).title
    if not (title.isascii() and title.isprintable()):
        title = "Error"
    return f"{code} {title}"


def _wait(pending: Awaitable[None]) -> None:
    """Run an async ``on_error`` hook to completion; WSGI has no loop to leave it running on."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_awaited(pending))
        return
    # A WSGI app called from async code (an adapter, a test): this thread's loop is busy.
    worker = threading.Thread(target=asyncio.run, args=(_awaited(pending),), name="friendly_errors")
    worker.start()
    worker.join()


async def _awaited(pending: Awaitable[None]) -> None:
    await pending
