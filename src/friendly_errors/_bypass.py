"""The maintenance bypass: a cookie that lets the team's browsers through while the site is down (#13).

A request to ``/{secret}`` gets a cookie holding an expiry time and an HMAC of that time keyed with the
secret, never the secret itself: a copied cookie stops working when it expires or when the secret
changes (``friendly-errors down`` again), and a cookie whose expiry was edited fails the HMAC. Both the
secret path and the HMAC are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

__all__ = ["COOKIE", "DEFAULT_MAX_AGE", "admitted", "is_secret_path", "set_cookie"]

#: The cookie's name; its value is ``{expiry}.{hmac}``.
COOKIE: Final = "friendly_errors_bypass"
#: How long a bypass lasts unless the ``maintenance_bypass_max_age`` option says otherwise.
DEFAULT_MAX_AGE: Final = 12 * 3600
# What the HMAC signs besides the expiry, so a MAC made for anything else never passes for this one.
_PURPOSE: Final = b"friendly_errors maintenance bypass until "


def is_secret_path(path: str, secret: str) -> bool:
    """Whether ``path`` is ``/{secret}``; the comparison takes as long whatever the path is."""
    return hmac.compare_digest(_bytes(path), _bytes("/" + secret))


def set_cookie(secret: str, *, now: float, max_age: int, secure: bool) -> str:
    """A ``Set-Cookie`` value granting the bypass for ``max_age`` seconds from ``now``.

    ``HttpOnly`` keeps it from scripts and ``SameSite=Lax`` from other sites' subrequests; ``Secure``
    is added when the request came over https, where a browser would otherwise send it over plain
    http too (RFC 6265 Section 4.1.2.5).
    """
    expires = int(now) + max_age
    value = f"{COOKIE}={expires}.{_mac(secret, expires)}; Path=/; Max-Age={max_age}; HttpOnly"
    value += "; SameSite=Lax"
    if secure:
        value += "; Secure"
    return value


def admitted(secret: str, cookie_header: str | None, now: float) -> bool:
    """Whether the request's ``Cookie`` header holds a bypass for ``secret`` that has not expired."""
    if not cookie_header or COOKIE not in cookie_header:
        return False
    # RFC 6265 Section 4.2.1: name=value pairs separated by "; ".
    for pair in cookie_header.split(";"):
        name, _, value = pair.strip().partition("=")
        if name == COOKIE and _valid(secret, value.strip(), now):
            return True
    return False


def _valid(secret: str, value: str, now: float) -> bool:
    expiry, dot, mac = value.partition(".")
    if not dot or not (expiry.isascii() and expiry.isdigit()) or len(expiry) > 15:
        return False
    expires = int(expiry)
    genuine = hmac.compare_digest(_bytes(mac), _mac(secret, expires).encode("ascii"))
    return genuine and now < expires


def _mac(secret: str, expires: int) -> str:
    message = _PURPOSE + str(expires).encode("ascii")
    return hmac.new(_bytes(secret), message, hashlib.sha256).hexdigest()


def _bytes(text: str) -> bytes:
    # Header values arrive as latin-1 text and paths may hold surrogate escapes: any str encodes.
    return text.encode("utf-8", "surrogatepass")
