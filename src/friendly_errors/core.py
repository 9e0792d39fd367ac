"""The sans-IO heart that both middlewares share.

Everything that decides *what* to send lives here: which statuses are replaced, which of the original
headers survive, what the app said about its own error, which request ID to show, what a debug page
may reveal, and how the ``on_error`` hook is told. The ASGI and WSGI modules only move bytes.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import re
import secrets
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from friendly_errors.catalogue import Catalogue
from friendly_errors.negotiation import Format
from friendly_errors.rendering import RenderedError, Renderer, RequestInfo

__all__ = [
    "DEFAULT_REQUEST_ID_HEADERS",
    "DetailCollector",
    "ErrorEvent",
    "ErrorHandler",
    "OnError",
    "Prepared",
]

logger = logging.getLogger("friendly_errors")

DEFAULT_REQUEST_ID_HEADERS: Final = ("X-Request-ID", "X-Correlation-ID", "traceparent", "CF-Ray")

# Headers that still mean something once the body is replaced; everything else described the old body
# (Content-Length, Content-Encoding, ETag, ...) or would contradict the new one (Cache-Control).
_KEPT_HEADERS: Final = frozenset(
    {
        "retry-after",
        "www-authenticate",
        "proxy-authenticate",
        "allow",
        "set-cookie",
        "strict-transport-security",
    }
)
_KEPT_PREFIXES: Final = ("access-control-",)

# A request ID is echoed into a header and a page: only short values of safe characters qualify, so a
# CRLF, markup or a 10 KB header is ignored rather than reflected.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+=/-]{0,127}")
# W3C Trace Context: version-traceid-parentid-flags; the trace id is what ties logs together.
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")
# A request ID that every format writes as it is (HTML, JSON, XML, a percent-encoded URI, and text,
# whose 80 columns fit "Request ID: " and 64 characters unbroken), and long enough that a random
# stand-in of its length never turns up in a page by chance.
_PLAIN_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{16,64}")
# The memo of prepared responses (see Prepared): at most this many, and only for inputs this short in
# all, since a client chooses most of them.
_PREPARED_LIMIT: Final = 256
_PREPARED_INPUTS: Final = 2048

#: How much of a replaced body is kept to look for the app's own explanation; the rest is drained.
DETAIL_LIMIT: Final = 8192
#: A plain-text body longer than this is a page, not a one-line explanation.
_TEXT_DETAIL_MAX: Final = 1000
_JSON_DETAIL_KEYS: Final = ("detail", "message", "error")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class ErrorEvent:
    """What the ``on_error`` hook is told about one replaced response."""

    status: int
    exception: BaseException | None
    request_id: str
    #: The ASGI scope or the WSGI environ of the request.
    scope: Mapping[str, Any]
    request: RequestInfo


OnError = Callable[[ErrorEvent], Awaitable[None] | None]

# Whatever a glue builds its RequestInfo from: an ASGI scope, a WSGI environ.
_Source = TypeVar("_Source")


@dataclass
class DetailCollector:
    """Keeps the first few KB of a replaced body, so the rest can be drained in constant memory."""

    content_type: str | None
    limit: int = DETAIL_LIMIT
    #: The replaced status's title: an app whose whole body is "Service Unavailable" said nothing new.
    title: str = ""
    _chunks: list[bytes] = field(default_factory=list)
    _size: int = 0
    _overflow: bool = False

    def feed(self, chunk: bytes) -> None:
        if self._overflow or not chunk:
            return
        room = self.limit - self._size
        if len(chunk) > room:
            self._overflow = True
            return
        self._chunks.append(bytes(chunk))
        self._size += len(chunk)

    def detail(self) -> str | None:
        """The app's own explanation, when it gave a short one that says more than the title."""
        if self._overflow or not self._chunks or not self.content_type:
            return None
        body = b"".join(self._chunks)
        if len(body) > _DETAIL_MEMO_SIZE or len(self.content_type) > _DETAIL_MEMO_SIZE:
            return _detail(self.content_type, body, self.title)
        # A repeated error usually repeats its body too: parse each short one once.
        key = (self.content_type, body, self.title)
        found = _details.get(key, _UNKNOWN)
        if found is _UNKNOWN:
            found = _detail(self.content_type, body, self.title)
            if len(_details) >= _DETAIL_MEMO_LIMIT:
                _details.clear()  # bounded: starts over when full
            _details[key] = found
        return found if isinstance(found, str) else None


# The memo of short bodies' details, shared by every handler: the result depends only on the key.
_DETAIL_MEMO_SIZE: Final = 256
_DETAIL_MEMO_LIMIT: Final = 256
_UNKNOWN: Final = object()
_details: dict[tuple[str, bytes, str], object] = {}


def _detail(content_type: str, body: bytes, title: str) -> str | None:
    """The explanation in a replaced body of ``content_type``, unless it only repeats ``title``."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    text = body.decode("utf-8", "replace")
    found: str | None = None
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            # RecursionError: 8 KB of "[[[[" nests deeper than the parser will go.
            return None
        if isinstance(data, dict):
            found = next((data[k] for k in _JSON_DETAIL_KEYS if isinstance(data.get(k), str)), None)
    elif media_type == "text/plain" and len(text) <= _TEXT_DETAIL_MAX:
        found = text
    if found is None:
        return None
    found = _CONTROL_CHARS.sub("", found).strip()
    if not found or found.casefold() == title.casefold():
        return None
    return found[:_TEXT_DETAIL_MAX]


def _media_type(headers: Sequence[tuple[str, str]]) -> str | None:
    for name, value in headers:
        if name.lower() == "content-type":
            return value
    return None


class Prepared:
    """A replacement response rendered once for a set of inputs, with a hole where the request ID goes.

    A repeated error (a route failing for every visitor during an outage) differs from the previous
    one only in its request ID and, from one second to the next, in the time its page shows. So its
    response is rendered once a second and cut wherever the ID appears (the first request's own fresh
    ID, or a random stand-in of the same length); each later request joins its own ID into the
    pieces. That is what lets a flood of errors cost little more than sending the bytes. Built by
    :meth:`ErrorHandler.prepared`.
    """

    __slots__ = (
        "format",
        "head",
        "media_type",
        "parts",
        "request_id_header",
        "second",
        "status",
        "tail",
        "wire",
    )

    def __init__(
        self,
        rendered: RenderedError,
        hole: str,
        second: int,
        content_length_at: int,
        request_id_header: str | None,
    ) -> None:
        headers = rendered.headers
        end = len(headers) - 1 if request_id_header else len(headers)
        self.status = rendered.status
        self.format = rendered.format
        self.media_type = rendered.media_type
        #: The body cut where the request ID goes.
        self.parts = tuple(rendered.body.split(hole.encode("ascii")))
        #: The headers before Content-Length and those after it, the request ID's aside.
        self.head = tuple(headers[:content_length_at])
        self.tail = tuple(headers[content_length_at + 1 : end])
        self.request_id_header = request_id_header
        #: The second (``int(time.time())``) whose time the page shows.
        self.second = second
        #: Whatever form of the headers a protocol glue sends, made once and kept here by it.
        self.wire: Any = None

    def body(self, request_id: str) -> bytes:
        return request_id.encode("ascii").join(self.parts)

    def rendered(self, request_id: str) -> RenderedError:
        """The response for one request: exactly what :meth:`ErrorHandler.respond` would give it."""
        body = self.body(request_id)
        headers = [*self.head, ("Content-Length", str(len(body))), *self.tail]
        if self.request_id_header:
            headers.append((self.request_id_header, request_id))
        return RenderedError(self.status, headers, body, self.format, self.media_type)


# Marks a key whose response cannot be prepared, so it is not rendered twice again.
_NOT_REUSABLE: Final = Prepared.__new__(Prepared)


class ErrorHandler:
    """Validated options plus the decisions that follow from them; one per middleware instance.

    All arguments are keyword-only and checked here, so a typo fails when the app starts rather than on
    the first error in production.
    """

    def __init__(
        self,
        *,
        catalogue: Catalogue | None = None,
        intercept: Iterable[int | str] | None = None,
        debug: bool = False,
        template_dirs: Sequence[str | os.PathLike[str]] = (),
        default_format: Format | str = Format.HTML,
        site_name: str | None = None,
        home_url: str | None = None,
        contact_url: str | None = None,
        show_developer_info: bool = True,
        on_error: OnError | None = None,
        request_id_headers: Sequence[str] = DEFAULT_REQUEST_ID_HEADERS,
        request_id_response_header: str | None = "X-Request-ID",
        use_app_detail: bool = True,
        replace_problem_details: bool = False,
        keep_headers: Iterable[str] = (),
        problem_type: str = "about:blank",
        problem_instance: str | None = None,
        frame_ancestors: str = "'none'",
    ) -> None:
        if catalogue is None:
            catalogue = Catalogue.default()
        elif not isinstance(catalogue, Catalogue):
            raise TypeError(f"catalogue must be a Catalogue, not {type(catalogue).__name__}")
        self.catalogue = catalogue
        self.intercept = _parse_intercept(intercept)
        self.debug = _check_bool("debug", debug)
        self.show_developer_info = _check_bool("show_developer_info", show_developer_info)
        self.use_app_detail = _check_bool("use_app_detail", use_app_detail)
        self.replace_problem_details = _check_bool(
            "replace_problem_details", replace_problem_details
        )
        if on_error is not None and not callable(on_error):
            raise TypeError("on_error must be a callable taking an ErrorEvent")
        self.on_error = on_error
        self.request_id_headers = _parse_header_names("request_id_headers", request_id_headers)
        if request_id_response_header is not None:
            _parse_header_names("request_id_response_header", [request_id_response_header])
        self.request_id_response_header = request_id_response_header
        keep = _parse_header_names("keep_headers", keep_headers, allow_wildcard=True)
        self._keep_exact = _KEPT_HEADERS | {h for h in keep if not h.endswith("*")}
        self._keep_prefixes = _KEPT_PREFIXES + tuple(h[:-1] for h in keep if h.endswith("*"))
        if isinstance(default_format, str) and not isinstance(default_format, Format):
            try:
                default_format = Format(default_format.lower())
            except ValueError:
                names = ", ".join(repr(f.value) for f in Format)
                raise ValueError(
                    f"default_format must be one of {names}, got {default_format!r}"
                ) from None
        self.renderer = Renderer(
            catalogue=catalogue,
            template_dirs=template_dirs,
            default_format=default_format,
            site_name=site_name,
            home_url=home_url,
            contact_url=contact_url,
            show_developer_info=show_developer_info,
            problem_type=problem_type,
            problem_instance=problem_instance,
            frame_ancestors=frame_ancestors,
        )
        # Per status: the headers the catalogue says still matter when its response is replaced.
        self._matters: dict[int, frozenset[str]] = {}
        self._prepared: dict[tuple[object, ...], Prepared] = {}
        # The request ID's stand-in while a Prepared is rendered: cut to the ID's length, so text
        # laid out around it (the plain-text format wraps at 80 columns) comes out the same.
        self._stand_in = "Q" + secrets.token_hex(64)

    # -- decisions on the response --------------------------------------------------------------

    def intercepts(self, status: int) -> bool:
        """Whether a response with this status is replaced; the only check on the pass-through path."""
        return status in self.intercept

    def leaves_alone(self, headers: Sequence[tuple[str, str]]) -> bool:
        """An app that already answered ``application/problem+json`` has formatted its own error."""
        if self.replace_problem_details:
            return False
        media_type = (_media_type(headers) or "").split(";", 1)[0].strip().lower()
        return media_type in ("application/problem+json", "application/problem+xml")

    def collector(self, status: int, headers: Sequence[tuple[str, str]]) -> DetailCollector:
        """A collector for the replaced body; collects nothing when app details are switched off.

        Nor from a compressed body (a GZip middleware inside this one): read as text it would put
        gibberish on the page, so its detail is given up instead.
        """
        media_type: str | None = None
        encoded = False
        for name, value in headers:
            lower = name.lower()
            if lower == "content-type":
                if media_type is None:
                    media_type = value
            elif lower == "content-encoding" and value.strip().lower() not in ("", "identity"):
                encoded = True
        limit = DETAIL_LIMIT if self.use_app_detail and not encoded else 0
        return DetailCollector(media_type, limit, self.catalogue.get(status).title)

    # -- request IDs ----------------------------------------------------------------------------

    def request_id(self, headers: Mapping[str, str]) -> str:
        """The first valid incoming request ID among the configured headers, else a new one."""
        for name in self.request_id_headers:
            value = headers.get(name)
            if not value:
                continue
            value = value.strip()
            if name == "traceparent":
                match = _TRACEPARENT.fullmatch(value.lower())
                if match and match.group(1) != "0" * 32:
                    return match.group(1)
                continue
            if _SAFE_REQUEST_ID.fullmatch(value):
                return value
        return self.new_request_id()

    @staticmethod
    def new_request_id() -> str:
        """A fresh request ID, for a request that brought none: what ``uuid.uuid4().hex`` gives."""
        while True:
            try:
                return _fresh_ids.pop()  # atomic: no two threads get the same one
            except IndexError:
                # Other threads may empty the new batch before this one pops: then try again.
                _fresh_ids.extend(_make_request_ids())

    # -- producing the replacement --------------------------------------------------------------

    def respond(
        self,
        status: int,
        request: RequestInfo,
        *,
        request_id: str,
        original_headers: Sequence[tuple[str, str]] = (),
        detail: str | None = None,
        exception: BaseException | None = None,
    ) -> RenderedError:
        """The friendly response that replaces ``status`` (100 to 999); the renderer never raises."""
        retry_after_header: str | None = None
        kept: list[tuple[str, str]] = []
        vary: list[str] = []
        content_type: str | None = None
        info = self.catalogue.get(status)
        matters = self._matters.get(status)
        if matters is None:
            matters = self._matters[status] = frozenset(h.lower() for h in info.headers)
        for name, value in original_headers:
            lower = name.lower()
            if lower == "content-type" and content_type is None:
                content_type = value
            if lower == "vary":
                vary.extend(v.strip() for v in value.split(",") if v.strip())
            elif lower == "retry-after":
                retry_after_header = value
                kept.append((name, value))
            elif (
                lower in self._keep_exact
                or (lower in matters and lower not in _BODY_HEADERS)
                or lower.startswith(self._keep_prefixes)
            ):
                kept.append((name, value))
        retry_after = _seconds(retry_after_header) if retry_after_header else info.retry_after
        rendered = self.renderer.render(
            status,
            request,
            request_id=request_id,
            detail=detail if self.use_app_detail else None,
            traceback=format_exception(exception) if self.debug and exception else None,
            retry_after=retry_after,
            response_content_type=content_type,
        )
        # The renderer hands out a new list each time: completed in place, it is ours to return.
        headers = rendered.headers
        if vary:
            for index, (name, value) in enumerate(headers):
                if name.lower() == "vary":
                    headers[index] = (name, _merge_vary(value, vary))
        headers.extend(kept)
        if retry_after_header is None and info.retry_after is not None:
            headers.append(("Retry-After", str(info.retry_after)))
        if self.request_id_response_header:
            headers.append((self.request_id_response_header, request_id))
        return rendered

    def prepared(
        self,
        key: tuple[object, ...],
        incoming_ids: Mapping[str, str] | None,
        status: int,
        original_headers: Sequence[tuple[str, str]],
        detail: str | None,
        request_info: Callable[[_Source], RequestInfo],
        source: _Source,
    ) -> tuple[Prepared | RenderedError | None, str]:
        """The response to a repeat of the inputs in ``key``, from the memo when it is recent; and
        the request's ID.

        ``key`` holds, in any form the glue likes (raw bytes, say), everything :meth:`respond`
        depends on for a response without an exception but the ID: the status, the method, path
        and query, the request's Accept, Accept-Language and X-Requested-With, the replaced
        response's headers and the app's detail. ``incoming_ids`` are the request's values of the
        ``request_id_headers`` (None for none). ``status``, ``original_headers`` and ``detail`` are
        what :meth:`respond` gets, and ``request_info(source)`` builds the request it needs, only
        when something is rendered.

        Returns a :class:`Prepared` to fill in with the ID when the memo has one for this second;
        else the response rendered for this very request, to send as it is (and, when it can be
        repeated, kept for the next ones); or None, before any rendering, when the memo cannot
        serve these inputs (an ID that some format would write differently, inputs too long or
        unhashable, output found not to repeat earlier): the glue then renders in full.
        """
        fresh_id = incoming_ids is None
        if incoming_ids is None:
            request_id = self.new_request_id()
        else:
            request_id = self.request_id(incoming_ids)
            if _PLAIN_REQUEST_ID.fullmatch(request_id) is None:
                return None, request_id
        if type(status) is not int:
            return None, request_id  # exact types only: 503.0 == 503 would find 503's entries
        # The ID's length is part of the inputs: the page is laid out around it.
        key = (*key, len(request_id))
        second = int(time.time())
        try:
            found = self._prepared.get(key)
        except TypeError:  # something unhashable, a bytearray header value say
            return None, request_id
        if found is not None:
            if found is _NOT_REUSABLE:
                return None, request_id
            if found.second == second:
                return found, request_id
        elif _size(key) > _PREPARED_INPUTS:
            return None, request_id  # long inputs, which a client may vary at will, are not kept

        def render(shown_id: str) -> RenderedError:
            return self.respond(
                status,
                request_info(source),
                request_id=shown_id,
                original_headers=original_headers,
                detail=detail,
            )

        # This request's own response first: whatever the memo makes of it, it is right for it.
        rendered = render(request_id)
        if not self.renderer.repeatable(rendered, detail):
            # Decided by the inputs alone, so it holds for every later request with this key.
            self._remember_prepared(key, _NOT_REUSABLE)
            return rendered, request_id
        # Cut where the ID goes. A fresh ID is random and was never seen before, so it marks its
        # own places; one the client chose may also stand in its path or detail, so a second render
        # (cheap: the page memo has it) with a random stand-in of the same length is cut instead.
        hole = request_id if fresh_id else self._stand_in[: len(request_id)]
        found = self._cut(rendered if fresh_id else render(hole), hole, second)
        if found is None:
            self._remember_prepared(key, _NOT_REUSABLE)
        elif int(time.time()) == second:
            # A render that straddled the turn of a second shows the new one: not worth keeping.
            self._remember_prepared(key, found)
        return rendered, request_id

    def _cut(self, rendered: RenderedError, hole: str, second: int) -> Prepared | None:
        """``rendered`` cut where ``hole`` stands for the request ID, if it is framed as expected."""
        headers = rendered.headers
        header = self.request_id_response_header
        lengths = [i for i, (name, _) in enumerate(headers) if name == "Content-Length"]
        body = rendered.body
        if (
            rendered.fallback
            or len(lengths) != 1
            or headers[lengths[0]][1] != str(len(body))
            or (header is not None and headers[-1] != (header, hole))
            or any(
                isinstance(value, str) and hole in value
                for _, value in headers[: -1 if header else None]
            )
            # Every trace of the ID is whole, none cut by a line break or a shortening.
            or body.count(hole[:8].encode("ascii")) != body.count(hole.encode("ascii"))
        ):
            return None
        return Prepared(rendered, hole, second, lengths[0], header)

    def _remember_prepared(self, key: tuple[object, ...], value: Prepared) -> None:
        if len(self._prepared) >= _PREPARED_LIMIT:
            self._prepared.clear()  # bounded: starts over when full
        self._prepared[key] = value

    # -- reporting ------------------------------------------------------------------------------

    def report(
        self,
        status: int,
        request: RequestInfo,
        *,
        request_id: str,
        scope: Mapping[str, Any],
        exception: BaseException | None = None,
    ) -> Awaitable[None] | None:
        """Log an exception once and call the hook; returns the hook's awaitable for async glue.

        A failing hook is logged and swallowed: the visitor still gets a page.
        """
        if exception is not None:
            logger.error(
                # %r: the path comes from the client, and a decoded %0a must not forge a log line.
                "Unhandled exception while serving %r %r (request ID %s)",
                request.method,
                request.path,
                request_id,
                exc_info=exception,
            )
        if self.on_error is None:
            return None
        event = ErrorEvent(status, exception, request_id, scope, request)
        try:
            result = self.on_error(event)
        except Exception:
            logger.exception("on_error hook failed (request ID %s)", request_id)
            return None
        if inspect.isawaitable(result):
            return _guarded(result, request_id)
        return None


async def _guarded(result: Awaitable[None], request_id: str) -> None:
    try:
        await result
    except Exception:
        logger.exception("on_error hook failed (request ID %s)", request_id)


# Even when the catalogue says a header matters for a code, these described the old body.
_BODY_HEADERS: Final = frozenset(
    {
        "content-length",
        "content-encoding",
        "content-type",
        "content-language",
        "content-location",
        "content-md5",
        "etag",
        "last-modified",
        "transfer-encoding",
    }
)


def format_exception(exception: BaseException) -> str:
    """The traceback with its chain and group members, and never any local variable's value."""
    return "".join(traceback.format_exception(type(exception), exception, exception.__traceback__))


def _merge_vary(ours: str, theirs: list[str]) -> str:
    if "*" in theirs:
        return "*"
    seen: dict[str, str] = {}
    for item in [v.strip() for v in ours.split(",")] + theirs:
        seen.setdefault(item.lower(), item)
    return ", ".join(seen.values())


def _seconds(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, not {value!r}")
    return value


def _parse_intercept(intercept: Iterable[int | str] | None) -> frozenset[int]:
    """Status codes to replace: ints or class strings such as ``"5xx"``; only 4xx and up."""
    if intercept is None:
        return frozenset(range(500, 600))
    if isinstance(intercept, (str, bytes)) or not isinstance(intercept, Iterable):
        raise TypeError("intercept must be a collection of status codes such as range(500, 600)")
    codes: set[int] = set()
    for item in intercept:
        if isinstance(item, str) and re.fullmatch(r"[4-9]xx", item.strip().lower()):
            base = int(item.strip()[0]) * 100
            codes.update(range(base, base + 100))
        elif isinstance(item, int) and not isinstance(item, bool) and 400 <= item <= 999:
            codes.add(item)
        else:
            raise ValueError(
                "intercept: each item must be a status code from 400 to 999 or a class such as "
                f"'5xx', got {item!r}"
            )
    return frozenset(codes)


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


# Fresh request IDs are made 64 at a time: a getrandom call per error was a tenth of what a repeated
# error costs in process. A forked worker drops what it inherited, so no two processes hand out the
# same IDs (gunicorn --preload, multiprocessing).
_ID_BATCH: Final = 64
_fresh_ids: list[str] = []
# The version (4) and variant (RFC 4122) bits of a UUID, set on every byte at once.
_VERSION: Final = bytes(b & 0x0F | 0x40 for b in range(256))
_VARIANT: Final = bytes(b & 0x3F | 0x80 for b in range(256))
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_ids.clear)


def _make_request_ids() -> list[str]:
    raw = bytearray(os.urandom(16 * _ID_BATCH))
    raw[6::16] = raw[6::16].translate(_VERSION)
    raw[8::16] = raw[8::16].translate(_VARIANT)
    text = raw.hex()
    return [text[start : start + 32] for start in range(0, 32 * _ID_BATCH, 32)]


def _size(key: tuple[object, ...]) -> int:
    """Roughly how much a memo key keeps alive: the lengths of its strings, in nested tuples too.

    Anything else counts for nothing: a WSGI app may pass a header value that is not a string.
    """
    total = 0
    for item in key:
        if isinstance(item, (str, bytes)):
            total += len(item)
        elif isinstance(item, tuple):
            total += _size(item)
    return total


def _parse_header_names(
    option: str, names: Iterable[str], *, allow_wildcard: bool = False
) -> tuple[str, ...]:
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise TypeError(f"{option} must be a list of header names")
    result: list[str] = []
    for name in names:
        check = (
            name[:-1] if allow_wildcard and isinstance(name, str) and name.endswith("*") else name
        )
        if not isinstance(check, str) or not _TOKEN.fullmatch(check):
            raise ValueError(f"{option}: {name!r} is not a valid header name")
        result.append(name.lower())
    return tuple(result)
