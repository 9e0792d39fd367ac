"""``friendly-errors demo``: a small app that fails on purpose, to show what the middleware does.

Every example on the index page is a real response from a real app wrapped in
:class:`~friendly_errors.asgi.FriendlyErrorsMiddleware`: the app answers with a bare status, raises, or
explains itself in JSON, and the middleware turns that into the page the visitor sees. Nothing here is
staged, so what a developer sees in the demo is what their own app will send.

Two conveniences are the demo's alone: ``?accept=json`` (or ``text``, ``xml``, ``markdown``,
``html``) rewrites the ``Accept`` header and ``?lang=ja`` the ``Accept-Language`` header before the
middleware sees them, so a browser can show every format in every language. The middleware itself
only ever negotiates from the headers.
"""

from __future__ import annotations

import html
import re
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs

from friendly_errors import _csp
from friendly_errors._types import Receive, Scope, Send
from friendly_errors.asgi import FriendlyErrorsMiddleware
from friendly_errors.catalogue import Catalogue
from friendly_errors.negotiation import Format
from friendly_errors.server import lifespan, run_app

__all__ = ["DemoApp", "run_demo"]

BANNER: Final = "friendly_errors demo: open {url}/ in a browser (Ctrl+C stops it)"

#: The values ``?accept=`` understands, and the header each one stands for.
ACCEPT_SHORTCUTS: Final = {
    "html": "text/html",
    "json": "application/json",
    "text": "text/plain",
    "txt": "text/plain",
    "xml": "application/xml",
    "markdown": "text/markdown",
    "md": "text/markdown",
}

#: Each built-in language in its own name, for the index page's language switcher.
LANGUAGE_NAMES: Final = {
    "en": "English",
    "ar": "العربية",
    "de": "Deutsch",
    "es": "Español",
    "fr": "Français",
    "it": "Italiano",
    "ja": "日本語",
    "ko": "한국어",
    "nl": "Nederlands",
    "pl": "Polski",
    "pt-BR": "Português (Brasil)",
    "ru": "Русский",
    "tr": "Türkçe",
    "zh-Hans": "简体中文",
}
# What ?lang= may hold: a language tag, nothing that could forge another header or break a link.
_LANGUAGE_TAG: Final = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8}){0,4}")

_ROUTE: Final = re.compile(r"/(?:custom/|debug/)?(?:status/([0-9]{3})|(exception|detail))")
_RETRY_AFTER: Final = "120"
_DETAIL: Final = (
    "The nightly import is rebuilding the reports table; reports are back at 06:00 UTC."
)

# What a developer would write in their own template directory: extend the built-in page and replace
# only the blocks that carry the brand. The extra <style> shows that the page's CSP follows along.
_CUSTOM_TEMPLATE: Final = """\
{% extends "friendly_errors/error.html" %}
{% block style %}
{{ super() }}
<style>
.demo-brand { background: #14532d; color: #f0fdf4; padding: .75rem 0; }
.demo-brand a { color: inherit; }
</style>
{% endblock %}
{% block header %}
<header class="demo-brand">
<div class="wrap">
<strong>Acme Reports</strong> &middot; custom template <code>5xx.html</code> for error {{ status }}
</div>
</header>
{% endblock %}
"""

_INDEX_CSS: Final = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
code, pre { font-family: ui-monospace, monospace; }
pre { background: #f4f4f5; padding: .75rem; overflow-x: auto; }
li { margin: .25rem 0; }
.languages { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1rem; }
[aria-current] { font-weight: 700; }
@media (prefers-color-scheme: dark) {
  body { background: #18181b; color: #e4e4e7; } a { color: #93c5fd; }
  pre { background: #27272a; }
}
"""


class DemoApp:
    """The demo as one ASGI app: an index page and a deliberately failing origin behind the middleware.

    Three middleware instances wrap the same origin, because middleware options are fixed when it is
    built: the default look, the same with ``debug=True`` (under ``/debug/``) and a custom template
    (under ``/custom/``).
    """

    def __init__(self, **options: Any) -> None:
        options.setdefault("intercept", [404, "5xx"])
        options.setdefault("site_name", "friendly_errors demo")
        options.setdefault("home_url", "/")
        # The custom template is written out at start-up because template_dirs takes directories; the
        # finalizer removes it without the ResourceWarning a forgotten TemporaryDirectory gives.
        templates = Path(tempfile.mkdtemp(prefix="friendly-errors-demo-"))
        weakref.finalize(self, shutil.rmtree, templates, True)
        (templates / "5xx.html").write_text(_CUSTOM_TEMPLATE, encoding="utf-8")
        self.template_dir = templates
        self._plain = FriendlyErrorsMiddleware(_origin, **options)
        self._debug = FriendlyErrorsMiddleware(_origin, **{**options, "debug": True})
        self._custom = FriendlyErrorsMiddleware(
            _origin, **{**options, "template_dirs": [templates], "site_name": "Acme Reports"}
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        scope = _with_shortcuts(scope)
        path: str = scope.get("path", "/")
        if path.startswith("/custom/"):
            await self._custom(scope, receive, send)
        elif path.startswith("/debug/"):
            await self._debug(scope, receive, send)
        else:
            await self._plain(scope, receive, send)


def _with_shortcuts(scope: Scope) -> Scope:
    """``scope`` with Accept replaced when ``?accept=`` names a format, and Accept-Language when
    ``?lang=`` names a language.

    A copy, never the server's own dict: the scope belongs to the server for the whole request.
    """
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    replace: dict[bytes, str] = {}
    media_type = ACCEPT_SHORTCUTS.get(query.get("accept", [""])[-1].lower())
    if media_type is not None:
        replace[b"accept"] = media_type
    lang = _query_language(query)
    if lang:
        replace[b"accept-language"] = lang
    if not replace:
        return scope
    headers = [(n, v) for n, v in scope.get("headers", ()) if n.lower() not in replace]
    headers += [(name, value.encode("latin-1")) for name, value in replace.items()]
    return {**scope, "headers": headers}


def _query_language(query: dict[str, list[str]]) -> str:
    lang = query.get("lang", [""])[-1]
    return lang if _LANGUAGE_TAG.fullmatch(lang) else ""


async def _origin(scope: Scope, receive: Receive, send: Send) -> None:
    """The application being demonstrated: it fails in every way the index page lists."""
    path: str = scope["path"]
    if path == "/":
        await _respond(send, 200, "text/html; charset=utf-8", _index(scope), _index_headers())
        return
    match = _ROUTE.fullmatch(path)
    if match is None:
        await _respond(send, 404, "text/plain; charset=utf-8", b"Not Found")
        return
    code, action = match.groups()
    if action == "exception":
        raise RuntimeError("the demo app failed on purpose to show the exception page")
    if action == "detail":
        body = ('{"detail": "' + _DETAIL + '"}').encode()
        await _respond(send, 503, "application/json", body, [(b"retry-after", b"3600")])
        return
    status = int(code)
    if not 400 <= status <= 599:
        await _respond(send, 404, "text/plain; charset=utf-8", b"Not Found")
        return
    extra = [(b"retry-after", _RETRY_AFTER.encode())] if status == 503 else []
    # A bare body of the kind servers send by default; the middleware replaces it whole.
    bare = f"<html><body><h1>{status}</h1></body></html>".encode()
    await _respond(send, status, "text/html; charset=utf-8", bare, extra)


async def _respond(
    send: Send,
    status: int,
    content_type: str,
    body: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode("latin-1")),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _index_headers() -> list[tuple[bytes, bytes]]:
    policy = _csp.policy([_INDEX_CSS], "'none'")
    return [(b"content-security-policy", policy.encode("latin-1")), (b"cache-control", b"no-store")]


def _index(scope: Scope) -> bytes:
    host = "127.0.0.1"
    for name, value in scope.get("headers", ()):
        if name.lower() == b"host":
            host = value.decode("latin-1")
    base = html.escape(f"http://{host}", quote=True)
    lang = _query_language(parse_qs(scope.get("query_string", b"").decode("latin-1")))

    def link(path: str, text: str) -> str:
        # Every example keeps the language chosen on the index page.
        if lang:
            path += ("&" if "?" in path else "?") + f"lang={lang}"
        return f'<a href="{html.escape(path, quote=True)}">{text}</a>'

    cloudflare = " ".join(link(f"/status/{code}", str(code)) for code in range(520, 528))
    formats = " · ".join(
        link(f"/status/502?accept={name}", f"{name.upper()} (<code>?accept={name}</code>)")
        for name in (fmt.value for fmt in Format)
    )
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="robots" content="noindex">',
        "<title>friendly_errors demo</title>",
        f"<style>{_INDEX_CSS}</style></head><body><main>",
        "<h1>friendly_errors demo</h1>",
        _language_switcher(lang),
        "<p>Each link below is a real response from a small app wrapped in "
        "<code>FriendlyErrorsMiddleware</code>. The app sends a bare error, raises or explains "
        "itself; the middleware replaces that with the page you see.</p>",
        "<h2>A proxy or gateway failed</h2><ul>",
        f"<li>{link('/status/502', '502 Bad Gateway')}: the app behind the proxy answered "
        "nothing usable.</li>",
        f"<li>{link('/status/503', '503 Service Unavailable')} with "
        f"<code>Retry-After: {_RETRY_AFTER}</code>: the page tells the visitor when to come "
        "back.</li>",
        f"<li>{link('/status/504', '504 Gateway Timeout')}: the app took too long.</li>",
        f"<li>Cloudflare's own codes: {cloudflare}</li>",
        "</ul><h2>The application failed</h2><ul>",
        f"<li>{link('/exception', 'An unhandled exception')}: a 500 page; the traceback goes "
        "to the server log, never to the visitor.</li>",
        f"<li>{link('/debug/exception', 'The same exception with debug=True')}: the traceback "
        "on the page, for local development only.</li>",
        f"<li>{link('/detail', 'An explanation from the app')}: the app answered 503 with "
        "<code>{&quot;detail&quot;: &quot;…&quot;}</code> and the page quotes it.</li>",
        f"<li>{link('/no/such/page', 'A missing page')}: 404, intercepted because the demo "
        "passes <code>intercept=[404, &quot;5xx&quot;]</code>.</li>",
        "</ul><h2>Your own look</h2><ul>",
        f"<li>{link('/custom/status/502', '502')} and {link('/custom/status/503', '503')} rendered from a "
        "custom <code>5xx.html</code> that extends the built-in page and replaces its header.</li>",
        "</ul><h2>Other formats</h2>",
        "<p>The format follows the request's <code>Accept</code> header: browsers get HTML, API "
        "clients RFC 9457 problem details, terminals plain text, AI agents Markdown. To see them "
        "from a browser, the "
        "demo (and only the demo) lets <code>?accept=</code> stand in for the header: "
        f"{formats}.</p>",
        "<p>From a terminal:</p><pre>",
        f"curl -i -H 'Accept: application/json' {base}/status/502\n",
        f"curl -i -H 'Accept: text/plain' {base}/status/503\n",
        f"curl -i -H 'Accept: text/markdown' {base}/detail\n",
        f"curl -i -H 'Accept-Language: fr' {base}/status/504\n",
        f"curl -i -H 'Accept: text/plain' -H 'Accept-Language: ja' {base}/status/503",
        "</pre></main></body></html>",
    ]
    return "\n".join(parts).encode("utf-8")


def _language_switcher(current: str) -> str:
    """Links to this page in each language of the catalogue; the examples then open in it."""
    items = []
    for tag in Catalogue.default().locales:
        name = html.escape(LANGUAGE_NAMES.get(tag, tag))
        chosen = tag.lower() == (current or "en").lower()
        attributes = f' lang="{tag}" hreflang="{tag}"' + (' aria-current="true"' if chosen else "")
        items.append(f'<li><a href="/?lang={tag}"{attributes}>{name}</a></li>')
    return (
        '<nav aria-labelledby="languages"><h2 id="languages">Languages</h2>'
        "<p>The pages speak the visitor's language, from <code>Accept-Language</code>; here "
        "(and only in the demo) <code>?lang=</code> stands in for it. Choose one, then open any "
        'example:</p><ul class="languages">' + "".join(items) + "</ul></nav>"
    )


def run_demo(*, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the demo until interrupted; raises ServeError when it cannot start."""
    run_app(DemoApp(), host=host, port=port, banner=BANNER)
