"""The ASGI types every ASGI-facing module of the package shares (uvicorn's ``_types.py`` habit)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
# The parameter is Any on purpose: Starlette types ``send`` as taking a MutableMapping while
# asgiref and uvicorn type it as taking a union of TypedDicts, and neither is a subtype of the other.
# Accepting Any lets both kinds of server call us, and both kinds of app be wrapped, without casts.
Send = Callable[[Any], Awaitable[None]]

# Where another framework's types meet ours, the scope and what ``receive`` returns are Any as well:
# Django types the scope as a dict, and asgiref, uvicorn, Litestar and Quart type scopes and messages
# as unions of TypedDicts, which are no MutableMappings. Loose on purpose, ASGIApp is every ASGI 3 app,
# so any can be wrapped; and the middleware's own __call__ takes what any server or framework hands an
# app, so it is an ASGI app to each of them. Starlette types the apps its middleware factories take
# and return the same way. Past that edge, Scope, Message and Receive type our own code again.
AnyScope = Any
AnyReceive = Callable[[], Awaitable[Any]]
ASGIApp = Callable[[AnyScope, AnyReceive, Send], Awaitable[None]]
