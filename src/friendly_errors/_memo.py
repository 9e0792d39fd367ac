"""The one memo of the error path: built-in pages, rendered once per set of inputs, cut where each
request's own values go.

During an outage every visitor gets the same page but for a few values of their own (the request ID,
the time, the request line): the page is rendered once with a random marker in each of those places and
cut there, and each request joins its own escaped values into the pieces. What the page depends on
besides those values (status, format, language, the app's detail, the retry hint) is the key, so an
error on a never-seen path costs the same as a repeated one. Only the built-in templates are kept:
they are ours, so we know which values they print and that they print them as they are. User
templates are rendered in full for every request, and behave exactly as written.

The memo belongs to one renderer (one middleware), is bounded by entries and by bytes, and forgets its
oldest entries first; nothing in it refers back to the renderer.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Final

#: The per-request values a built-in page may print, in the order of ``Cut.slots``' indexes.
SLOTS: Final = (
    "request_id",
    "timestamp",
    "method",
    "path",
    "query",
    "support_text",
    "retry_text",
)

#: Default bounds; a 5xx page is about 13 KB, so the byte bound is what usually applies.
MAX_ENTRIES: Final = 256
MAX_BYTES: Final = 4 * 1024 * 1024


@dataclass(frozen=True)
class Cut:
    """A page cut where the per-request values go: ``pieces[0] + v[slots[0]] + pieces[1] + ...``."""

    pieces: tuple[bytes, ...]
    slots: tuple[int, ...]
    #: The Content-Security-Policy of an HTML page (its inline style's hash); None for text.
    csp: str | None

    @property
    def size(self) -> int:
        return sum(len(piece) for piece in self.pieces)

    def join(self, values: Sequence[bytes]) -> bytes:
        """The page with ``values`` (encoded and escaped for the format, in SLOTS order) in place."""
        out = [self.pieces[0]]
        for slot, piece in zip(self.slots, self.pieces[1:], strict=True):
            out.append(values[slot])
            out.append(piece)
        return b"".join(out)


class Markers:
    """Random stand-ins for the per-request values, and the cutting of a page rendered with them.

    Alphanumeric, so escaping leaves them as they are; random, so no catalogue text or detail holds
    one by chance.
    """

    def __init__(self) -> None:
        self._salt = secrets.token_hex(8)
        self.values = tuple(f"Fe{self._salt}{i}Q" for i in range(len(SLOTS)))

    def cut(self, text: str, encode: Callable[[str], bytes], csp: str | None) -> Cut | None:
        """``text`` cut at each marker, or None when a marker was printed other than as it is.

        A template that printed ``{{ request_id|upper }}`` or a shortened ID would leave a piece of
        a marker behind; cutting there would show every visitor the marker, or another visitor's
        value, so such a page is never kept.
        """
        pieces: list[str] = []
        slots: list[int] = []
        rest = text
        while True:
            found = [(rest.find(marker), i) for i, marker in enumerate(self.values)]
            hits = [(at, i) for at, i in found if at >= 0]
            if not hits:
                break
            at, slot = min(hits)
            pieces.append(rest[:at])
            slots.append(slot)
            rest = rest[at + len(self.values[slot]) :]
        pieces.append(rest)
        if any(self._salt in piece.lower() for piece in pieces):
            return None
        return Cut(tuple(encode(piece) for piece in pieces), tuple(slots), csp)


class PageMemo:
    """Cut pages by key, at most ``max_entries`` of them and ``max_bytes`` in all, oldest out first."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._pages: dict[Hashable, Cut] = {}
        self._bytes = 0
        # Reads need no lock (a dict lookup is atomic); adding and evicting change two things at once.
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Cut | None:
        return self._pages.get(key)

    def put(self, key: Hashable, page: Cut) -> None:
        size = page.size
        if size > self.max_bytes or self.max_entries <= 0:
            return
        with self._lock:
            if key in self._pages:
                return
            while self._pages and (
                len(self._pages) >= self.max_entries or self._bytes + size > self.max_bytes
            ):
                oldest = next(iter(self._pages))
                self._bytes -= self._pages.pop(oldest).size
            self._pages[key] = page
            self._bytes += size

    @property
    def bytes(self) -> int:
        """What the kept pages weigh, their pieces' bytes added up."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._pages)
