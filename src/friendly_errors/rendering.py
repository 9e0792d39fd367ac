"""From a status code and a request to the status, headers and body of a friendly error response.

This is the sans-IO core both middlewares share: it knows nothing of ASGI or WSGI. :class:`Renderer`
negotiates the format and language, picks the catalogue entry, renders it (HTML and user text through
Jinja2, JSON and XML from data, built-in text from Python) and frames the result with the headers every
error response needs.

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
import secrets
import string
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import jinja2
from jinja2 import nodes
from markupsafe import Markup, escape

from friendly_errors import _csp, _problem, _text
from friendly_errors._loader import class_key
from friendly_errors.catalogue import Catalogue, Fault, StatusInfo
from friendly_errors.negotiation import Format, FormatChoice, negotiate_format, negotiate_language

__all__ = ["RenderedError", "Renderer", "RequestInfo"]

logger = logging.getLogger("friendly_errors")

#: The built-in page; user templates may extend it and override its blocks.
BUILTIN_TEMPLATE: Final = "friendly_errors/error.html"
_BUILTIN_DIR: Final = "friendly_errors"


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

    # Written by hand, filling the instance dict directly: the generated __init__ of a frozen
    # dataclass goes through object.__setattr__ once per field, which made building this (and
    # RenderedError) a tenth of what serving a repeated error costs. Frozen it stays: the
    # generated __setattr__ still refuses every assignment after this.
    def __init__(
        self, method: str, path: str, query: str = "", headers: Mapping[str, str] | None = None
    ) -> None:
        fields = self.__dict__
        fields["method"] = method
        fields["path"] = path
        fields["query"] = query
        fields["headers"] = {} if headers is None else headers


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

    # By hand for speed, like RequestInfo's.
    def __init__(
        self,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        format: Format,
        media_type: str,
        fallback: bool = False,
    ) -> None:
        fields = self.__dict__
        fields["status"] = status
        fields["headers"] = headers
        fields["body"] = body
        fields["format"] = format
        fields["media_type"] = media_type
        fields["fallback"] = fallback


# RFC 9110 Sections 15.2, 15.3.5, 15.3.6 and 15.4.5: these responses end at the header section.
_NO_CONTENT: Final = frozenset({204, 205, 304})
_VARY: Final = ("Vary", "Accept, Accept-Language")
_COMMON_HEADERS: Final = (
    ("Cache-Control", "no-store"),
    _VARY,
    ("X-Content-Type-Options", "nosniff"),
)
_REFERRER_POLICY: Final = ("Referrer-Policy", "no-referrer")
_CHARSET: Final = "; charset=utf-8"
_SAFE_METHODS: Final = frozenset({"GET", "HEAD"})
_LANGUAGE_TAG: Final = re.compile(r"[A-Za-z0-9]{1,8}(?:-[A-Za-z0-9]{1,8})*")
# User templates the renderer may select; anything else in a template directory is only checked when
# one of these refers to it.
_SELECTABLE: Final = re.compile(r"(?:[1-9][0-9][0-9]|[1-9]xx|error)\.(?:html|txt)")
# Characters that may not appear in a URL written into a page or a header value.
_URL_FORBIDDEN: Final = re.compile(r"[\x00-\x20\x7f-\x9f\"<>\\^`{|}]")
_URL_SCHEMES: Final = ("https://", "http://", "mailto:", "tel:", "/")
# RFC 3986 pchar minus nothing: what may stand in a path segment, so an instance URI stays a path.
_PATH_SAFE: Final = "/!$&'()*+,;=:@-._~"
# Lone surrogates outside U+DC80..U+DCFF, the range surrogateescape uses for undecodable bytes.
_NOT_ESCAPED_BYTES: Final = re.compile("[\ud800-\udc7f\udd00-\udfff]")
# The memo of rendered pages: at most this many, and only for a detail this short, since the
# application may put request data into it.
_MEMO_LIMIT: Final = 256
_MEMO_DETAIL: Final = 200
# Repeated errors are answered from a second memo keyed on the request's inputs (see _Repeat), only
# when those inputs are this short in all, so that 256 entries stay small whatever clients send.
_REPEAT_INPUTS: Final = 1024
# The values of the context that change with every request, in the order of a memo entry's slots.
_SLOTS: Final = ("request_id", "timestamp", "method", "path", "query", "support_text")
_REQUEST_ATTRS: Final = frozenset({"method", "path", "query"})
# Names a template may use only in one verbatim form each (see _prints_values_verbatim).
_WATCHED: Final = {
    "request": "request",
    "request_id": "value",
    "timestamp": "value",
    "support_text": "value",
    "super": "super",
    "self": "",
}
# Constructs through which a template could transform what a block or macro printed.
_OPAQUE: Final = (
    nodes.Macro,
    nodes.CallBlock,
    nodes.FilterBlock,
    nodes.AssignBlock,
    nodes.EvalContextModifier,
)


@dataclass(frozen=True)
class _Memo:
    """A page rendered with sentinels: ``statics[0] + value(slots[0]) + statics[1] + ...``."""

    statics: tuple[bytes, ...]
    slots: tuple[int, ...]
    csp: str | None


@dataclass(frozen=True)
class _Repeat:
    """Everything :meth:`Renderer.render` decided for one set of inputs, short of the request's values.

    ``page`` is a memo entry of an HTML page, or the text before and after the support lines of a
    plain-text body; ``tail`` the headers that follow Content-Length.
    """

    status: int
    format: Format
    media_type: str
    title: str
    page: _Memo | tuple[bytes, bytes]
    content_type: tuple[str, str]
    tail: tuple[tuple[str, str], ...]


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
        _check_templates(self._env, dirs)

        self._templates: dict[tuple[int, Format], tuple[jinja2.Template | None, bool]] = {}
        self._contexts: dict[tuple[int, str, Format], dict[str, Any]] = {}
        self._problems: dict[tuple[int, str], dict[str, Any]] = {}
        self._texts: dict[tuple[int, str], _text.TextParts] = {}
        self._headers: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
        self._policies = _csp.PolicyCache(self._frame_ancestors)
        self._fallbacks: dict[tuple[int, str, bool], tuple[list[tuple[str, str]], bytes]] = {}
        # Rendered pages and text frames of repeated errors (see _page); 0 turns the memo off.
        self._memo_limit = _MEMO_LIMIT
        self._memo: dict[tuple[object, ...], _Memo] = {}
        self._text_memo: dict[tuple[object, ...], tuple[bytes, bytes]] = {}
        self._memo_ok: dict[str, bool] = {}
        # User templates whose double render has passed at least once (see repeatable).
        self._filled: set[str] = set()
        # What render decided for the inputs of a repeated error (see _Repeat); bounded like the memo.
        self._repeats: dict[tuple[object, ...], _Repeat] = {}
        # Alphanumeric, so escaping leaves them intact; random, so no catalogue text or detail
        # contains one. The second set differs in length to catch output that depends on it.
        salt = secrets.token_hex(8)
        self._tokens = tuple(f"Fe{salt}{i}Q" for i in range(len(_SLOTS)))
        self._check_tokens = tuple(f"Fx{salt}{salt}{i}Z" for i in range(len(_SLOTS)))
        self._token_re = re.compile("(" + "|".join(self._tokens) + ")")
        self._builtin_csp = self._policies.for_page(self._sample_builtin_page())

    # -- the one public operation ---------------------------------------------------------------

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
        try:
            method = request.method
            headers = request.headers
            accept = headers.get("accept")
            accept_language = headers.get("accept-language")
            requested_with = headers.get("x-requested-with")
            # A repeated error skips negotiation and the context: everything but the request's own
            # values follows from these inputs. Exact types only, since True == 1 and 503.0 == 503
            # would find an entry that the checks below would not have given them.
            key: tuple[object, ...] | None = None
            if (
                traceback is None
                and type(status) is int
                and (retry_after is None or type(retry_after) is int)
            ):
                key = (
                    status,
                    method,
                    accept,
                    accept_language,
                    requested_with,
                    response_content_type,
                    detail,
                    retry_after,
                )
                repeat = self._repeats.get(key)
                if repeat is not None:
                    return self._repeat(repeat, request, request_id, now)
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
            if retry_after is not None and (
                isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0
            ):
                retry_after = None
            fmt = choice.format
            csp: str | None = None
            page: _Memo | tuple[bytes, bytes] | None = None
            if fmt is Format.JSON or fmt is Format.XML:
                problem = self._problem(status, lang, request, request_id, detail, retry_after)
                if traceback is not None:
                    problem["traceback"] = traceback
                body = _problem.to_json(problem) if fmt is Format.JSON else _problem.to_xml(problem)
            else:
                if method == "HEAD":
                    # The page a GET would get, so Content-Length is that of the GET body.
                    request = replace(request, method="GET")
                body, csp, page = self._page(
                    status, lang, fmt, request, request_id, detail, traceback, retry_after, now
                )
            tail = self._headers.get((choice.media_type, lang))
            if tail is None:
                tail = self._headers[(choice.media_type, lang)] = (
                    ("Content-Type", choice.media_type + _CHARSET),
                    ("Content-Language", lang),
                    *_COMMON_HEADERS,
                )
            framed = [tail[0], ("Content-Length", str(len(body))), *tail[1:]]
            if csp is not None:
                framed.append(("Content-Security-Policy", csp))
                framed.append(_REFERRER_POLICY)
            if key is not None and page is not None and _short_inputs(key):
                title = self._catalogue.get(status, lang).title
                repeat = _Repeat(
                    status, fmt, choice.media_type, title, page, tail[0], tuple(framed[2:])
                )
                self._remember(self._repeats, key, repeat)
            return RenderedError(
                status, framed, b"" if method == "HEAD" else body, fmt, choice.media_type
            )
        except Exception:
            logger.exception(
                "friendly_errors: could not render the %s error response for status %s; "
                "served the static fallback instead",
                choice.format.value,
                status,
            )
            return self._fallback(status, choice, method == "HEAD")

    def repeatable(self, rendered: RenderedError, detail: str | None) -> bool:
        """Whether the same inputs render ``rendered`` again byte for byte, the request ID and the
        time aside, and write the request ID as it is; ``detail`` is the one it was rendered with.

        True of problem documents and of the built-in page and text; of a user template only when
        the page memo took this very page (docs/templates.md): a detail short enough to be kept,
        and a double render that passed for it (see _fill), with no render of the template failing
        one since. The double render is what proves, for the branch these inputs take, that the
        request's values are printed as they are and not inside a ``<style>`` the CSP hashes.
        Turning the memo off (``_memo_limit = 0``) turns this off too.
        """
        if rendered.fallback or self._memo_limit <= 0:
            return False
        if rendered.format is Format.JSON or rendered.format is Format.XML:
            return True
        template, builtin = self._template(rendered.status, rendered.format)
        if template is None or builtin:
            return True
        if detail is not None and len(detail) > _MEMO_DETAIL:
            return False  # not memoized, so not double-rendered: its branch is unchecked
        name = template.name or ""
        return name in self._filled and self._memo_ok.get(name) is True

    # -- HTML and text --------------------------------------------------------------------------

    def _page(
        self,
        status: int,
        lang: str,
        fmt: Format,
        request: RequestInfo,
        request_id: str,
        detail: str | None,
        traceback: str | None,
        retry_after: int | None,
        now: datetime | None,
    ) -> tuple[bytes, str | None, _Memo | tuple[bytes, bytes] | None]:
        """The body and its CSP, and the memo entry or text frame that gave it, if one did."""
        request = _shown(request)
        template, builtin = self._template(status, fmt)
        context = self._context(status, lang, fmt)
        info: StatusInfo = context["info"]
        rid, timestamp, support = _request_values(
            status, info.title, request_id, request.method, request.path, now
        )
        detail = _text.printable(detail) if detail else None
        traceback = _text.printable(traceback) if traceback else None
        retry = (
            context["retry_text"] if retry_after is None else _text.retry_advice(info, retry_after)
        )
        # A repeated error differs from the last one only in the request's own values, so the
        # rendered page is kept with those values as slots. Never with a traceback, and never
        # keyed on a long detail, which may be unique per request.
        memoize = (
            traceback is None
            and self._memo_limit > 0
            and (detail is None or len(detail) <= _MEMO_DETAIL)
        )
        if template is None:
            parts = self._text_parts(status, lang)
            if not memoize:
                text = _text.render_text(
                    parts, detail=detail, retry=retry, support=support, traceback=traceback
                )
                return _problem.utf8(text)[1], None, None
            text_key = (status, lang, detail, retry)
            frame = self._text_memo.get(text_key)
            if frame is None:
                before, after = _text.text_frame(parts, detail=detail, retry=retry)
                frame = (_problem.utf8(before)[1], _problem.utf8(after)[1])
                self._remember(self._text_memo, text_key, frame)
            return _frame_text(frame, support), None, frame
        can_retry = (info.retryable or retry_after is not None) and (
            request.method in _SAFE_METHODS
        )
        memo_key = (status, lang, fmt, detail, retry_after, can_retry)
        if memoize and self._verbatim(template):
            memo = self._memo.get(memo_key)
            if memo is None:
                memo = self._fill(
                    template, fmt, builtin, context, detail, retry_after, retry, can_retry
                )
                if memo is not None:
                    self._remember(self._memo, memo_key, memo)
            if memo is not None:
                # The order of _SLOTS.
                slots = (rid, timestamp, request.method, request.path, request.query, support)
                return _splice(memo, slots), memo.csp, memo
        values = self._values(context, request, rid, timestamp, detail, retry_after, retry)
        values["traceback"] = traceback
        values["can_retry"] = can_retry
        values["support_text"] = support
        text, body = _problem.utf8(template.render(values))
        if fmt is not Format.HTML:
            return body, None, None
        return body, self._builtin_csp if builtin else self._policies.for_page(text), None

    @staticmethod
    def _repeat(
        repeat: _Repeat, request: RequestInfo, request_id: str, now: datetime | None
    ) -> RenderedError:
        """The response to a repeated error: only the request's own values are new."""
        request = _shown(request)
        method = request.method
        # HEAD gets the page a GET would get, so Content-Length is that of the GET body.
        shown = "GET" if method == "HEAD" else method
        path = request.path
        rid, timestamp, support = _request_values(
            repeat.status, repeat.title, request_id, shown, path, now
        )
        page = repeat.page
        if isinstance(page, _Memo):
            body = _splice(page, (rid, timestamp, shown, path, request.query, support))
        else:
            body = _frame_text(page, support)
        return RenderedError(
            repeat.status,
            [repeat.content_type, ("Content-Length", str(len(body))), *repeat.tail],
            b"" if method == "HEAD" else body,
            repeat.format,
            repeat.media_type,
        )

    @staticmethod
    def _values(
        context: Mapping[str, Any],
        request: RequestInfo,
        rid: str,
        timestamp: str,
        detail: str | None,
        retry_after: int | None,
        retry: str,
    ) -> dict[str, Any]:
        values = dict(context)
        values["request"] = request
        values["request_id"] = rid
        values["timestamp"] = timestamp
        values["detail"] = detail
        values["retry_after"] = retry_after
        values["retry_text"] = retry
        return values

    def _fill(
        self,
        template: jinja2.Template,
        fmt: Format,
        builtin: bool,
        context: Mapping[str, Any],
        detail: str | None,
        retry_after: int | None,
        retry: str,
        can_retry: bool,
    ) -> _Memo | None:
        """Render ``template`` with sentinels for the per-request values, and check it twice.

        The check renders again with sentinels of other lengths: the page is kept only if swapping
        one set for the other in the first output gives exactly the second, that is, if the template
        prints the values as they are. Otherwise (or if a value lands in a ``<style>``, which the CSP
        hashes) the template is marked and always rendered in full.
        """
        texts = []
        for tokens in (self._tokens, self._check_tokens):
            request = RequestInfo(tokens[2], tokens[3], tokens[4])
            values = self._values(
                context, request, tokens[0], tokens[1], detail, retry_after, retry
            )
            values["can_retry"] = can_retry
            values["support_text"] = tokens[5]
            texts.append(_problem.utf8(template.render(values))[0])
        text, check = texts
        pieces = self._token_re.split(text)
        statics = pieces[0::2]
        slots = tuple(self._tokens.index(token) for token in pieces[1::2])
        swapped = [statics[0]]
        for slot, static in zip(slots, statics[1:], strict=True):
            swapped += [self._check_tokens[slot], static]
        if "".join(swapped) != check or (
            fmt is Format.HTML
            and not builtin
            # per-request data in a style would change the CSP hash
            and any(token in style for style in _csp.inline_styles(text) for token in self._tokens)
        ):
            self._memo_ok[template.name or ""] = False
            return None
        csp = None
        if fmt is Format.HTML:
            csp = self._builtin_csp if builtin else self._policies.for_page(text)
        self._filled.add(template.name or "")
        return _Memo(tuple(_problem.utf8(piece)[1] for piece in statics), slots, csp)

    def _remember(self, cache: dict[Any, Any], key: object, value: object) -> None:
        # Bounded: starts over when full. Thread-safe enough: each dict operation is atomic.
        if len(cache) >= self._memo_limit:
            cache.clear()
        cache[key] = value

    def _verbatim(self, template: jinja2.Template) -> bool:
        """Whether ``template`` (with everything it extends or includes) prints the per-request
        values only as they are, so a memo entry can stand for it; decided once per template."""
        name = template.name or ""
        found = self._memo_ok.get(name)
        if found is None:
            # setdefault: a failed double render in another thread meanwhile (False) must stand.
            found = self._memo_ok.setdefault(name, _prints_values_verbatim(self._env, name))
        return found

    def _template(self, status: int, fmt: Format) -> tuple[jinja2.Template | None, bool]:
        """The template for ``status`` in ``fmt`` and whether it is the unmodified built-in page.

        Most specific first: ``524.html``, ``5xx.html``, ``error.html``, then the built-in page. Plain
        text has no built-in template (it is written by Python), hence ``None``.
        """
        key = (status, fmt)
        found = self._templates.get(key)
        if found is None:
            ext = "html" if fmt is Format.HTML else "txt"
            names = [f"{status}.{ext}", f"{class_key(status)}.{ext}", f"error.{ext}"]
            if not self._has_user_templates:
                names = []
            template: jinja2.Template | None = None
            if fmt is Format.HTML:
                template = self._env.select_template([*names, BUILTIN_TEMPLATE])
            elif names:
                try:
                    template = self._env.select_template(names)
                except jinja2.TemplatesNotFound:
                    pass  # no user text template: Python writes the built-in text
            found = self._templates[key] = (
                template,
                template is not None
                and template.name == BUILTIN_TEMPLATE
                and not self._builtin_shadowed,
            )
        return found

    def _context(self, status: int, lang: str, fmt: Format) -> dict[str, Any]:
        """The template values that depend only on the entry and the options (docs/templates.md)."""
        key = (status, lang, fmt)
        found = self._contexts.get(key)
        if found is None:
            info = self._catalogue.get(status, lang)
            found = self._contexts[key] = {
                "format": fmt.value,
                "lang": lang,
                "labels": _text.LABELS,
                "label_lang_attr": _label_lang_attr(lang),
                "status": status,
                "status_class": info.status_class,
                "info": info,
                "title": info.title,
                "summary": info.summary,
                "description": info.description,
                "fault": info.fault.value,
                "fault_caption": _text.FAULT_CAPTIONS[info.fault],
                "route": _ROUTES[info.fault],
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
                "show_developer_info": self._show_developer_info,
                # Per request; the defaults document the types.
                "request": None,
                "request_id": "",
                "timestamp": "",
                "detail": None,
                "traceback": None,
                "retry_after": None,
                "retry_text": _text.retry_advice(info, None),
                "can_retry": False,
                "support_text": "",
            }
        return found

    def _text_parts(self, status: int, lang: str) -> _text.TextParts:
        key = (status, lang)
        found = self._texts.get(key)
        if found is None:
            found = self._texts[key] = _text.text_parts(
                self._catalogue.get(status, lang),
                show_developer_info=self._show_developer_info,
                site_name=self._site_name,
                home_url=self._home_url,
                contact_url=self._contact_url,
            )
        return found

    def _sample_builtin_page(self) -> str:
        """Render the built-in page once: it proves the package data is intact and gives its CSP."""
        template = self._env.get_template(BUILTIN_TEMPLATE)
        values = dict(self._context(500, "en", Format.HTML))
        values["request"] = RequestInfo("GET", "/")
        return template.render(values)

    # -- JSON and XML ---------------------------------------------------------------------------

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

    def _fallback(self, status: object, choice: FormatChoice, head: bool) -> RenderedError:
        """A minimal response built from constants and the status number only.

        Nothing in it depends on templates, the catalogue or request data, which is what makes it
        safe to serve after any of those has failed.
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
        key = (code, choice.media_type, choice.format is Format.HTML)
        found = self._fallbacks.get(key)
        if found is None:
            found = self._fallbacks[key] = _fallback_response(code, choice, self._frame_ancestors)
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


def _request_values(
    status: int, title: str, request_id: str, method: str, path: str, now: datetime | None
) -> tuple[str, str, str]:
    """The request ID and time as shown, and the support block built from them."""
    rid = _text.printable(_text.shorten(request_id), multiline=False)
    timestamp = _utc_now() if now is None else _timestamp(now)
    support = _text.support_text(
        status,
        title,
        rid,
        timestamp,
        _text.printable(_text.shorten(method, 20), multiline=False),
        _text.printable(_text.shorten(path), multiline=False),
    )
    return rid, timestamp, support


def _splice(memo: _Memo, values: tuple[str, ...]) -> bytes:
    """A memo entry's page with ``values`` (in the order of _SLOTS) escaped into its slots."""
    out = [memo.statics[0]]
    for slot, static in zip(memo.slots, memo.statics[1:], strict=True):
        escaped = escape(values[slot])
        try:
            out.append(escaped.encode("utf-8"))
        except UnicodeEncodeError:
            # A lone surrogate, which only catalogue text can bring (request values are made
            # printable first): rare enough for the slow helper.
            out.append(_problem.utf8(str(escaped))[1])
        out.append(static)
    return b"".join(out)


def _frame_text(frame: tuple[bytes, bytes], support: str) -> bytes:
    return frame[0] + _problem.utf8(_text.support_lines(support))[1] + frame[1]


def _short_inputs(key: tuple[object, ...]) -> bool:
    """Whether the request's inputs in a _Repeat key are short enough to keep (_REPEAT_INPUTS)."""
    return sum(len(item) for item in key if isinstance(item, str)) <= _REPEAT_INPUTS


_ROUTES: Final = {fault: _text.route(fault) for fault in Fault}


def _fallback_response(
    code: int, choice: FormatChoice, frame_ancestors: str
) -> tuple[list[tuple[str, str]], bytes]:
    try:
        phrase = http.HTTPStatus(code).phrase
    except ValueError:
        phrase = "Error"
    fmt = choice.format
    if fmt is Format.JSON:
        body = f'{{"type":"about:blank","title":{json.dumps(phrase)},"status":{code}}}'
    elif fmt is Format.XML:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<problem xmlns="urn:ietf:rfc:7807">'
            f"<type>about:blank</type><title>{html.escape(phrase, quote=False)}</title>"
            f"<status>{code}</status></problem>\n"
        )
    elif fmt is Format.TEXT:
        body = f"{code} {phrase}\n\nThe full error page could not be shown.\n"
    else:
        body = (
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="robots" content="noindex">'
            f"<title>{code} {html.escape(phrase, quote=False)}</title></head>\n"
            f"<body><main><h1>{code} {html.escape(phrase, quote=False)}</h1>"
            "<p>The full error page could not be shown.</p></main></body></html>\n"
        )
    data = body.encode("ascii")
    headers = [
        ("Content-Type", choice.media_type + _CHARSET),
        ("Content-Length", str(len(data))),
        ("Content-Language", "en"),
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


def _label_lang_attr(lang: str) -> Markup:
    """``lang="en"`` for the built-in labels on a page in another language (WCAG 3.1.2)."""
    if lang.split("-", 1)[0].lower() == _text.LABELS_LANG:
        return Markup("")
    return Markup(' lang="{}"').format(_text.LABELS_LANG)


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


def _prints_values_verbatim(env: jinja2.Environment, name: str) -> bool:
    """Whether every per-request value reaches the output of ``name`` only as ``{{ value }}``.

    ``request_id``, ``timestamp``, ``support_text`` and ``request.method``, ``.path`` and ``.query``
    may each stand alone in an output tag and nowhere else: not in a test, a filter, a loop or a
    ``{% set %}``; ``request`` itself and ``request.headers`` not at all, since the headers are not
    slots of a memo entry. Macros, call and filter blocks, ``self``, and ``super()`` other than as
    ``{{ super() }}`` could transform what a block printed, and a computed template name cannot be
    followed, so any of them means no. The double render in ``Renderer._fill`` checks the rest.
    """
    assert env.loader is not None
    pending = [name]
    seen: set[str] = set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            source, filename, _ = env.loader.get_source(env, current)
        except jinja2.TemplateNotFound:
            continue  # an include with "ignore missing": it renders as nothing
        tree = env.parse(source, current, filename)
        if any(True for _ in tree.find_all(_OPAQUE)):
            return False
        # The one name each verbatim form may print: {{ x }}, {{ request.path }}, {{ super() }}.
        allowed: dict[int, str] = {}
        for output in tree.find_all(nodes.Output):
            for child in output.nodes:
                if isinstance(child, nodes.Getattr) and child.attr in _REQUEST_ATTRS:
                    allowed[id(child.node)] = "request"
                elif isinstance(child, nodes.Call) and not (
                    child.args or child.kwargs or child.dyn_args or child.dyn_kwargs
                ):
                    allowed[id(child.node)] = "super"
                else:
                    allowed[id(child)] = "value"
        for node in tree.find_all(nodes.Name):
            assert isinstance(node, nodes.Name)
            if node.ctx != "load" or node.name not in _WATCHED:
                continue
            how = allowed.get(id(node))
            if how != _WATCHED[node.name]:
                return False
        for ref in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
            assert isinstance(ref, (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport))
            target = ref.template
            if not (isinstance(target, nodes.Const) and isinstance(target.value, str)):
                return False
            pending.append(target.value)
    return True


def _check_templates(env: jinja2.Environment, dirs: Sequence[Path]) -> None:
    """Compile every user template that can be selected and everything it refers to, at start-up.

    A syntax error, an unknown filter or an ``{% extends %}`` of a missing file then stops the app
    from starting with the file and line in the message, instead of failing the first error page.
    """
    pending: list[str] = []
    for directory in dirs:
        for entry in sorted(directory.iterdir()):
            if _SELECTABLE.fullmatch(entry.name) and entry.is_file():
                pending.append(entry.name)
        builtin = directory / _BUILTIN_DIR
        if builtin.is_dir():
            pending += sorted(
                p.relative_to(directory).as_posix() for p in builtin.rglob("*") if p.is_file()
            )
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        assert env.loader is not None
        try:
            source, filename, _ = env.loader.get_source(env, name)
        except UnicodeDecodeError as exc:
            raise ValueError(f"template_dirs: template {name!r} is not valid UTF-8: {exc}") from exc
        where = filename or name
        try:
            tree = env.parse(source, name, filename)
            env.compile(tree, name, filename)
        except jinja2.TemplateSyntaxError as exc:
            raise ValueError(f"template_dirs: {where}, line {exc.lineno}: {exc.message}") from exc
        for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
            assert isinstance(node, (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport))
            target = node.template
            if not (isinstance(target, nodes.Const) and isinstance(target.value, str)):
                continue  # a computed name can only be resolved when rendering
            try:
                env.loader.get_source(env, target.value)
            except jinja2.TemplateNotFound:
                if isinstance(node, nodes.Include) and node.ignore_missing:
                    continue
                raise ValueError(
                    f"template_dirs: {where}, line {node.lineno}: template {target.value!r} "
                    "not found"
                ) from None
            pending.append(target.value)
