"""The Content-Security-Policy of an HTML error page, with hashes of the page's own inline styles.

An error page is served by the app's own origin, often on a path an attacker chose, so it gets the
strictest policy that still lets it look right: nothing may load, no script may run, and the only styles
allowed are the exact ``<style>`` elements the page was rendered with (CSP Level 3, hash-source).
Hashes rather than ``'unsafe-inline'`` mean that markup injected through a template bug still cannot
style (or hide, or overlay) anything.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Final

# A <style> element's text runs to the first "</style" whatever follows (HTML raw text element), which
# is what the browser hashes; attributes such as media= do not change the hash.
_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style", re.IGNORECASE | re.DOTALL)
_CACHE_LIMIT: Final = 128


def style_hash(css: str) -> str:
    """The CSP hash-source of one inline style, as the browser computes it.

    The browser hashes the element's text after the HTML parser has turned CRLF and CR into LF, so a
    template saved with Windows line endings still matches.
    """
    css = css.replace("\r\n", "\n").replace("\r", "\n")
    digest = hashlib.sha256(css.encode("utf-8", "surrogatepass")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def inline_styles(html: str) -> list[str]:
    return _STYLE.findall(html)


def policy(styles: list[str], frame_ancestors: str) -> str:
    """The whole policy for a page whose inline styles are ``styles``.

    ``img-src data:`` is what an inline SVG or a data: URI image needs and nothing more; with no styles
    at all ``style-src 'none'`` says so instead of an empty (and invalid) directive.
    """
    sources = " ".join(dict.fromkeys(style_hash(css) for css in styles)) or "'none'"
    return (
        f"default-src 'none'; style-src {sources}; img-src data:; base-uri 'none'; "
        f"form-action 'none'; frame-ancestors {frame_ancestors}"
    )


class PolicyCache:
    """Policies for pages rendered from user templates, keyed by the text of their styles.

    A user template usually has one fixed stylesheet, so this holds one entry; a template that writes
    request data into its style would make every key new, so the cache is bounded and simply starts
    over when full.
    """

    def __init__(self, frame_ancestors: str) -> None:
        self._frame_ancestors = frame_ancestors
        self._cache: dict[tuple[str, ...], str] = {}

    def for_page(self, html: str) -> str:
        styles = inline_styles(html)
        key = tuple(styles)
        found = self._cache.get(key)
        if found is None:
            found = policy(styles, self._frame_ancestors)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = found
        return found
