"""``friendly-errors export``: the error pages as static files, with configuration for five proxies.

The middleware can only replace errors that reach the application. When the proxy in front cannot
reach it at all (the app is down: 502; too slow: 504) the proxy answers alone, with its own bare page.
Exporting the same pages as files lets nginx, Apache, Caddy and HAProxy serve them at exactly that
moment, and the snippets written beside them say how. Pages are rendered by the same
:class:`~friendly_errors.rendering.Renderer` as the middleware, from the same options, so the outage
page looks like every other error page of the site.

A static page cannot know the request it answers. Pages carry the placeholders
:data:`STATIC_REQUEST_ID` and :data:`STATIC_TIME` where the request ID and time would be; the nginx
snippet replaces them per request (``sub_filter``), the other servers show them as they are.

The export is atomic: everything is written to a temporary directory beside the target and renamed
into place at the end, so a failure (an unwritable disk, a broken template) leaves the target as it
was, and a proxy reading it never sees half an export. Replacing an earlier export takes two renames,
between which the directory is absent for an instant.
"""

from __future__ import annotations

import http
import logging
import os
import re
import shutil
import tempfile
import textwrap
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final

from friendly_errors import _langtags
from friendly_errors.core import ErrorHandler
from friendly_errors.negotiation import Format
from friendly_errors.rendering import RenderedError, RequestInfo

__all__ = [
    "DEFAULT_FORMATS",
    "STATIC_REQUEST_ID",
    "STATIC_TIME",
    "ExportError",
    "ExportResult",
    "export",
]

#: HTML for browsers, problem+json for API clients, text for terminals: what the middleware serves.
DEFAULT_FORMATS: Final = (Format.HTML, Format.JSON, Format.TEXT)
#: Shown where a rendered page has the request ID; the nginx snippet puts ``$request_id`` there.
STATIC_REQUEST_ID: Final = "unknown (static page)"
#: Shown as the time of the error: a date nobody mistakes for a real one. nginx fills in the time.
STATIC_TIME: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)
_STATIC_TIME_TEXT: Final = "1970-01-01T00:00:00Z"
#: What the support block shows as the request line: the page is the same for every address.
_STATIC_PATH: Final = "(this address)"
#: The URL prefix under which the web servers serve the pages internally.
URL_PREFIX: Final = "/__friendly_errors"
_MARKER: Final = ".friendly-errors-export"
# HAProxy keeps an errorfile in one buffer and refuses (or cuts) a bigger one: the limit is
# tune.bufsize minus tune.maxrewrite, 16384 - 1024 by default (HAProxy configuration manual,
# "errorfile").
HAPROXY_LIMIT: Final = 16384 - 1024
# The codes HAProxy 2.4 and later accept in an errorfile; it ignores others with a warning.
HAPROXY_CODES: Final = frozenset(
    {400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504}
)
# Apache refuses an ErrorDocument for a status it has no reason phrase for (httpd's status_lines),
# which rules out every unofficial code such as Cloudflare's 52x.
APACHE_CODES: Final = frozenset(
    {*range(400, 419), 421, 422, 423, 424, 426, 428, 429, 431, 451, *range(500, 509), 510, 511}
)
# Characters that cannot be written safely into all five configuration languages, even quoted:
# quotes and backslashes end or escape strings, "$" starts an nginx variable, braces a Caddy
# placeholder, ";" and "#" end an nginx directive or start a comment.
_UNSAFE_PATH: Final = re.compile(r"[\"'\\$`{}#;\x00-\x1f\x7f]")


class ExportError(Exception):
    """The export could not be written; nothing was changed. The message says why in one line."""


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote, for the command to report."""

    directory: Path
    #: Every file written, relative to ``directory``, in the order written.
    files: tuple[str, ...]
    pages: int
    #: Things that were written differently than asked, such as a page too big for HAProxy.
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class _Page:
    code: int
    locale: str
    format: Format
    rendered: RenderedError

    @property
    def name(self) -> str:
        return f"pages/{self.locale}/{self.code}.{self.format.extension}"

    def header(self, name: str) -> str | None:
        lower = name.lower()
        return next((v for n, v in self.rendered.headers if n.lower() == lower), None)


def export(
    directory: str | os.PathLike[str],
    *,
    codes: Iterable[int],
    formats: Iterable[Format] = DEFAULT_FORMATS,
    locales: Iterable[str] = ("en",),
    error_page_server: str = "http://127.0.0.1:8080",
    **options: Any,
) -> ExportResult:
    """Render ``codes`` in every format and language into ``directory``, with proxy snippets.

    ``options`` are the middleware's (catalogue, template_dirs, site_name, ...), so the pages match
    the ones the app serves. ``error_page_server`` is where the Traefik snippet expects
    ``friendly-errors serve``. ``directory`` must be new, empty or an earlier export, which is
    replaced whole. Raises :class:`ExportError` when nothing could be written.
    """
    handler = ErrorHandler(**options)
    code_list = _check_codes(codes)
    format_list = list(dict.fromkeys(formats))
    if not format_list or not all(isinstance(f, Format) for f in format_list):
        raise ExportError("formats must name at least one of: html, json, txt, xml, md")
    locale_list = _check_locales(locales, handler.catalogue.locales)
    target = Path(os.path.abspath(directory))
    _check_target(target)

    with _rendering_failures() as failures:
        pages = [
            _render(handler, code, locale, fmt)
            for locale in locale_list
            for code in code_list
            for fmt in format_list
        ]
        haproxy_pages, warnings = _haproxy_pages(handler, code_list, locale_list[0], format_list)
    if failures:
        raise ExportError(failures[0])
    # The log is only the message: a logger set above ERROR would hide the failure from it, but
    # never from the response itself.
    for page in pages:
        if page.rendered.fallback:
            raise ExportError(
                f"{page.name}: the page could not be rendered (the friendly_errors log has why)"
            )

    files: list[tuple[str, bytes]] = [(page.name, page.rendered.body) for page in pages]
    files += [(f"haproxy/{code}.http", raw) for code, raw in haproxy_pages]
    snippets = _Snippets(target, pages, code_list, locale_list, format_list, error_page_server)
    files += [
        ("nginx/http.conf", snippets.nginx_http().encode()),
        ("nginx/server.conf", snippets.nginx_server().encode()),
        ("apache.conf", snippets.apache().encode()),
        ("Caddyfile", snippets.caddy().encode()),
        ("haproxy.cfg", snippets.haproxy([code for code, _ in haproxy_pages]).encode()),
        ("traefik.yml", snippets.traefik().encode()),
        ("README.txt", snippets.readme().encode()),
        (
            _MARKER,
            b"written by friendly-errors export; the next export may replace this directory\n",
        ),
    ]
    _write_atomically(target, files)
    return ExportResult(target, tuple(name for name, _ in files), len(pages), tuple(warnings))


# -- checks --------------------------------------------------------------------------------------


def _check_codes(codes: Iterable[int]) -> list[int]:
    found = []
    for code in codes:
        if isinstance(code, bool) or not isinstance(code, int) or not 400 <= code <= 599:
            raise ExportError(
                f"{code!r} is not an error status; export writes pages for 400 to 599"
            )
        found.append(code)
    if not found:
        raise ExportError("no status codes to export")
    return sorted(set(found))


def _check_locales(locales: Iterable[str], available: Sequence[str]) -> list[str]:
    """The languages asked for, spelled as the catalogue spells them (``pt-br`` is ``pt-BR``)."""
    spelled = {_langtags.normalise(tag): tag for tag in available}
    found: list[str] = []
    for locale in locales:
        tag = spelled.get(_langtags.normalise(locale), "")
        if not tag:
            raise ExportError(
                f"the catalogue has no entries in {locale!r} (it has: {', '.join(available)}); "
                "add a catalogue file for that language with --catalogue"
            )
        if tag not in found:
            found.append(tag)
    if not found:
        raise ExportError("no languages to export")
    return found


def _check_target(target: Path) -> None:
    if _UNSAFE_PATH.search(str(target)):
        raise ExportError(
            f"{target}: the path has characters that cannot be written into a web server's "
            "configuration (quotes, backslashes, $, {, }, #, ; or control characters); choose "
            "another directory"
        )
    if target.exists() and not target.is_dir():
        raise ExportError(f"{target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not (target / _MARKER).is_file():
        raise ExportError(
            f"{target} is not empty and does not hold an earlier export; choose a new or empty "
            "directory, so that no file of yours is replaced"
        )
    if not target.parent.is_dir():
        raise ExportError(f"cannot write to {target}: {target.parent} does not exist")


# -- rendering -----------------------------------------------------------------------------------


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        cause = f": {type(exc).__name__}: {exc}" if exc is not None else ""
        self.messages.append(record.getMessage() + cause)


@contextmanager
def _rendering_failures() -> Iterator[list[str]]:
    """Collect what the renderer logs instead of raising.

    The renderer never raises, by design: in a request, a static fallback beats a second error. An
    export has no visitor waiting, and a fallback page written to disk would be served for months, so
    here every logged failure stops the export. The records are kept from the log meanwhile, so the
    command shows one line rather than a traceback.
    """
    source = logging.getLogger("friendly_errors")
    collector = _Collector()
    propagate = source.propagate
    source.addHandler(collector)
    source.propagate = False
    try:
        yield collector.messages
    finally:
        source.removeHandler(collector)
        source.propagate = propagate


def _render(handler: ErrorHandler, code: int, locale: str, fmt: Format) -> _Page:
    request = RequestInfo(
        method="GET",
        path=_STATIC_PATH,
        headers={"accept": fmt.media_type, "accept-language": locale},
    )
    rendered = handler.renderer.render(code, request, request_id=STATIC_REQUEST_ID, now=STATIC_TIME)
    return _Page(code, locale, fmt, rendered)


def _haproxy_pages(
    handler: ErrorHandler, codes: Sequence[int], locale: str, formats: Sequence[Format]
) -> tuple[list[tuple[int, bytes]], list[str]]:
    """Complete raw responses, one per code HAProxy accepts, each within HAProxy's buffer.

    An errorfile has one variant only, so it is the HTML page when that was asked for, else the first
    format; a page over the limit is replaced by its plain-text version, which is a fraction of the
    size, and a warning says so.
    """
    preferred = Format.HTML if Format.HTML in formats else formats[0]
    written: list[tuple[int, bytes]] = []
    warnings: list[str] = []
    for code in codes:
        if code not in HAPROXY_CODES:
            continue
        raw = _raw_response(_render(handler, code, locale, preferred))
        sizes = [f"{len(raw)} bytes as {preferred.value}"]
        if len(raw) > HAPROXY_LIMIT and preferred is not Format.TEXT:
            raw = _raw_response(_render(handler, code, locale, Format.TEXT))
            sizes.append(f"{len(raw)} as text")
        if len(raw) > HAPROXY_LIMIT:
            warnings.append(
                f"haproxy/{code}.http: not written, the response would be {' and '.join(sizes)}, "
                f"over HAProxy's default errorfile limit of {HAPROXY_LIMIT} bytes"
            )
            continue
        if len(sizes) > 1:
            warnings.append(
                f"haproxy/{code}.http: the {sizes[0]} is over HAProxy's default errorfile limit of "
                f"{HAPROXY_LIMIT} bytes; wrote the plain-text page instead"
            )
        written.append((code, raw))
    return written, warnings


# Headers of the rendered page that still hold for a file sent to every client; Vary does not,
# since HAProxy sends one variant whatever was asked.
_RAW_HEADERS: Final = (
    "Content-Type",
    "Content-Language",
    "Cache-Control",
    "X-Content-Type-Options",
    "Content-Security-Policy",
    "Referrer-Policy",
)


def _raw_response(page: _Page) -> bytes:
    """The whole HTTP/1.1 response HAProxy sends byte for byte: status line, headers, CRLFs, body."""
    body = page.rendered.body
    lines = [f"HTTP/1.1 {page.code} {_reason(page.code)}"]
    for name in _RAW_HEADERS:
        value = page.header(name)
        if value is not None:
            lines.append(f"{name}: {value}")
    lines.append(f"Content-Length: {len(body)}")
    # HAProxy closes after an errorfile; saying so keeps a client from waiting on the connection.
    lines.append("Connection: close")
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head.encode("latin-1") + body


def _reason(code: int) -> str:
    # Every code HAProxy takes an errorfile for is a registered one, with a standard phrase.
    return http.HTTPStatus(code).phrase


# -- configuration snippets ----------------------------------------------------------------------


def _ranges(codes: Sequence[int]) -> list[str]:
    """``[502, 503, 504, 520]`` as ``["502-504", "520"]``, the notation Traefik's status list uses."""
    spans: list[list[int]] = []
    for code in codes:
        if spans and code == spans[-1][1] + 1:
            spans[-1][1] = code
        else:
            spans.append([code, code])
    return [str(a) if a == b else f"{a}-{b}" for a, b in spans]


def _wrap_codes(prefix: str, codes: Sequence[int], indent: str = "") -> list[str]:
    return textwrap.wrap(
        " ".join(str(c) for c in codes),
        width=96,
        initial_indent=indent + prefix,
        subsequent_indent=indent + " " * len(prefix),
    )


# What each format is called in configuration: its file extension, and the Accept pattern that picks
# it, most telling first. Only agents name text/markdown, and they often add text/html after it;
# browsers put text/html first, so any other request that mentions it gets the page.
_ACCEPT_PATTERNS: Final = (
    (Format.MARKDOWN, "text/markdown"),
    (Format.HTML, "text/html"),
    (Format.JSON, "json"),
    (Format.XML, "xml"),
    (Format.TEXT, "text/plain"),
)
_MEDIA_TYPES: Final = {
    Format.HTML: "text/html",
    Format.JSON: "application/problem+json",
    Format.TEXT: "text/plain",
    Format.XML: "application/problem+xml",
    Format.MARKDOWN: "text/markdown",
}


class _Snippets:
    """The configuration text for each server, built from what was actually rendered."""

    def __init__(
        self,
        target: Path,
        pages: Sequence[_Page],
        codes: Sequence[int],
        locales: Sequence[str],
        formats: Sequence[Format],
        error_page_server: str,
    ) -> None:
        self.target = target
        self.pages_dir = target / "pages"
        self.pages = pages
        self.codes = codes
        self.locales = locales
        self.formats = formats
        self.default_format = Format.HTML if Format.HTML in formats else formats[0]
        self.error_page_server = error_page_server

    def _header(self, *where: str) -> list[str]:
        return [
            "# friendly_errors: error pages exported by `friendly-errors export`.",
            *(f"# {line}" for line in where),
            f"# Pages: {self.pages_dir}",
            "",
        ]

    def _policies(self) -> dict[str, str]:
        """The Content-Security-Policy of each HTML page, by its URL under the internal prefix."""
        return {
            f"{URL_PREFIX}/{page.locale}/{page.code}.html": policy
            for page in self.pages
            if page.format is Format.HTML and (policy := page.header("Content-Security-Policy"))
        }

    # nginx ---------------------------------------------------------------------------------------

    def nginx_http(self) -> str:
        lines = self._header("Include once inside the http { } block, before nginx/server.conf.")
        lines += [
            "# The variant to send, from the Accept header: browsers list text/html first and get the",
            "# page; API clients asking for JSON get RFC 9457 problem details. A map cannot weigh",
            "# q-values, so the first pattern found decides.",
            "map $http_accept $friendly_errors_ext {",
            f"    default {self.default_format.extension};",
        ]
        for fmt, pattern in _ACCEPT_PATTERNS:
            if fmt in self.formats:
                lines.append(f'    "~*{pattern}" {fmt.extension};')
        lines += [
            "}",
            "",
            "# The language: the first one the client lists, when it was exported.",
            "map $http_accept_language $friendly_errors_lang {",
            f"    default {self.locales[0]};",
        ]
        for locale in sorted(self.locales[1:], key=len, reverse=True):
            lines.append(f'    "~*^{re.escape(locale)}" {locale};')
        lines += [
            "}",
            "",
            "# The HTML pages' Content-Security-Policy: it allows their inline styles by hash.",
            "map $uri $friendly_errors_csp {",
            '    default "";',
        ]
        for url, policy in self._policies().items():
            lines.append(f'    {url} "{policy}";')
        lines += ["}", ""]
        return "\n".join(lines)

    def nginx_server(self) -> str:
        lines = self._header("Include inside each server { } block that should use the pages.")
        lines += [
            "# Errors nginx raises itself (upstream down: 502, too slow: 504) use these pages at once.",
            "# For errors the upstream returns, also set `proxy_intercept_errors on;`.",
        ]
        for code in self.codes:
            lines.append(
                f"error_page {code} {URL_PREFIX}/$friendly_errors_lang/{code}.$friendly_errors_ext;"
            )
        types = " ".join(f"{_MEDIA_TYPES[f]} {f.extension};" for f in self.formats)
        # nginx always adds the charset to text/html; the other types have to be named.
        charset_types = " ".join(_MEDIA_TYPES[f] for f in self.formats if f is not Format.HTML)
        lines += [
            "",
            f"location ^~ {URL_PREFIX}/ {{",
            "    internal;",
            f'    alias "{self.pages_dir}/";',
            f"    types {{ {types} }}",
            "    charset utf-8;",
            *([f"    charset_types {charset_types};"] if charset_types else []),
            '    add_header Cache-Control "no-store" always;',
            '    add_header Vary "Accept, Accept-Language" always;',
            '    add_header X-Content-Type-Options "nosniff" always;',
            "    add_header Content-Language $friendly_errors_lang always;",
            "    add_header Content-Security-Policy $friendly_errors_csp always;",
            '    add_header Referrer-Policy "no-referrer" always;',
            "    add_header X-Request-ID $request_id always;",
            "    # A static page cannot know the request: put this request's ID and time in it.",
            f'    sub_filter "{STATIC_REQUEST_ID}" $request_id;',
            f'    sub_filter "{_STATIC_TIME_TEXT}" $time_iso8601;',
            "    sub_filter_once off;",
            "    sub_filter_types *;",
            "}",
            "",
        ]
        return "\n".join(lines)

    # Apache --------------------------------------------------------------------------------------

    def apache(self) -> str:
        locale = self.locales[0]
        directory = self.pages_dir / locale
        codes = [c for c in self.codes if c in APACHE_CODES]
        skipped = [c for c in self.codes if c not in APACHE_CODES]
        lines = self._header(
            "Apache 2.4: include inside a <VirtualHost>; needs mod_alias and mod_headers."
        )
        lines += [
            f"# Apache sends one variant: the {self.default_format.value} page in {locale!r}.",
        ]
        if skipped:
            lines += _wrap_codes(
                "# Apache refuses ErrorDocument for codes it has no reason phrase for: ", skipped
            )
        lines += [
            f'Alias {URL_PREFIX}/ "{directory}/"',
            f'<Directory "{directory}">',
            "    Require all granted",
            "    Options None",
            "    # Only as an ErrorDocument, like nginx's `internal`: asked for by its address, a page",
            "    # is not found. Apache sets REDIRECT_STATUS on the internal redirect to an ErrorDocument.",
            '    <If "-z %{ENV:REDIRECT_STATUS}">',
            "        Redirect 404",
            "    </If>",
            # Named here rather than left to mime.types, which may lack the problem types.
            *(f"    AddType {_MEDIA_TYPES[f]} .{f.extension}" for f in self.formats),
            "    AddCharset utf-8 .html .txt .json .xml .md",
            '    Header always set Cache-Control "no-store"',
            '    Header always set X-Content-Type-Options "nosniff"',
            f'    Header always set Content-Language "{locale}"',
            '    Header always set Referrer-Policy "no-referrer"',
        ]
        policies = {
            url.rsplit("/", 1)[1]: policy
            for url, policy in self._policies().items()
            if url.startswith(f"{URL_PREFIX}/{locale}/")
        }
        if policies:
            # Pages from the same templates share one policy; a page whose own template adds a
            # style gets its policy in a <Files> section, which Apache applies after <Directory>.
            common = Counter(policies.values()).most_common(1)[0][0]
            lines.append(f'    Header always set Content-Security-Policy "{common}"')
            for name, policy in policies.items():
                if policy != common:
                    lines += [
                        f'    <Files "{name}">',
                        f'        Header always set Content-Security-Policy "{policy}"',
                        "    </Files>",
                    ]
        lines += [
            "</Directory>",
            "",
            "# When Apache proxies to the app, keep these pages local, and let Apache use them for",
            "# the errors the app returns too:",
            f"#   ProxyPass {URL_PREFIX}/ !",
            "#   ProxyErrorOverride On",
        ]
        ext = self.default_format.extension
        lines += [f"ErrorDocument {code} {URL_PREFIX}/{code}.{ext}" for code in codes]
        lines.append("")
        return "\n".join(lines)

    # Caddy ---------------------------------------------------------------------------------------

    def caddy(self) -> str:
        locale = self.locales[0]
        lines = self._header("Caddy 2.8 or later: paste inside a site block.")
        lines += _wrap_codes("handle_errors ", self.codes)
        lines[-1] += " {"
        lines += [
            f'\troot * "{self.pages_dir / locale}"',
            "\t# The variant to send, from the Accept header (browsers list text/html first).",
            "\tmap {header.Accept} {friendly_errors_ext} {",
        ]
        for fmt, pattern in _ACCEPT_PATTERNS:
            if fmt in self.formats:
                lines.append(f"\t\t~(?i){re.escape(pattern)} {fmt.extension}")
        lines += [
            f"\t\tdefault {self.default_format.extension}",
            "\t}",
            "\trewrite * /{err.status_code}.{friendly_errors_ext}",
            "\theader Cache-Control no-store",
            '\theader Vary "Accept, Accept-Language"',
            "\theader X-Content-Type-Options nosniff",
            "\tfile_server",
            "}",
            "",
        ]
        return "\n".join(lines)

    # HAProxy -------------------------------------------------------------------------------------

    def haproxy(self, codes: Sequence[int]) -> str:
        lines = self._header("HAProxy 2.4 or later: add to haproxy.cfg.")
        lines += [
            "# Each file is a complete HTTP response, sent as it is. HAProxy accepts errorfiles only for",
            "# the codes it can produce itself, and only up to tune.bufsize - tune.maxrewrite bytes.",
            "http-errors friendly_errors",
        ]
        lines += [f'    errorfile {code} "{self.target}/haproxy/{code}.http"' for code in codes]
        lines += [
            "",
            "# Then, in the defaults, frontend or backend section that should use them:",
            "#     errorfiles friendly_errors",
            "# errorfile covers the errors HAProxy raises itself (no server up, timeouts). To use a",
            "# page for an error a server returns as well, for example its own 503:",
            "#     http-response return status 503 errorfiles friendly_errors if { status 503 }",
            "",
        ]
        return "\n".join(lines)

    # Traefik -------------------------------------------------------------------------------------

    def traefik(self) -> str:
        lines = self._header(
            "Traefik v2 or v3, file provider (dynamic configuration). Traefik fetches error pages",
            "from a service rather than from files, so this points at `friendly-errors serve`, which",
            "renders each page per request from the Accept header Traefik forwards.",
        )
        lines += [
            "http:",
            "  middlewares:",
            "    friendly-errors:",
            "      errors:",
            "        status:",
            *[f'          - "{span}"' for span in _ranges(self.codes)],
            "        service: friendly-errors",
            '        query: "/{status}"',
            "  services:",
            "    friendly-errors:",
            "      loadBalancer:",
            "        servers:",
            f'          - url: "{self.error_page_server}"',
            "",
            "# Attach the middleware to a router: middlewares: [friendly-errors]",
            "",
        ]
        return "\n".join(lines)

    # README --------------------------------------------------------------------------------------

    def readme(self) -> str:
        formats = ", ".join(f.extension for f in self.formats)
        return textwrap.dedent(
            f"""\
            friendly_errors static error pages
            ==================================

            Written by `friendly-errors export`. A later export replaces this directory whole.

            pages/LANG/CODE.EXT  the pages: {len(self.codes)} codes, formats {formats},
                                 languages {", ".join(self.locales)}
            haproxy/CODE.http    complete HTTP responses for HAProxy's errorfile
            nginx/http.conf      include inside http {{ }}
            nginx/server.conf    include inside server {{ }}
            apache.conf          include inside <VirtualHost>
            Caddyfile            paste inside a site block
            haproxy.cfg          an http-errors section
            traefik.yml          errors middleware, served by `friendly-errors serve`

            A static page cannot know the request it answers. Where the request ID
            and time would be, the pages say "{STATIC_REQUEST_ID}" and
            {_STATIC_TIME_TEXT}; the nginx snippet replaces both for each request and
            sends the ID in an X-Request-ID header.
            """
        )


# -- writing -------------------------------------------------------------------------------------


def _write_atomically(target: Path, files: Sequence[tuple[str, bytes]]) -> None:
    """Write ``files`` into a fresh directory beside ``target``, then put it in ``target``'s place.

    The temporary directory is on the same file system as ``target``, so the final step is a rename,
    which either happens whole or not at all. On any failure the temporary directory is removed and
    ``target`` is left as it was.
    """
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as exc:
        raise ExportError(f"cannot write to {target}: {exc.strerror or exc}") from None
    try:
        for name, data in files:
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        # mkdtemp creates the directory readable by its owner only; a web server running as another
        # user must be able to read the pages.
        for path in (staging, *staging.rglob("*")):
            path.chmod(0o755 if path.is_dir() else 0o644)
        _swap_into_place(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ExportError(f"cannot write to {target}: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_into_place(staging: Path, target: Path) -> None:
    if not target.exists() or not any(target.iterdir()):
        # POSIX rename replaces an empty directory in one step.
        os.replace(staging, target)
        return
    # An earlier export: move it aside, move the new one in, then delete the old one. If anything
    # stops the second rename (an error, Ctrl+C) the old export goes back. Between the two renames
    # the directory is absent for an instant: Python has no portable atomic exchange of two
    # directories, so a reader may then miss a file, but never reads half of one.
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    try:
        os.replace(target, old)
    except BaseException:
        old.rmdir()
        raise
    try:
        os.replace(staging, target)
    except BaseException:
        # Whatever stopped us (an OSError, Ctrl+C, SIGTERM), the earlier export goes back.
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
