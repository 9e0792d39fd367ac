"""From a status code and a request to the status, headers and body of a friendly error response.

This is the sans-IO core both middlewares share: it knows nothing of ASGI or WSGI. :class:`Renderer`
negotiates the format and language, picks the catalogue entry, renders it (HTML and user text and
Markdown through Jinja2, JSON and XML from data, built-in text and Markdown from Python) and frames the
result with the headers every error response needs.

Two promises shape it. Options and user templates are checked when the renderer is built, so a mistake
fails at start-up. And :meth:`Renderer.render` never raises: it runs while an error is being reported,
where raising would turn one failure into two, so anything that goes wrong is logged once and a static
page of the same format and status is served instead.
"""

from __future__ import annotations

import html
import http
import json
import logging
import os
import re
import string
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final, Literal, TypedDict
from urllib.parse import quote

import jinja2
from jinja2 import nodes
from markupsafe import Markup, escape

from friendly_errors import _csp, _langtags, _markdown, _memo, _problem, _text
from friendly_errors._loader import class_key
from friendly_errors.catalogue import DEFAULT_LOCALE, Catalogue, StatusInfo
from friendly_errors.negotiation import (
    Format,
    FormatChoice,
    content_type,
    negotiate_format,
    negotiate_language,
)

__all__ = ["RenderedError", "Renderer", "RequestInfo"]

logger = logging.getLogger("friendly_errors")

#: The built-in page; user templates may extend it and override its blocks.
BUILTIN_TEMPLATE: Final = "friendly_errors/error.html"
#: The built-in maintenance page, which extends the error page (#13).
MAINTENANCE_TEMPLATE: Final = "friendly_errors/maintenance.html"
_BUILTIN_DIR: Final = "friendly_errors"
#: Where the renderer's caches keep the maintenance page, beside the status codes of error pages.
MAINTENANCE: Final[Literal["maintenance"]] = "maintenance"
_Page = int | Literal["maintenance"]


class _Links(TypedDict):
    """The site's links, as the text and Markdown builders take them."""

    site_name: str | None
    home_url: str | None
    contact_url: str | None
    status_url: str | None


@dataclass(frozen=True)
class RequestInfo:
    """What the renderer needs to know about a request, whatever protocol carried it.

    The ASGI and WSGI glue build it: ``path`` already decoded (invalid UTF-8 replaced or
    surrogate-escaped) and header names lower-cased, so nothing here depends on the server.
    """

    method: str
    path: str
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderedError:
    """A complete response: send ``status``, ``headers`` and ``body`` exactly as they are.

    ``body`` is empty for HEAD (whose ``Content-Length`` is still that of the GET body, RFC 9110
    Section 9.3.2) and for statuses that cannot have content.
    """

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    format: Format
    media_type: str
    #: True for the static page served because rendering failed (the failure was logged). A request
    #: is better off with it than with a second error; a static export is not, and checks this.
    fallback: bool = False


# RFC 9110 Sections 15.2, 15.3.5, 15.3.6 and 15.4.5: these responses end at the header section.
_NO_CONTENT: Final = frozenset({204, 205, 304})
_VARY: Final = ("Vary", "Accept, Accept-Language")
_COMMON_HEADERS: Final = (
    ("Cache-Control", "no-store"),
    _VARY,
    ("X-Content-Type-Options", "nosniff"),
)
_REFERRER_POLICY: Final = ("Referrer-Policy", "no-referrer")
_SAFE_METHODS: Final = frozenset({"GET", "HEAD"})
_LANGUAGE_TAG: Final = re.compile(r"[A-Za-z0-9]{1,8}(?:-[A-Za-z0-9]{1,8})*")
# User templates the renderer may select; anything else in a template directory is only checked when
# one of these refers to it.
_SELECTABLE: Final = re.compile(r"(?:[1-9][0-9][0-9]|[1-9]xx|error|maintenance)\.(?:html|txt|md)")
# Characters that may not appear in a URL written into a page or a header value.
_URL_FORBIDDEN: Final = re.compile(r"[\x00-\x20\x7f-\x9f\"<>\\^`{|}]")
_URL_SCHEMES: Final = ("https://", "http://", "mailto:", "tel:", "/")
# RFC 3986 pchar minus nothing: what may stand in a path segment, so an instance URI stays a path.
_PATH_SAFE: Final = "/!$&'()*+,;=:@-._~"
# Lone surrogates outside U+DC80..U+DCFF, the range surrogateescape uses for undecodable bytes.
_NOT_ESCAPED_BYTES: Final = re.compile("[\ud800-\udc7f\udd00-\udfff]")
# A detail longer than this is rendered in full rather than kept in the memo: an app may put request
# data into it, and a page per distinct detail would only churn the memo.
_MEMO_DETAIL: Final = 200


class Renderer:
    """Renders error responses; build one per middleware, then call :meth:`render` from any thread.

    Everything that depends only on the options, the status and the language is computed once and
    cached (the selected template, the entry's context, the problem members, headers, the CSP), so a
    request pays only for its own values and the template itself. The caches are bounded by the number
    of status codes times the catalogue's languages. A repeated HTML or text error is not even rendered
    again: the page is kept (at most 256 of them) with the request's values as slots, for templates
    that print those values unchanged (docs/templates.md, "Repeated errors are not rendered again").
    """

    def __init__(
        self,
        *,
        catalogue: Catalogue | None = None,
        template_dirs: Sequence[str | os.PathLike[str]] = (),
        default_format: Format = Format.HTML,
        site_name: str | None = None,
        home_url: str | None = None,
        contact_url: str | None = None,
        status_url: str | None = None,
        show_developer_info: bool = True,
        problem_type: str = "about:blank",
        problem_instance: str | None = None,
        frame_ancestors: str = "'none'",
    ) -> None:
        # Typed arguments are still checked: a config file or an untyped caller can pass anything.
        if catalogue is None:
            catalogue = Catalogue.default()
        _check_type("catalogue", catalogue, Catalogue, "a Catalogue")
        _check_type("default_format", default_format, Format, "a Format such as Format.HTML")
        _check_type("show_developer_info", show_developer_info, bool, "True or False")
        self._catalogue = catalogue
        self._default_format = default_format
        self._show_developer_info = show_developer_info
        self._site_name = _check_text("site_name", site_name)
        self._home_url = _check_url("home_url", home_url)
        self._contact_url = _check_url("contact_url", contact_url)
        self._status_url = _check_url("status_url", status_url)
        self._problem_type = _check_format_string("problem_type", problem_type, {"code"})
        self._problem_instance = (
            None
            if problem_instance is None
            else _check_format_string("problem_instance", problem_instance, {"request_id", "path"})
        )
        self._instance_fields = _fields(self._problem_instance or "")
        self._frame_ancestors = _check_frame_ancestors(frame_ancestors)
        # Tags that cannot be written into a header or an attribute are left out of negotiation.
        self._locales = tuple(loc for loc in catalogue.locales if _LANGUAGE_TAG.fullmatch(loc))

        dirs = _check_dirs(template_dirs)
        self._has_user_templates = bool(dirs)
        # A user directory with its own friendly_errors/ can replace the built-in page or its
        # stylesheet, so the precomputed CSP no longer describes the output.
        self._builtin_shadowed = any((d / _BUILTIN_DIR).exists() for d in dirs)
        self._env = _environment(dirs)
        self._markdown_env = _markdown_environment(self._env)
        _check_templates(self._env, self._markdown_env, dirs)

        # Keyed by status code, or by MAINTENANCE for the maintenance page.
        self._templates: dict[tuple[_Page, Format], tuple[jinja2.Template | None, bool]] = {}
        self._contexts: dict[tuple[_Page, str, Format], dict[str, Any]] = {}
        self._problems: dict[tuple[_Page, str], dict[str, Any]] = {}
        self._texts: dict[tuple[_Page, str], _text.TextParts] = {}
        self._markdowns: dict[tuple[_Page, str], _markdown.MarkdownParts] = {}
        self._headers: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
        self._policies = _csp.PolicyCache(self._frame_ancestors)
        self._fallbacks: dict[tuple[int, str, str], tuple[list[tuple[str, str]], bytes]] = {}
        # Each language's words as pages use them: English now, any other before its first page
        # (built-in languages are read on first use, see Catalogue.default), so that the static
        # fallback always has them.
        self._languages: dict[str, _Language] = {}
        self._language(DEFAULT_LOCALE)
        # The built-in pages, cut where each request's own values go (see _memo).
        self.memo = _memo.PageMemo()
        self._markers = _memo.Markers()
        self._builtin_csp = self._policies.for_page(self._sample_builtin_page())

    # -- the public operations ------------------------------------------------------------------

    def render(
        self,
        status: int,
        request: RequestInfo,
        *,
        request_id: str,
        detail: str | None = None,
        traceback: str | None = None,
        retry_after: int | None = None,
        response_content_type: str | None = None,
        now: datetime | None = None,
    ) -> RenderedError:
        """The response for ``status``, in the format and language the request negotiates.

        ``detail`` is the application's own explanation, ``traceback`` preformatted debug text; both
        are shown only when given. ``retry_after`` is the wait in seconds the caller announces in its
        own ``Retry-After`` header: the page and the problem document repeat it, the renderer never
        sends the header. ``response_content_type`` is the type of the response being replaced, which
        decides the format when the client states no preference.

        Never raises: on any failure the error is logged once on the ``friendly_errors`` logger and
        a static page of the same status and format is returned.
        """
        choice = _HTML_CHOICE
        method = "GET"
        lang = DEFAULT_LOCALE
        try:
            method = request.method
            headers = request.headers
            accept = headers.get("accept")
            accept_language = headers.get("accept-language")
            requested_with = headers.get("x-requested-with")
            if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 999:
                logger.error("friendly_errors: invalid status %r, answering 500 instead", status)
                status = 500
            status = int(status)  # an IntEnum such as http.HTTPStatus prints as its name
            choice = negotiate_format(
                accept,
                default=self._default_format,
                response_content_type=response_content_type,
                requested_with=requested_with,
            )
            if status < 200 or status in _NO_CONTENT:
                return RenderedError(
                    status, list(_COMMON_HEADERS), b"", choice.format, choice.media_type
                )
            # The language the entry's text is really in: French asked for and no French text for
            # this code means an English page, and Content-Language must say so.
            lang = self._catalogue.get(
                status, negotiate_language(accept_language, self._locales)
            ).locale
            if lang not in self._languages:
                self._language(lang)
            if retry_after is not None and (
                isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0
            ):
                retry_after = None
            fmt = choice.format
            csp: str | None = None
            if fmt is Format.JSON or fmt is Format.XML:
                body = self._problem_body(
                    status, lang, fmt, request, request_id, detail, traceback, retry_after
                )
            else:
                body, csp = self._page(
                    status,
                    lang,
                    fmt,
                    _as_get(request),
                    request_id,
                    detail,
                    traceback,
                    retry_after,
                    now,
                )
            return self._framed(status, choice, lang, body, csp, head=method == "HEAD")
        except Exception:
            logger.exception(
                "friendly_errors: could not render the %s error response for status %s; "
                "served the static fallback instead",
                choice.format.value,
                status,
            )
            return self._fallback(status, choice, method == "HEAD", lang)

    def render_maintenance(
        self,
        request: RequestInfo,
        *,
        request_id: str,
        message: str | None = None,
        retry_after: int | None = None,
        until: datetime | None = None,
        now: datetime | None = None,
    ) -> RenderedError:
        """The 503 that says the site is closed for planned work, not broken (#13).

        Negotiated like every error, in the words of the catalogue's labels for the language the
        request asks for. ``message`` is the operator's, shown as the detail; ``retry_after`` is the
        wait the caller's ``Retry-After`` announces, repeated in the problem document; ``until``,
        when the operator said when the work ends, is shown as a clock time in UTC (and in words
        where the language has them) and is the problem's ``until``. Never raises, like
        :meth:`render`.
        """
        choice = _HTML_CHOICE
        method = "GET"
        lang = DEFAULT_LOCALE
        try:
            method = request.method
            headers = request.headers
            choice = negotiate_format(
                headers.get("accept"),
                default=self._default_format,
                requested_with=headers.get("x-requested-with"),
            )
            lang = negotiate_language(headers.get("accept-language"), self._locales)
            language = self._language(lang)
            if retry_after is not None and (
                isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0
            ):
                retry_after = None
            fmt = choice.format
            csp: str | None = None
            if fmt is Format.JSON or fmt is Format.XML:
                problem = self._maintenance_problem(
                    lang, request, request_id, message, retry_after, until
                )
                body = _problem.to_json(problem) if fmt is Format.JSON else _problem.to_xml(problem)
            else:
                advice = ""
                if until is not None and retry_after:
                    advice = _text.maintenance_advice(language.words, until, retry_after, now)
                body, csp = self._page(
                    MAINTENANCE,
                    lang,
                    fmt,
                    _as_get(request),
                    request_id,
                    message,
                    None,
                    retry_after,
                    now,
                    advice=advice,
                )
            return self._framed(503, choice, lang, body, csp, head=method == "HEAD")
        except Exception:
            logger.exception(
                "friendly_errors: could not render the %s maintenance response; "
                "served the static fallback instead",
                choice.format.value,
            )
            return self._fallback(503, choice, method == "HEAD", lang)

    def _framed(
        self,
        status: int,
        choice: FormatChoice,
        lang: str,
        body: bytes,
        csp: str | None,
        *,
        head: bool,
    ) -> RenderedError:
        """The response around ``body``: the headers every error carries, and no body for HEAD."""
        tail = self._headers.get((choice.media_type, lang))
        if tail is None:
            tail = self._headers[(choice.media_type, lang)] = (
                ("Content-Type", content_type(choice.media_type)),
                ("Content-Language", lang),
                *_COMMON_HEADERS,
            )
        framed = [tail[0], ("Content-Length", str(len(body))), *tail[1:]]
        if csp is not None:
            framed.append(("Content-Security-Policy", csp))
            framed.append(_REFERRER_POLICY)
        return RenderedError(
            status, framed, b"" if head else body, choice.format, choice.media_type
        )

    # -- HTML, text and Markdown -----------------------------------------------------------------

    def _page(
        self,
        page: _Page,
        lang: str,
        fmt: Format,
        request: RequestInfo,
        request_id: str,
        detail: str | None,
        traceback: str | None,
        retry_after: int | None,
        now: datetime | None,
        *,
        advice: str | None = None,
    ) -> tuple[bytes, str | None]:
        """The body of an HTML, text or Markdown page and, for HTML, its Content-Security-Policy.

        ``page`` is a status code, or MAINTENANCE with its ``advice`` on when to come back.
        """
        request = _shown(request)
        template, builtin = self._template(page, fmt)
        context = self._context(page, lang, fmt)
        info: StatusInfo = context["info"]
        detail = _text.printable(detail) if detail else None
        traceback = _text.printable(traceback) if traceback else None
        language = self._languages[lang]
        # The built-in Markdown body speaks in the catalogue's labels; templates get the same
        # context in every format.
        markdown = (
            self._markdown_parts(page, lang)
            if template is None and fmt is Format.MARKDOWN
            else None
        )
        # The advice is a per-request value (marked in the memo's pages) when it names a wait, which
        # may be shown as a clock time; the memo's key then says only that there is one.
        wait: int | bool | None = retry_after
        if advice is not None:
            # Written as Markdown here, like _markdown.retry_advice writes an error's advice.
            retry = advice if markdown is None else _markdown.inline(advice)
            wait = bool(advice)
        elif markdown is None:
            retry = _text.retry_advice(info, retry_after, language.words, now)
        else:
            key = _text.retry_key(info, retry_after)
            retry = _markdown.retry_advice(markdown, key, retry_after, now)
        values = _request_values(
            info, language, request_id, request, now, retry, support=markdown is None
        )
        can_retry = (info.retryable or retry_after is not None) and (
            request.method in _SAFE_METHODS
        )
        # Only the built-in page, text and Markdown are kept, and never with a traceback or a long
        # detail, which may be unique per request. A memo that may keep nothing is off: every page is
        # then rendered in full, which is what tests and benchmarks compare the memo with.
        if (
            (template is None or builtin)
            and self.memo.max_entries > 0
            and traceback is None
            and (detail is None or len(detail) <= _MEMO_DETAIL)
        ):
            memo_key = (page, lang, fmt, detail, wait, can_retry)
            cut = self.memo.get(memo_key)
            if cut is None:
                cut = self._cut(
                    template,
                    markdown,
                    page,
                    lang,
                    context,
                    detail,
                    retry_after,
                    values,
                    can_retry,
                    marked=bool(wait),
                )
                if cut is not None:
                    self.memo.put(memo_key, cut)
            if cut is not None:
                return cut.join(_slot_bytes(values, cut.slots, fmt)), cut.csp
        if markdown is not None:
            text = _markdown_body(markdown, detail, _markdown_slots(values), traceback)
            return _text_bytes(text), None
        if template is None:
            text = _text.render_text(
                self._text_parts(page, lang),
                detail=detail,
                retry=values[_RETRY],
                support=values[_SUPPORT],
                traceback=traceback,
            )
            return _problem.utf8(text)[1], None
        page_values = self._template_values(
            context, request, values, detail, retry_after, can_retry
        )
        page_values["traceback"] = traceback
        text, body = _problem.utf8(template.render(page_values))
        if fmt is not Format.HTML:
            return body, None
        return body, self._csp(text, builtin and page != MAINTENANCE)

    def _cut(
        self,
        template: jinja2.Template | None,
        markdown: _markdown.MarkdownParts | None,
        page: _Page,
        lang: str,
        context: Mapping[str, Any],
        detail: str | None,
        retry_after: int | None,
        values: tuple[str, ...],
        can_retry: bool,
        *,
        marked: bool,
    ) -> _memo.Cut | None:
        """The built-in page, text or Markdown for these inputs, rendered with markers and cut at them.

        The retry advice is ``marked`` only when it names a wait, which may be a clock time.
        Otherwise it follows from the key alone, entry and language, and is part of the page: the
        page tests it (``{% if retry_text %}``), and a text body need not wrap it again for every
        request.
        """
        markers = list(self._markers.values)
        if markdown is not None:
            if not marked:
                markers[_RETRY] = values[_RETRY]
            text = _markdown_body(markdown, detail, markers, None)
            return self._markers.cut(text, _text_bytes, None)
        retry_line = markers[_RETRY]
        if not marked:
            markers[_RETRY] = values[_RETRY]
            retry_line = _text.retry_line(values[_RETRY])
        if template is None:
            before, after = _text.text_frame(
                self._text_parts(page, lang), detail=detail, retry_line=retry_line
            )
            text = before + markers[_SUPPORT] + after
            return self._markers.cut(text, _text_bytes, None)
        request = RequestInfo(markers[_METHOD], markers[_PATH], markers[_QUERY])
        text = template.render(
            self._template_values(context, request, markers, detail, retry_after, can_retry)
        )
        return self._markers.cut(text, _text_bytes, self._csp(text, page != MAINTENANCE))

    def _csp(self, page: str, builtin_error_page: bool) -> str:
        """The page's Content-Security-Policy: computed at start-up for the built-in error page, from
        the page's own styles otherwise (the maintenance page adds a few rules to the stylesheet)."""
        return self._builtin_csp if builtin_error_page else self._policies.for_page(page)

    @staticmethod
    def _template_values(
        context: Mapping[str, Any],
        request: RequestInfo,
        values: Sequence[str],
        detail: str | None,
        retry_after: int | None,
        can_retry: bool,
    ) -> dict[str, Any]:
        """The whole context of a page (docs/templates.md): the entry's, then the request's own."""
        result = dict(context)
        result["request"] = request
        result["request_id"] = values[_REQUEST_ID]
        result["timestamp"] = values[_TIMESTAMP]
        result["support_text"] = values[_SUPPORT]
        result["retry_text"] = values[_RETRY]
        result["detail"] = detail
        result["retry_after"] = retry_after
        result["can_retry"] = can_retry
        return result

    def _template(self, page: _Page, fmt: Format) -> tuple[jinja2.Template | None, bool]:
        """The template for ``page`` in ``fmt`` and whether it is the unmodified built-in page.

        Most specific first: ``524.html``, ``5xx.html``, ``error.html``, then the built-in page; for
        the maintenance page ``maintenance.html``, then its built-in page. Plain text and Markdown
        have no built-in template (Python writes them), hence ``None``.
        """
        key = (page, fmt)
        found = self._templates.get(key)
        if found is None:
            ext = fmt.extension
            if page == MAINTENANCE:
                names, builtin_name = [f"maintenance.{ext}"], MAINTENANCE_TEMPLATE
            else:
                names = [f"{page}.{ext}", f"{class_key(page)}.{ext}", f"error.{ext}"]
                builtin_name = BUILTIN_TEMPLATE
            if not self._has_user_templates:
                names = []
            template: jinja2.Template | None = None
            if fmt is Format.HTML:
                template = self._env.select_template([*names, builtin_name])
            elif names:
                env = self._markdown_env if fmt is Format.MARKDOWN else self._env
                try:
                    template = env.select_template(names)
                except jinja2.TemplatesNotFound:
                    pass  # no user template: Python writes the built-in text or Markdown
            found = self._templates[key] = (
                template,
                template is not None
                and template.name == builtin_name
                and not self._builtin_shadowed,
            )
        return found

    def _context(self, page: _Page, lang: str, fmt: Format) -> dict[str, Any]:
        """The template values that depend only on the entry and the options (docs/templates.md)."""
        key = (page, lang, fmt)
        found = self._contexts.get(key)
        if found is None:
            if page == MAINTENANCE:
                words = self._language(lang).words
                found = self._entry_context(self._maintenance_info(lang), lang, fmt)
                found["fault"] = MAINTENANCE
                found["fault_caption"] = words["fault_maintenance"]
                found["route"] = _text.closed_route(words)
                found["retry_text"] = ""
            else:
                found = self._entry_context(self._catalogue.get(page, lang), lang, fmt)
            self._contexts[key] = found
        return found

    def _entry_context(self, info: StatusInfo, lang: str, fmt: Format) -> dict[str, Any]:
        """A page's context for ``info``, the per-request values at their defaults."""
        language = self._language(lang)
        labels = language.words
        return {
            "format": fmt.value,
            "lang": lang,
            "dir": language.dir,
            "labels": labels,
            "label_lang_attr": language.label_lang_attr,
            "status": info.code,
            "status_class": info.status_class,
            "info": info,
            "title": info.title,
            "summary": info.summary,
            "description": info.description,
            "fault": info.fault.value,
            "fault_caption": _text.fault_caption(info.fault, labels),
            "route": _text.route(info.fault, labels),
            "causes": info.causes,
            "visitor_fixes": info.visitor_fixes,
            "developer_fixes": info.developer_fixes,
            "other_meanings": info.other_meanings,
            "spec": info.spec,
            "spec_url": info.spec_url if _is_web_url(info.spec_url) else "",
            "retryable": info.retryable,
            "site_name": self._site_name,
            "home_url": self._home_url,
            "contact_url": self._contact_url,
            "status_url": self._status_url if info.code // 100 == 5 else None,
            "show_developer_info": self._show_developer_info,
            # Per request; the defaults document the types.
            "request": None,
            "request_id": "",
            "timestamp": "",
            "detail": None,
            "traceback": None,
            "retry_after": None,
            "retry_text": _text.retry_advice(info, None, labels),
            "can_retry": False,
            "support_text": "",
        }

    def _maintenance_info(self, lang: str) -> StatusInfo:
        """The maintenance page as an entry: 503's facts, in the words of the catalogue's labels."""
        words = self._language(lang).words
        return replace(
            self._catalogue.get(503, lang),
            title=words["maintenance_title"],
            summary=words["maintenance_summary"],
            description=words["maintenance_description"],
            causes=(),
            visitor_fixes=(words["maintenance_visitor_fix"],),
            developer_fixes=(),
            other_meanings=(),
            # Which RFC defines 503 is no help to someone waiting for the site to reopen.
            spec="",
            spec_url="",
            retryable=True,
            locale=lang,
        )

    def _language(self, lang: str) -> _Language:
        """The words of ``lang`` as pages use them, prepared once."""
        found = self._languages.get(lang)
        if found is None:
            labels = self._catalogue.labels(lang)
            english = self._catalogue.labels(DEFAULT_LOCALE)
            found = self._languages[lang] = _Language.prepare(lang, labels, english)
        return found

    def _text_parts(self, page: _Page, lang: str) -> _text.TextParts:
        key = (page, lang)
        found = self._texts.get(key)
        if found is None:
            words = self._language(lang).words
            if page == MAINTENANCE:
                info = self._maintenance_info(lang)
                found = _text.maintenance_text_parts(info, words, **self._links(page))
            else:
                found = _text.text_parts(
                    self._catalogue.get(page, lang),
                    words,
                    show_developer_info=self._show_developer_info,
                    **self._links(page),
                )
            self._texts[key] = found
        return found

    def _markdown_parts(self, page: _Page, lang: str) -> _markdown.MarkdownParts:
        key = (page, lang)
        found = self._markdowns.get(key)
        if found is None:
            words = self._language(lang).words
            if page == MAINTENANCE:
                info = self._maintenance_info(lang)
                found = _markdown.maintenance_markdown_parts(info, words, **self._links(page))
            else:
                found = _markdown_parts(
                    self._catalogue.get(page, lang),
                    words,
                    show_developer_info=self._show_developer_info,
                    **self._links(page),
                )
            self._markdowns[key] = found
        return found

    def _links(self, page: _Page) -> _Links:
        """The site's links a page ends with; the status page only where something is down."""
        return _Links(
            site_name=self._site_name,
            home_url=self._home_url,
            contact_url=self._contact_url,
            status_url=self._status_url if page == MAINTENANCE or page // 100 == 5 else None,
        )

    def _sample_builtin_page(self) -> str:
        """Render the built-in page once: it proves the package data is intact and gives its CSP."""
        template = self._env.get_template(BUILTIN_TEMPLATE)
        values = dict(self._context(500, "en", Format.HTML))
        values["request"] = RequestInfo("GET", "/")
        return template.render(values)

    # -- JSON and XML ---------------------------------------------------------------------------

    def _problem_body(
        self,
        status: int,
        lang: str,
        fmt: Format,
        request: RequestInfo,
        request_id: str,
        detail: str | None,
        traceback: str | None,
        retry_after: int | None,
    ) -> bytes:
        """The problem document in JSON or XML.

        Kept in the memo like the built-in page, cut where the request ID goes, when the request ID
        is the one value of the request's own in it: not with an ``instance`` (made from the
        request by the app's template) nor a traceback, nor a long detail.
        """
        write = _problem.json_text if fmt is Format.JSON else _problem.xml_text
        if (
            self._problem_instance is None
            and traceback is None
            and self.memo.max_entries > 0
            and (detail is None or len(detail) <= _MEMO_DETAIL)
        ):
            key = (status, lang, fmt, detail, retry_after)
            cut = self.memo.get(key)
            if cut is None:
                marker = self._markers.values[_REQUEST_ID]
                text = write(self._problem(status, lang, request, marker, detail, retry_after))
                cut = self._markers.cut(text, _text_bytes, None)
                if cut is not None:
                    self.memo.put(key, cut)
            if cut is not None:
                value = (
                    _problem.json_string(request_id)
                    if fmt is Format.JSON
                    else _problem.xml_string(request_id)
                )
                values = [b""] * len(_memo.SLOTS)
                values[_REQUEST_ID] = _text_bytes(value)
                return cut.join(values)
        problem = self._problem(status, lang, request, request_id, detail, retry_after)
        if traceback is not None:
            problem["traceback"] = traceback
        return _text_bytes(write(problem))

    def _problem(
        self,
        status: int,
        lang: str,
        request: RequestInfo,
        request_id: str,
        detail: str | None,
        retry_after: int | None,
    ) -> dict[str, Any]:
        key = (status, lang)
        base = self._problems.get(key)
        if base is None:
            base = self._problems[key] = _problem.base_problem(
                self._catalogue.get(status, lang),
                type_uri=self._problem_type.format(code=status),
                has_instance=self._problem_instance is not None,
                show_developer_info=self._show_developer_info,
                status_url=self._status_url if status // 100 == 5 else None,
            )
        problem = base.copy()
        if detail:
            problem["detail"] = detail
        if self._problem_instance is not None:
            problem["instance"] = self._instance(request_id, request.path)
        if retry_after is None:
            del problem["retry_after"]
        else:
            problem["retry_after"] = retry_after
        problem["request_id"] = request_id
        return problem

    def _maintenance_problem(
        self,
        lang: str,
        request: RequestInfo,
        request_id: str,
        message: str | None,
        retry_after: int | None,
        until: datetime | None,
    ) -> dict[str, Any]:
        key = (MAINTENANCE, lang)
        base = self._problems.get(key)
        if base is None:
            base = self._problems[key] = _problem.maintenance_problem(
                self._catalogue.get(503, lang),
                self._language(lang).words,
                type_uri=self._problem_type.format(code=503),
                has_instance=self._problem_instance is not None,
                status_url=self._status_url,
            )
        problem = base.copy()
        if message:
            problem["detail"] = message
        if self._problem_instance is not None:
            problem["instance"] = self._instance(request_id, request.path)
        if retry_after is None:
            del problem["retry_after"]
        else:
            problem["retry_after"] = retry_after
        if until is None:
            del problem["until"]
        else:
            problem["until"] = _timestamp(until)
        problem["request_id"] = request_id
        return problem

    def _instance(self, request_id: str, path: str) -> str:
        """The ``instance`` URI: request data percent-encoded, so it stays one well-formed reference."""
        assert self._problem_instance is not None
        values = {}
        if "request_id" in self._instance_fields:
            values["request_id"] = _percent_encode(request_id, "")
        if "path" in self._instance_fields:
            values["path"] = _percent_encode(path, _PATH_SAFE)
        return self._problem_instance.format(**values)

    # -- the page that cannot fail --------------------------------------------------------------

    def _fallback(
        self, status: object, choice: FormatChoice, head: bool, lang: str
    ) -> RenderedError:
        """A minimal response built from the status number and words prepared in advance.

        Nothing in it depends on templates, the catalogue or request data, which is what makes it
        safe to serve after any of those has failed. It is in ``lang`` when that language's words
        were prepared before the failure (they are, before its first page), else in English.
        """
        code = (
            int(status)
            if isinstance(status, int) and not isinstance(status, bool) and 100 <= status <= 999
            else 500
        )
        if code < 200 or code in _NO_CONTENT:
            return RenderedError(
                code, list(_COMMON_HEADERS), b"", choice.format, choice.media_type, fallback=True
            )
        language = self._languages.get(lang) or self._languages[DEFAULT_LOCALE]
        key = (code, choice.media_type, language.lang)
        found = self._fallbacks.get(key)
        if found is None:
            found = self._fallbacks[key] = _fallback_response(
                code, choice, self._frame_ancestors, language
            )
        headers, body = found
        return RenderedError(
            code,
            list(headers),
            b"" if head else body,
            choice.format,
            choice.media_type,
            fallback=True,
        )


_HTML_CHOICE: Final = FormatChoice(Format.HTML, "text/html")


def markdown_entry(catalogue: Catalogue, status: int, locale: str = "en") -> str:
    """The entry for ``status`` as Markdown, in the words and layout of a Markdown error body but
    without a request's details: what ``friendly-errors explain --format markdown`` prints."""
    info = catalogue.get(status, locale)
    parts = _markdown_parts(
        info,
        _text.words(catalogue.labels(info.locale)),
        show_developer_info=True,
        site_name=None,
        home_url=None,
        contact_url=None,
    )
    retry = _markdown.retry_advice(parts, _text.retry_key(info, None), None, None)
    return _markdown.render_entry(parts, retry)


def _markdown_parts(
    info: StatusInfo,
    words: Mapping[str, str],
    *,
    show_developer_info: bool,
    site_name: str | None,
    home_url: str | None,
    contact_url: str | None,
    status_url: str | None = None,
) -> _markdown.MarkdownParts:
    return _markdown.markdown_parts(
        info,
        words,
        spec_url=info.spec_url if _is_web_url(info.spec_url) else "",
        show_developer_info=show_developer_info,
        site_name=site_name,
        home_url=home_url,
        contact_url=contact_url,
        status_url=status_url,
    )


def _as_get(request: RequestInfo) -> RequestInfo:
    """HEAD gets the page a GET would get, so Content-Length is that of the GET body."""
    return replace(request, method="GET") if request.method == "HEAD" else request


def _shown(request: RequestInfo) -> RequestInfo:
    """The request as pages show it, made printable once.

    Templates, the memo's slots and the support block all see the same values, so a text template
    printing ``{{ request.path }}`` cannot hand a terminal escape sequences or a forged line. Problem
    documents encode the raw values instead.
    """
    if request.method.isprintable() and request.path.isprintable() and request.query.isprintable():
        return request
    return replace(
        request,
        method=_text.printable(request.method, multiline=False),
        path=_text.printable(request.path, multiline=False),
        query=_text.printable(request.query, multiline=False),
    )


# Indexes into the per-request values, in the order of _memo.SLOTS.
_REQUEST_ID, _TIMESTAMP, _METHOD, _PATH, _QUERY, _SUPPORT, _RETRY = range(len(_memo.SLOTS))


def _request_values(
    info: StatusInfo,
    language: _Language,
    request_id: str,
    request: RequestInfo,
    now: datetime | None,
    retry: str,
    *,
    support: bool,
) -> tuple[str, ...]:
    """A request's own values as a page shows them, in the order of _memo.SLOTS.

    ``request`` is already printable (_shown), and a HEAD request shows as the GET it mirrors.
    ``retry`` is the retry advice, which depends on the wait the response announces. The support
    block's text is left empty when not ``support``: the built-in Markdown lays out its own.
    """
    rid = _text.printable(_text.shorten(request_id), multiline=False)
    timestamp = _utc_now() if now is None else _timestamp(now)
    method = "GET" if request.method == "HEAD" else request.method
    support_text = ""
    if support:
        support_text = _text.support_text(
            language.support_prefixes,
            info.code,
            info.title,
            rid,
            timestamp,
            _text.shorten(method, 20),
            _text.shorten(request.path),
        )
    return (rid, timestamp, method, request.path, request.query, support_text, retry)


def _slot_bytes(values: tuple[str, ...], slots: Sequence[int], fmt: Format) -> list[bytes]:
    """The per-request values a cut page prints (``slots``), as it takes them: escaped for the
    built-in HTML page, written as Markdown for the Markdown body, laid out for text. A value the
    page does not print is not prepared."""
    laid_out = [b""] * len(values)
    if fmt is Format.MARKDOWN:
        for slot in slots:
            laid_out[slot] = _text_bytes(_MARKDOWN_WRITERS[slot](values[slot]))
        return laid_out
    for slot in slots:
        value = values[slot]
        if fmt is Format.HTML:
            laid_out[slot] = _text_bytes(str(escape(value)))
        elif slot == _SUPPORT:
            laid_out[slot] = _text_bytes(_text.support_lines(value))
        elif slot == _RETRY:
            laid_out[slot] = _text_bytes(_text.retry_line(value))
    return laid_out


def _text_bytes(text: str) -> bytes:
    return _problem.utf8(text)[1]


@dataclass(frozen=True)
class _Language:
    """One language's words as pages use them, prepared once, before the first page in it.

    Also what the static fallback says in that language, made safe to print into any format.
    """

    lang: str
    dir: str
    #: The labels as a page prints them (``_text.words``: ``{{`` is a brace), the retry wait's
    #: sentence still with its placeholders.
    words: Mapping[str, str]
    #: `` lang="en"`` on the page's words when they are all English on a page that is not: a
    #: language whose file gives entries but no ``[labels]``. Screen readers must then read them
    #: as English (WCAG 3.1.2). A partly translated table is not marked word by word:
    #: ``friendly-errors list --missing`` shows the gaps to fill instead.
    label_lang_attr: Markup
    support_prefixes: tuple[str, str, str, str]
    #: The word for "Error": the fallback's title wherever the IANA phrase, English, cannot serve.
    error: str
    #: "The full error page could not be shown."
    sentence: str
    #: The same two as literal Markdown, for the Markdown fallback.
    markdown_error: str
    markdown_sentence: str

    @classmethod
    def prepare(cls, lang: str, labels: Mapping[str, str], english: Mapping[str, str]) -> _Language:
        def safe(text: str) -> str:
            # A label from a Python mapping may hold controls or lone surrogates; the fallback
            # must be able to write it into every format without a failure of its own.
            return _problem.utf8(_text.printable(text, multiline=False))[0]

        words = _text.words(labels)
        marked = not _is_english(lang) and labels == english
        error, sentence = safe(words["error"]), safe(words["fallback"])
        return cls(
            lang=lang,
            dir=_langtags.direction(lang),
            words=words,
            label_lang_attr=Markup(' lang="{}"').format(DEFAULT_LOCALE) if marked else Markup(""),
            support_prefixes=_text.support_prefixes(words),
            error=error,
            sentence=sentence,
            markdown_error=_markdown.inline(error),
            markdown_sentence=_markdown.inline(sentence),
        )


def _is_english(lang: str) -> bool:
    return DEFAULT_LOCALE in _langtags.fallbacks(lang)


def _unprinted(value: str) -> str:
    return ""


def _written(value: str) -> str:
    return value


# How the Markdown body writes each per-request value, in the order of _memo.SLOTS: the ID and the
# time as code, copied exactly; the method as literal text; the path as code; the retry advice as
# _markdown.retry_advice already wrote it; the query and the text body's support block not at all.
# The full render and the memo both write through this table, so both escape alike.
_MARKDOWN_WRITERS: Final[tuple[Callable[[str], str], ...]] = (
    _markdown.code_span,
    _markdown.code_span,
    _markdown.method,
    _markdown.path,
    _unprinted,
    _unprinted,
    _written,
)


def _markdown_slots(values: tuple[str, ...]) -> tuple[str, ...]:
    """All the per-request values written as Markdown, in the order of _memo.SLOTS."""
    return tuple(write(value) for write, value in zip(_MARKDOWN_WRITERS, values, strict=True))


def _markdown_body(
    parts: _markdown.MarkdownParts,
    detail: str | None,
    values: Sequence[str],
    traceback: str | None,
) -> str:
    """The Markdown body around ``values`` in the order of _memo.SLOTS: written as Markdown for a
    full render, markers for the memo to cut at."""
    return _markdown.render(
        parts,
        detail=detail,
        request_id=values[_REQUEST_ID],
        timestamp=values[_TIMESTAMP],
        method=values[_METHOD],
        path=values[_PATH],
        retry=values[_RETRY],
        traceback=traceback,
    )


def _fallback_response(
    code: int, choice: FormatChoice, frame_ancestors: str, words: _Language
) -> tuple[list[tuple[str, str]], bytes]:
    phrase = ""
    if _is_english(words.lang):
        try:
            phrase = http.HTTPStatus(code).phrase
        except ValueError:
            pass
    title = phrase or words.error
    fmt = choice.format
    if fmt is Format.JSON:
        body = f'{{"type":"about:blank","title":{json.dumps(title)},"status":{code}}}'
    elif fmt is Format.XML:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<problem xmlns="urn:ietf:rfc:7807">'
            f"<type>about:blank</type><title>{html.escape(title, quote=False)}</title>"
            f"<status>{code}</status></problem>\n"
        )
    elif fmt is Format.TEXT:
        body = f"{code} {title}\n\n{words.sentence}\n"
    elif fmt is Format.MARKDOWN:
        # A reason phrase is words and spaces, nothing to escape; the words of a language are
        # escaped when they are prepared.
        body = f"# {code} {phrase or words.markdown_error}\n\n{words.markdown_sentence}\n"
    else:
        direction = ' dir="rtl"' if words.dir == "rtl" else ""
        body = (
            f'<!doctype html>\n<html lang="{words.lang}"{direction}><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="robots" content="noindex">'
            f"<title>{code} {html.escape(title, quote=False)}</title></head>\n"
            f"<body><main><h1>{code} {html.escape(title, quote=False)}</h1>"
            f"<p>{html.escape(words.sentence, quote=False)}</p></main></body></html>\n"
        )
    data = body.encode("utf-8")
    headers = [
        ("Content-Type", content_type(choice.media_type)),
        ("Content-Length", str(len(data))),
        ("Content-Language", words.lang),
        *_COMMON_HEADERS,
    ]
    if fmt is Format.HTML:
        headers.append(("Content-Security-Policy", _csp.policy([], frame_ancestors)))
        headers.append(_REFERRER_POLICY)
    return headers, data


# -- time ----------------------------------------------------------------------------------------

_last_second: tuple[int, str] = (-1, "")


def _utc_now() -> str:
    """The current time as ``2026-05-09T07:35:25Z``, formatted at most once a second."""
    global _last_second
    second = int(time.time())
    cached = _last_second
    if cached[0] == second:
        return cached[1]
    text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
    _last_second = (second, text)
    return text


def _timestamp(now: datetime) -> str:
    """ISO 8601 in UTC; a naive ``now`` is taken to be UTC already."""
    if now.tzinfo is not None:
        now = now.astimezone(timezone.utc)
    return (
        f"{now.year:04d}-{now.month:02d}-{now.day:02d}"
        f"T{now.hour:02d}:{now.minute:02d}:{now.second:02d}Z"
    )


# -- helpers -------------------------------------------------------------------------------------


def _is_web_url(url: str) -> bool:
    return url.startswith(("https://", "http://")) and not _URL_FORBIDDEN.search(url)


def _percent_encode(value: str, safe: str) -> str:
    # surrogateescape gives back the bytes a server decoded with it; any other lone surrogate has no
    # bytes behind it and becomes U+FFFD.
    value = _NOT_ESCAPED_BYTES.sub("\ufffd", value)
    return quote(value.encode("utf-8", "surrogateescape"), safe=safe)


def _fields(format_string: str) -> frozenset[str]:
    return frozenset(
        name for _, name, _, _ in string.Formatter().parse(format_string) if name is not None
    )


# -- option checks -------------------------------------------------------------------------------


def _check_type(option: str, value: object, kind: type, expected: str) -> None:
    if not isinstance(value, kind):
        raise TypeError(f"{option} must be {expected}, not {value!r:.80}")


def _check_text(option: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{option} must be a string or None, not {type(value).__name__}")
    if not value.strip() or _text.printable(value, multiline=False) != value:
        raise ValueError(f"{option} must be non-empty text without control characters: {value!r}")
    return value


def _check_url(option: str, value: str | None) -> str | None:
    """A link target shown on every page: only web, mail and phone links, or a path on this site.

    Autoescaping cannot make a ``javascript:`` URL harmless, so the scheme is checked here, once.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{option} must be a string or None, not {type(value).__name__}")
    if not value.startswith(_URL_SCHEMES) or _URL_FORBIDDEN.search(value):
        raise ValueError(
            f"{option} must be an http(s), mailto: or tel: URL or a path starting with '/', "
            f"without spaces or control characters: {value!r}"
        )
    return value


def _check_format_string(option: str, value: str, allowed: set[str]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{option} must be a string, not {type(value).__name__}")
    try:
        fields = _fields(value)
        value.format(**dict.fromkeys(allowed, "x"))
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        raise ValueError(f"{option}: {value!r} is not a valid format string: {exc}") from None
    unknown = fields - allowed
    if (
        unknown
        or not value.strip()
        or _URL_FORBIDDEN.search(value.format(**dict.fromkeys(allowed, "x")))
    ):
        names = " and ".join("{" + name + "}" for name in sorted(allowed))
        raise ValueError(
            f"{option}: {value!r} must be a URI that may contain {names} and nothing else in braces"
        )
    return value


def _check_frame_ancestors(value: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"frame_ancestors must be a string, not {type(value).__name__}")
    # A ";" or "," would end the directive and let the value add directives of its own.
    # Printable ASCII only: the value goes into a latin-1 header, and anything beyond could not.
    if not value.strip() or re.search(r"[^\x20-\x7e]|[;,]", value):
        raise ValueError(
            "frame_ancestors must be a CSP source list such as \"'none'\", \"'self'\" or "
            f'"https://example.com", got {value!r}'
        )
    return value.strip()


def _check_dirs(template_dirs: Sequence[str | os.PathLike[str]]) -> list[Path]:
    if isinstance(template_dirs, (str, bytes, os.PathLike)) or not isinstance(
        template_dirs, Sequence
    ):
        raise TypeError("template_dirs must be a list of directories, such as ['templates']")
    dirs = []
    for entry in template_dirs:
        if not isinstance(entry, (str, os.PathLike)):
            raise TypeError(f"template_dirs: {entry!r} is not a path")
        path = Path(entry)
        if not path.is_dir():
            raise ValueError(f"template_dirs: {os.fspath(path)!r} is not a directory")
        dirs.append(path)
    return dirs


def _environment(dirs: Sequence[Path]) -> jinja2.Environment:
    """The one environment for every template, the user's directories searched first.

    Autoescaping is on for every template, whatever its name: extension-based selection would leave a
    user's ``error.txt`` unescaped, and text templates are rare enough to opt out explicitly with
    ``{% autoescape false %}``. Undefined names raise, so a typo in a user template is logged instead
    of rendering as an empty string.
    """
    loaders: list[jinja2.BaseLoader] = []
    if dirs:
        loaders.append(jinja2.FileSystemLoader([os.fspath(d) for d in dirs]))
    loaders.append(jinja2.PackageLoader("friendly_errors", "templates"))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


def _markdown_environment(env: jinja2.Environment) -> jinja2.Environment:
    """The environment of Markdown templates: ``env``'s loader and settings, Markdown's escaping.

    HTML autoescaping would leave ``[text](javascript:...)`` a link and print every apostrophe as
    ``&#39;``, so Markdown templates escape every printed value for Markdown instead, and get filters
    to print one as code.
    """
    markdown = env.overlay(autoescape=False, finalize=_markdown.finalize)
    # An overlay shares its parent's filters dict: the Markdown filters get one of their own.
    markdown.filters = {**env.filters, **_markdown.FILTERS}
    return markdown


def _check_templates(
    env: jinja2.Environment, markdown_env: jinja2.Environment, dirs: Sequence[Path]
) -> None:
    """Compile every user template that can be selected and everything it refers to, at start-up.

    A syntax error, an unknown filter or an ``{% extends %}`` of a missing file then stops the app
    from starting with the file and line in the message, instead of failing the first error page.
    Markdown templates, and what they refer to, are compiled in the environment that renders them.
    """
    pending: list[tuple[str, jinja2.Environment]] = []
    for directory in dirs:
        for entry in sorted(directory.iterdir()):
            if _SELECTABLE.fullmatch(entry.name) and entry.is_file():
                markdown = entry.name.endswith(".md")
                pending.append((entry.name, markdown_env if markdown else env))
        builtin = directory / _BUILTIN_DIR
        if builtin.is_dir():
            names = sorted(p.relative_to(directory).as_posix() for p in builtin.rglob("*"))
            pending += [(name, env) for name in names if (directory / name).is_file()]
    seen: set[tuple[str, jinja2.Environment]] = set()
    while pending:
        name, compiler = pending.pop()
        if (name, compiler) in seen:
            continue
        seen.add((name, compiler))
        assert compiler.loader is not None
        try:
            source, filename, _ = compiler.loader.get_source(compiler, name)
        except UnicodeDecodeError as exc:
            raise ValueError(f"template_dirs: template {name!r} is not valid UTF-8: {exc}") from exc
        where = filename or name
        try:
            tree = compiler.parse(source, name, filename)
            compiler.compile(tree, name, filename)
        except jinja2.TemplateSyntaxError as exc:
            raise ValueError(f"template_dirs: {where}, line {exc.lineno}: {exc.message}") from exc
        for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
            assert isinstance(node, (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport))
            target = node.template
            if not (isinstance(target, nodes.Const) and isinstance(target.value, str)):
                continue  # a computed name can only be resolved when rendering
            try:
                compiler.loader.get_source(compiler, target.value)
            except jinja2.TemplateNotFound:
                if isinstance(node, nodes.Include) and node.ignore_missing:
                    continue
                raise ValueError(
                    f"template_dirs: {where}, line {node.lineno}: template {target.value!r} "
                    "not found"
                ) from None
            pending.append((target.value, compiler))
