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
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
