"""PEP 3333 glue between a WSGI application and the shared error core.

Nothing here decides what an error page says or which headers survive; :mod:`friendly_errors.core`
does. This module only watches ``start_response``, holds back a status that will be replaced, drains
the body being replaced and hands the server a page instead. A response that is not replaced costs a
closure and a set lookup: its iterable goes back to the server untouched whenever the app has started
it before returning, so ``wsgi.file_wrapper`` and its ``sendfile`` keep working.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Awaitable, Callable, Generator, Iterable, Iterator
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, Final

from friendly_errors.core import DetailCollector, ErrorHandler
from friendly_errors.rendering import RenderedError, RequestInfo

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["FriendlyErrorsWSGIMiddleware"]

logger = logging.getLogger("friendly_errors")

_Write = Callable[[bytes], object]

#: How many distinct passing status lines are remembered.
_PASSING_CAP: Final = 256


class FriendlyErrorsWSGIMiddleware:
    """Replace error responses and unhandled exceptions of a WSGI app with a negotiated friendly error.

    ``options`` are forwarded to :class:`~friendly_errors.core.ErrorHandler` and validated here, the
    same options with the same meaning as the ASGI middleware's, so a misspelt or ill-typed option
    stops the app at start-up instead of at its first error.
    """

    def __init__(self, app: WSGIApplication, **options: Any) -> None:
        self.app = app
        self.handler = ErrorHandler(**options)
        # Status lines already seen to pass, learnt as they come: apps send a handful of distinct
        # ones, usually the same string object each time, so the check costs one hashed set lookup
        # instead of parsing the code on every request.
        self._passing: set[str] = set()
        # The stages a request goes through on the fast path, shared by all requests: a request
        # moves between them by rebinding one cell, which allocates nothing.
        self._handed_back = _Stage(self, frozenset())
        self._sent = _Stage(self, frozenset())
        self._fresh = _Stage(self, self._passing, self._sent)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # The common case, a status that passes, runs in this closure and never builds an
        # _Exchange: on a fast app the per-request objects are most of a middleware's cost. The
        # closure holds only start_response and one cell, the request's _Stage; reaching the
        # middleware through the stage instead of a third cell saves an allocation per request.
        state = self._fresh

        def watch(
            status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
        ) -> _Write:
            nonlocal state
            # Only the fresh stage has status lines to match: for every other stage the set is
            # empty, so a second call always takes the slow path below.
            if status in state.passing:
                state = state.passed
                return start_response(status, headers, exc_info)
            stage = state
            if stage.exchange is not None:
                return stage.exchange.start_response(status, headers, exc_info)
            middleware = stage.middleware
            if stage is middleware._handed_back:
                # The server iterates the app's body itself now, so it alone can honour a change
                # of mind (PEP 3333: it re-raises exc_info once the headers went out).
                return start_response(status, headers, exc_info)
            if stage is middleware._fresh and middleware._passes(status):
                state = middleware._sent
                return start_response(status, headers, exc_info)
            exchange = _Exchange(
                middleware.handler, start_response, forwarded=stage is middleware._sent
            )
            state = _Stage(middleware, frozenset(), exchange=exchange)
            return exchange.start_response(status, headers, exc_info)

        try:
            body = self.app(environ, watch)
        except Exception as exc:
            exchange = state.exchange
            if exchange is None:
                exchange = _Exchange(self.handler, start_response, forwarded=state is self._sent)
                state = _Stage(self, frozenset(), exchange=exchange)
            exchange.environ = environ
            page = exchange.failed(exc)
            if page is None:
                raise
            return [page]
        if state is self._sent:
            state = self._handed_back
            return body
        exchange = state.exchange
        if exchange is None:
            # start_response comes late, from the first iteration of the body (PEP 3333 allows it).
            exchange = _Exchange(self.handler, start_response, forwarded=False)
            state = _Stage(self, frozenset(), exchange=exchange)
        exchange.environ = environ
        return exchange.wrap(body)

    def _passes(self, status: str) -> bool:
        """Whether a status line is passed through, matched by its code whatever the reason phrase
        says or how it is spelt (Werkzeug sends "500 INTERNAL SERVER ERROR")."""
        code = status[:3]
        if code.isdigit() and self.handler.intercepts(int(code)):
            return False
        # A malformed status line passes too: it is the server's to refuse. The cap keeps an app
        # that puts a counter in its reason phrase from growing the set without end.
        if len(self._passing) < _PASSING_CAP:
            self._passing.add(status)
        return True


class _Stage:
    """Where one request stands: a middleware's three shared stages, or one request's _Exchange.

    The fast path tests ``status in stage.passing`` and moves to ``stage.passed``; only the fresh
    stage (nothing started yet) has status lines in ``passing``, so any other stage falls through
    to the slow path, which finds the middleware here.
    """

    __slots__ = ("exchange", "middleware", "passed", "passing")

    def __init__(
        self,
        middleware: FriendlyErrorsWSGIMiddleware,
        passing: AbstractSet[str],
        passed: _Stage | None = None,
        *,
        exchange: _Exchange | None = None,
    ) -> None:
        self.middleware = middleware
        self.passing = passing
        #: Where a status found in ``passing`` leads; never read when ``passing`` is empty.
        self.passed: _Stage = self if passed is None else passed
        self.exchange = exchange


class _Exchange:
    """One request whose response may still change; only built when the fast path cannot decide.

    It plays the server towards the app (its ``start_response`` keeps PEP 3333's promises about
    ``exc_info``) and the app towards the server (it is the iterable the server gets back, with a
    ``close`` that reaches the app's iterable exactly once).
    """

    __slots__ = (
        "_body",
        "_closed",
        "_exception",
        "_forwarded",
        "_held",
        "_pending",
        "_server_exc_info",
        "_server_write",
        "_started",
        "_stream",
        "environ",
        "handler",
        "server_start_response",
    )

    def __init__(
        self, handler: ErrorHandler, server_start_response: StartResponse, *, forwarded: bool
    ) -> None:
        self.handler = handler
        #: Set by the middleware once the app has returned or raised; only reports read it.
        self.environ: WSGIEnvironment = {}
        self.server_start_response = server_start_response
        #: The server's start_response has been called, so the next call needs exc_info.
        self._forwarded = forwarded
        #: Whether the app produced body bytes since its last start_response; None when the fast
        #: path passed its status on and only the server knows whether write() sent anything.
        self._started: bool | None = None if forwarded else False
        #: A status that passes but is not the server's yet: until a body byte needs it, it can
        #: still be replaced without asking the server to take anything back.
        self._pending: tuple[str, list[tuple[str, str]], OptExcInfo | None] | None = None
        self._server_write: _Write | None = None
        #: The status code and headers of a response that will be replaced, and what its body says.
        self._held: tuple[int, list[tuple[str, str]], DetailCollector] | None = None
        #: What the app's error handler told us with exc_info, for the log, the hook and debug pages.
        self._exception: BaseException | None = None
        #: What to give the server with the page when it already holds a status from the app.
        self._server_exc_info: OptExcInfo | None = None
        self._body: Iterable[bytes] | None = None
        self._stream: Generator[bytes, None, None] | None = None
        self._closed = False

    # -- what the app calls ---------------------------------------------------------------------

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
    ) -> _Write:
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
        code = int(status[:3]) if status[:3].isdigit() else 0
        if self.handler.intercepts(code) and not self.handler.leaves_alone(headers):
            self._held = (code, headers, self.handler.collector(code, headers))
            self._exception = error
            self._server_exc_info = exc_info if error is not None else None
        else:
            self._held = None
            self._exception = None
            if not asked:
                self._pending = (status, headers, exc_info)
        return self._write

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

    def wrap(self, body: Iterable[bytes]) -> Iterable[bytes]:
        self._body = body
        return self

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
            for chunk in self._body:
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
        page = self._send(rendered)
        self._report(500, request, request_id, exc)
        return page

    def _replace(self) -> bytes:
        assert self._held is not None
        code, headers, collector = self._held
        handler = self.handler
        detail = collector.detail()
        if self._exception is None:
            fast = self._prepared(code, headers, detail)
            if fast is not None:
                prepared, request_id = fast
                page = self._send(prepared)
                if handler.on_error is not None:
                    # The hook is told about every error; the request is built only for it.
                    self._report(code, request_info(self.environ), request_id, None)
                return page
        request = request_info(self.environ)
        request_id = handler.request_id(request.headers)
        rendered = handler.respond(
            code,
            request,
            request_id=request_id,
            original_headers=headers,
            detail=detail,
            exception=self._exception,
        )
        page = self._send(rendered)
        self._report(code, request, request_id, self._exception)
        return page

    def _prepared(
        self, code: int, headers: list[tuple[str, str]], detail: str | None
    ) -> tuple[RenderedError, str] | None:
        """The response from the handler's memo of recent responses (see
        :class:`~friendly_errors.core.Prepared`), or None when it is rendered in full.

        Reads only the environ keys the response depends on, instead of collecting every header.
        """
        environ = self.environ
        handler = self.handler
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "HEAD":
            return None  # no body to prepare
        for name in environ:
            # CGI spells header keys in upper case; request_headers reads any spelling, and one
            # the key below would miss must not steer the next request's response.
            if name[:5] == "HTTP_" and not name.isupper():
                return None
        ids: dict[str, str] | None = None
        for name, environ_key in _id_keys(handler.request_id_headers):
            value = environ.get(environ_key)
            if isinstance(value, str):
                if ids is None:
                    ids = {}
                ids[name] = value
        key = (
            code,
            method,
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_ACCEPT"),
            environ.get("HTTP_ACCEPT_LANGUAGE"),
            environ.get("HTTP_X_REQUESTED_WITH"),
            tuple(headers),
            detail,
        )
        prepared, request_id = handler.prepared(
            key, ids, code, headers, detail, request_info, environ
        )
        if prepared is None:
            return None
        if isinstance(prepared, RenderedError):  # rendered for this request: sent as it is
            return prepared, request_id
        return prepared.rendered(request_id), request_id

    def _send(self, rendered: RenderedError) -> bytes:
        """Start our page with the server; the renderer framed it (Content-Length, HEAD) already.

        Raises when the server had sent the app's headers meanwhile: then nothing was replaced, and
        the exception is the server's to log, so callers report only after this returns.
        """
        status = _status_line(self.handler, rendered.status)
        if self._forwarded:
            # The server holds a status from the app already; replacing it takes exc_info, and a
            # server that sent it meanwhile re-raises, which is the right ending.
            exc_info, self._server_exc_info = self._server_exc_info, None
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


_ID_KEYS: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}


def _id_keys(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Each request ID header name with the environ key that holds it (CGI: HTTP_X_REQUEST_ID).

    A name with an underscore is left out: request_headers reads every underscore in a key as a
    hyphen, so such a name never matches there either.
    """
    found = _ID_KEYS.get(names)
    if found is None:
        found = _ID_KEYS[names] = tuple(
            (name, "HTTP_" + name.upper().replace("-", "_")) for name in names if "_" not in name
        )
    return found


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
