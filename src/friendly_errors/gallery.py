"""A preview gallery of every error page, for developers customizing templates and catalogues.

Changing a template or a catalogue entry and then provoking each error by hand is slow and misses
codes; the gallery renders any code in any format and language on request, through the same
:class:`~friendly_errors.core.ErrorHandler` the middlewares use, so a preview is byte for byte what the
middleware would send (request ID, time and path aside).

It is a development tool: it answers anyone who can reach it, lists what the catalogue says about
every code and, with ``debug=True``, shows a sample traceback. So it refuses to be built unless the
caller says which situation this is: ``debug=True`` in development, or ``allow_in_production=True``
for a deliberate, protected deployment.

The routes, relative to wherever the app is mounted::

    /                 every code of the catalogue, with links to each format and language
    /{code}           the page for that code, format negotiated from Accept as the middleware does
    /{code}.{ext}     one format: .html, .json, .txt, .xml or .md
      ?lang=fr        the language (instead of Accept-Language)
      ?detail=...     an explanation from the app, shown as the middleware shows one
      ?traceback=1    a sample traceback, with debug=True only

Previews are answered with 200 and the previewed status in ``X-Preview-Status``: the gallery lists
1xx, 204 and 304 too, and those statuses cannot carry a page at all.
"""

from __future__ import annotations

import html
import http
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qs, quote

from friendly_errors import _csp
from friendly_errors._types import Receive, Scope, Send
from friendly_errors.asgi import encode_headers, request_headers
from friendly_errors.core import ErrorHandler
from friendly_errors.negotiation import Format
from friendly_errors.rendering import RequestInfo
from friendly_errors.wsgi import request_headers as environ_headers

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["GalleryASGI", "GalleryWSGI", "gallery_asgi", "gallery_wsgi"]

_PAGE: Final = re.compile(r"/([1-9][0-9]{2})(?:\.(html|json|txt|xml|md))?")
_FORMATS: Final = {fmt.extension: fmt for fmt in Format}
# RFC 9110 Sections 15.2, 15.3.5, 15.3.6 and 15.4.5: the renderer gives these an empty body.
_BODILESS: Final = frozenset({204, 205, 304})
_SAMPLE_REQUEST_ID: Final = "gallery-preview"
_ALLOWED_METHODS: Final = "GET, HEAD"

_INDEX_CSS: Final = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem; }
table { border-collapse: collapse; } th, td { text-align: left; padding: .2rem .6rem; }
tbody tr:nth-child(odd) { background: rgba(127, 127, 127, .1); }
code { font-family: ui-monospace, monospace; }
@media (prefers-color-scheme: dark) { body { background: #18181b; color: #e4e4e7; } a { color: #93c5fd; } }
"""


@dataclass(frozen=True)
class _Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class _SampleError(RuntimeError):
    """Raised and caught once so that the traceback preview is a real one, with a real chain."""


class _Gallery:
    """The protocol-free part: from method, path, query and headers to a complete response."""

    def __init__(
        self, *, debug: bool, allow_in_production: bool, options: Mapping[str, Any]
    ) -> None:
        for name, value in (("debug", debug), ("allow_in_production", allow_in_production)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be True or False, not {value!r}")
        if not (debug or allow_in_production):
            raise RuntimeError(
                "the preview gallery was not started: it shows every error page and what the "
                "catalogue says about every code to anyone who can reach it. Pass debug=True in "
                "development, or allow_in_production=True to expose it on purpose (behind "
                "authentication)."
            )
        self.handler = ErrorHandler(debug=debug, **options)
        self.debug = debug
        self._policy = _csp.policy([_INDEX_CSS], "'none'")

    def handle(
        self, method: str, root: str, path: str, query: str, headers: Mapping[str, str]
    ) -> _Response:
        if method not in ("GET", "HEAD"):
            body = b"The preview gallery only answers GET and HEAD.\n"
            return _Response(
                405,
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    ("Allow", _ALLOWED_METHODS),
                ],
                body,
            )
        if path in ("", "/"):
            body = self._index(root).encode("utf-8")
            return _Response(
                200,
                [
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    ("Cache-Control", "no-store"),
                    ("Content-Security-Policy", self._policy),
                    ("X-Content-Type-Options", "nosniff"),
                ],
                b"" if method == "HEAD" else body,
            )
        params = parse_qs(query)
        request_headers = dict(headers)
        lang = params.get("lang", [""])[-1]
        if lang:
            request_headers["accept-language"] = lang
        match = _PAGE.fullmatch(path)
        if match is None:
            # A real 404, rendered like any other: a mistyped preview URL is itself a preview.
            request = RequestInfo(method, root + path, query, request_headers)
            rendered = self.handler.respond(404, request, request_id=_SAMPLE_REQUEST_ID)
            return _Response(rendered.status, rendered.headers, rendered.body)
        code, extension = int(match.group(1)), match.group(2)
        if extension is not None:
            request_headers["accept"] = _FORMATS[extension].media_type
        exception: BaseException | None = None
        if self.debug and params.get("traceback", [""])[-1] not in ("", "0"):
            exception = _sample_exception()
        request = RequestInfo(method, root + path, query, request_headers)
        rendered = self.handler.respond(
            code,
            request,
            request_id=_SAMPLE_REQUEST_ID,
            detail=params.get("detail", [None])[-1],
            exception=exception,
        )
        headers_out = [*rendered.headers, ("X-Preview-Status", str(rendered.status))]
        return _Response(200, headers_out, rendered.body)

    def _index(self, root: str) -> str:
        catalogue = self.handler.catalogue
        locales = catalogue.locales
        rows = []
        for code in catalogue.codes():
            info = catalogue.get(code)
            if code < 200 or code in _BODILESS:
                links = "<em>no page: this status cannot carry a body</em>"
            else:
                links = " · ".join(
                    f"{html.escape(loc)}: "
                    + " ".join(
                        _link(f"{root}/{code}.{ext}?lang={quote(loc)}", ext) for ext in _FORMATS
                    )
                    for loc in locales
                )
            kind = "" if info.official else " <small>(unofficial)</small>"
            rows.append(
                f"<tr><td>{_link(f'{root}/{code}', str(code))}</td>"
                f"<td>{html.escape(info.title)}{kind}</td><td>{links}</td></tr>"
            )
        traceback_hint = (
            f"add <code>?traceback=1</code> for a sample traceback (for example "
            f"{_link(f'{root}/500.html?traceback=1', '500 with a traceback')}), "
            if self.debug
            else ""
        )
        return "\n".join(
            [
                "<!doctype html>",
                '<html lang="en"><head><meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                '<meta name="robots" content="noindex">',
                "<title>Error page gallery</title>",
                f"<style>{_INDEX_CSS}</style></head><body><main>",
                "<h1>Error page gallery</h1>",
                f"<p>{len(rows)} codes in {len(locales)} language(s): "
                f"{html.escape(', '.join(locales))}. Each page is rendered on request with your "
                "templates and catalogue; "
                f"{traceback_hint}"
                "add <code>?detail=...</code> to preview an explanation from the app. Previews "
                "answer 200; the previewed status is in <code>X-Preview-Status</code>.</p>",
                "<table><thead><tr><th>Code</th><th>Title</th><th>Formats</th></tr></thead>",
                "<tbody>",
                *rows,
                "</tbody></table></main></body></html>",
            ]
        )


def _link(href: str, text: str) -> str:
    return f'<a href="{html.escape(href, quote=True)}">{html.escape(text)}</a>'


def _sample_exception() -> BaseException:
    try:
        try:
            raise KeyError("report_id")
        except KeyError as exc:
            raise _SampleError("a sample exception from the preview gallery") from exc
    except _SampleError as exc:
        return exc


class GalleryASGI:
    """The gallery as an ASGI app; build it with :func:`gallery_asgi`."""

    def __init__(self, gallery: _Gallery) -> None:
        self._gallery = gallery

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            # Mounted apps do not receive lifespan events, and a standalone server may send them:
            # returning tells it there is nothing to start.
            return
        root: str = scope.get("root_path", "")
        path: str = scope.get("path", "/")
        # Starlette's Mount keeps the full path and extends root_path; other routers strip it.
        if root and path.startswith(root):
            path = path[len(root) :]
        headers = request_headers(scope)
        response = self._gallery.handle(
            scope.get("method", "GET"),
            root,
            path,
            scope.get("query_string", b"").decode("latin-1"),
            headers,
        )
        raw = encode_headers(response.headers)
        await send({"type": "http.response.start", "status": response.status, "headers": raw})
        await send({"type": "http.response.body", "body": response.body})


class GalleryWSGI:
    """The gallery as a WSGI app; build it with :func:`gallery_wsgi`."""

    def __init__(self, gallery: _Gallery) -> None:
        self._gallery = gallery

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        headers = environ_headers(environ)
        # PEP 3333 hands over the raw path bytes as latin-1; URLs are UTF-8.
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        response = self._gallery.handle(
            environ.get("REQUEST_METHOD", "GET"),
            environ.get("SCRIPT_NAME", ""),
            path,
            environ.get("QUERY_STRING", ""),
            headers,
        )
        reason = http.HTTPStatus(response.status).phrase
        start_response(f"{response.status} {reason}", response.headers)
        return [response.body]


def gallery_asgi(
    *, debug: bool = False, allow_in_production: bool = False, **options: Any
) -> GalleryASGI:
    """The preview gallery as an ASGI app, rendering with the middleware ``options`` given.

    Pass the same options as to the middleware so the previews show your pages. Raises
    ``RuntimeError`` unless ``debug`` or ``allow_in_production`` is true, and ``TypeError`` or
    ``ValueError`` for an option the middleware would refuse.
    """
    return GalleryASGI(
        _Gallery(debug=debug, allow_in_production=allow_in_production, options=options)
    )


def gallery_wsgi(
    *, debug: bool = False, allow_in_production: bool = False, **options: Any
) -> GalleryWSGI:
    """The preview gallery as a WSGI app; the same routes and checks as :func:`gallery_asgi`."""
    return GalleryWSGI(
        _Gallery(debug=debug, allow_in_production=allow_in_production, options=options)
    )
