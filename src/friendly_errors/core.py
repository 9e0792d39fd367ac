"""The sans-IO heart that both middlewares share.

Everything that decides *what* to send lives here: which statuses are replaced, which of the original
headers survive, what the app said about its own error, which request ID to show, what a debug page
may reveal, and how the ``on_error`` hook is told. The ASGI and WSGI modules only move bytes.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import os
import re
import secrets
import traceback
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from friendly_errors import _bypass
from friendly_errors.catalogue import Catalogue
from friendly_errors.maintenance import Maintenance, MaintenanceFile, MaintenanceSource
from friendly_errors.negotiation import Format
from friendly_errors.rendering import RenderedError, Renderer, RequestInfo

__all__ = [
    "ANSWERED_KEY",
    "DEFAULT_REQUEST_ID_HEADERS",
    "DetailCollector",
    "ErrorEvent",
    "ErrorHandler",
    "OnError",
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
#: Set in the ASGI scope or WSGI environ, to the request ID, once an instance of the middleware has
#: answered: an instance further out then passes that page on untouched, so a request has one page,
#: one ID and one hook call however many times the middleware is installed (#11).
ANSWERED_KEY: Final = "friendly_errors.request_id"

#: How much of a replaced body is kept to look for the app's own explanation; the rest is drained.
DETAIL_LIMIT: Final = 8192
#: The app's own explanation is quoted only when it is one short paragraph: at most this many
#: characters on at most this many lines. Anything longer is a page of its own, or a traceback from an
#: app in its own debug mode, which must not reach a visitor unless debug=True (#11).
DETAIL_MAX_CHARS: Final = 500
DETAIL_MAX_LINES: Final = 5
# What a Python traceback looks like: its header, or a frame line.
_TRACEBACK = re.compile(r'^Traceback \(most recent call last\):|^\s*File "[^"]*", line \d+', re.M)
# Where apps put the explanation of an error in JSON: RFC 9457 and FastAPI, Express-style APIs,
# and Falcon's errors ({"title": ..., "description": ...}).
_JSON_DETAIL_KEYS: Final = ("detail", "message", "error", "description")
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

    @property
    def unseen(self) -> bool:
        """Nothing of the body came: HEAD, or an app that sent only the start."""
        return not self._chunks and not self._overflow

    def detail(self) -> str | None:
        """The app's own explanation, when it gave a short one that says more than the title."""
        if self._overflow or not self._chunks or not self.content_type:
            return None
        return _detail(self.content_type, b"".join(self._chunks), self.title)


def _may_hold_detail(content_type: str | None) -> bool:
    """Whether a body of this type is read for the app's explanation: JSON or plain text."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type in ("application/json", "text/plain") or media_type.endswith("+json")


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
    elif media_type == "text/plain":
        found = text
    if found is None:
        return None
    found = _CONTROL_CHARS.sub("", found).strip()
    if (
        not found
        or len(found) > DETAIL_MAX_CHARS
        or found.count("\n") >= DETAIL_MAX_LINES
        or _TRACEBACK.search(found)
        or found.casefold() == title.casefold()
    ):
        return None
    return found


def _media_type(headers: Sequence[tuple[str, str]]) -> str | None:
    for name, value in headers:
        if name.lower() == "content-type":
            return value
    return None


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
        status_url: str | None = None,
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
        maintenance_file: str | os.PathLike[str] | None = None,
        maintenance: MaintenanceSource | None = None,
        maintenance_bypass_max_age: int = _bypass.DEFAULT_MAX_AGE,
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
            status_url=status_url,
            show_developer_info=show_developer_info,
            problem_type=problem_type,
            problem_instance=problem_instance,
            frame_ancestors=frame_ancestors,
        )
        # Per status: the headers the catalogue says still matter when its response is replaced.
        self._matters: dict[int, frozenset[str]] = {}
        source = _maintenance_source(maintenance_file, maintenance)
        #: Planned downtime (#13): None unless ``maintenance_file`` or ``maintenance`` is given.
        self.maintenance = (
            None
            if source is None
            else Maintenance(
                source,
                handler=self,
                bypass_max_age=_check_max_age(maintenance_bypass_max_age),
            )
        )

    # -- decisions on the response --------------------------------------------------------------

    @staticmethod
    def status_code(status: object) -> int | None:
        """The code of a status as the app sent it, or None when it is not one.

        An ASGI status is an int (exact type: 503.0 == 503, but no server sends it); a WSGI status
        is a line of three digits and a reason phrase ("503 Service Unavailable"), so "5031 X" and
        "abc" are not statuses.
        """
        if isinstance(status, str):
            code = status[:3]
            if code.isdigit() and code.isascii() and status[3:4] in (" ", ""):
                status = int(code)
        if type(status) is int and 100 <= status <= 999:
            return status
        return None

    @staticmethod
    def bad_status(status: object) -> int:
        """What a bad status from the app gets: a log line that names it, and a 500 page."""
        logger.error("The app sent an invalid HTTP status %r; answered 500 instead", status)
        return 500

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
        # 128 random bits as 32 hex digits, the shape of a uuid4's hex at a fifth of its cost:
        # building the UUID object is most of what a uuid4 costs an error response.
        return secrets.token_hex(16)

    # -- producing the replacement --------------------------------------------------------------

    def respond(
        self,
        status: int,
        request: RequestInfo,
        *,
        request_id: str,
        original_headers: Sequence[tuple[str, str]] = (),
        detail: str | None = None,
        detail_unseen: bool = False,
        exception: BaseException | None = None,
        head_body: bool = False,
    ) -> RenderedError:
        """The friendly response that replaces ``status`` (100 to 999); the renderer never raises.

        ``detail_unseen``: the replaced response's body never came (an app that answers HEAD without
        one), so the detail a GET would quote is unknown. Then a HEAD response leaves Content-Length
        out rather than give one that differs from the GET's (RFC 9110 Section 9.3.2).

        ``head_body``: a HEAD response carries the GET's body, for the server to drop. ASGI servers
        do, and Starlette's own responses rely on it: a middleware outside ours (GZip) then sees the
        body it would see for GET, and frames HEAD as it frames GET.
        """
        retry_after_header: str | None = None
        kept: list[tuple[str, str]] = []
        vary: list[str] = []
        content_type: str | None = None
        declared_length: str | None = None
        info = self.catalogue.get(status)
        matters = self._matters.get(status)
        if matters is None:
            matters = self._matters[status] = frozenset(h.lower() for h in info.headers)
        for name, value in original_headers:
            lower = name.lower()
            if lower == "content-type" and content_type is None:
                content_type = value
            elif lower == "content-length":
                declared_length = value.strip()
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
        unknown_length = (
            detail_unseen
            and self.use_app_detail
            and request.method == "HEAD"
            and _may_hold_detail(content_type)
            and declared_length != "0"
        )
        if head_body and request.method == "HEAD" and not unknown_length:
            request = dataclasses.replace(request, method="GET")
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
        if unknown_length:
            headers[:] = [(name, value) for name, value in headers if name != "Content-Length"]
        return rendered

    # -- reporting ------------------------------------------------------------------------------

    def report(
        self,
        status: int,
        request: RequestInfo,
        *,
        request_id: str,
        scope: Mapping[str, Any],
        exception: BaseException | None = None,
        reraised: bool = False,
    ) -> Awaitable[None] | None:
        """Log an exception once and call the hook; returns the hook's awaitable for async glue.

        An exception that the glue re-raises after the page (ASGI) is logged by the server, with the
        request ID added to its notes; one that ends here (WSGI) is logged here. A failing hook is
        logged and swallowed: the visitor still gets a page.
        """
        if exception is not None and reraised:
            if hasattr(exception, "add_note"):  # Python 3.11 and later
                exception.add_note(f"friendly_errors answered with a page, request ID {request_id}")
        elif exception is not None:
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


def _maintenance_source(
    maintenance_file: str | os.PathLike[str] | None, maintenance: MaintenanceSource | None
) -> MaintenanceSource | None:
    """The source of the maintenance state: the file, or the object given; at most one of them."""
    if maintenance_file is not None and maintenance is not None:
        raise ValueError("give maintenance_file or maintenance, not both")
    if maintenance is not None:
        if not isinstance(maintenance, MaintenanceSource) or not callable(maintenance.current):
            raise TypeError(
                "maintenance must be a source of the maintenance state: an object with a "
                f"current() method returning a MaintenanceState or None, not {maintenance!r:.80}"
            )
        return maintenance
    if maintenance_file is None:
        return None
    if not isinstance(maintenance_file, (str, os.PathLike)):
        raise TypeError(f"maintenance_file must be a path, not {type(maintenance_file).__name__}")
    # Absolute now: an app that changes its working directory later still finds the file.
    path = os.path.abspath(maintenance_file)
    if not os.path.isdir(os.path.dirname(path)):
        # A typo here would leave the site open whatever `friendly-errors down` writes.
        raise ValueError(
            f"maintenance_file: {os.fspath(maintenance_file)!r} is in a directory that does "
            f"not exist ({os.path.dirname(path)!r})"
        )
    return MaintenanceFile(path)


def _check_max_age(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"maintenance_bypass_max_age must be a whole number of seconds, not {value!r:.80}"
        )
    if value <= 0:
        raise ValueError(f"maintenance_bypass_max_age must be above 0 seconds, got {value}")
    return value


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
