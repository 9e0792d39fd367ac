"""The one memo of the error path: which pages it keeps, which it forgets first, and its bounds.

The renderer's tests (test_rendering.py) check that a memoized page equals a full render; these check
the memo itself: eviction order, the entry and byte bounds, and the refusal to cut a page whose
markers a template transformed. The last two tests drive ``Renderer.render`` with many distinct
details, the input an app controls, to show the bounds hold for the pages the renderer really keeps.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable

import pytest

from friendly_errors import _memo
from friendly_errors.catalogue import Catalogue
from friendly_errors.rendering import Renderer, RequestInfo

HTML_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def page(size: int, csp: str | None = None) -> _memo.Cut:
    """A cut page of ``size`` bytes in two pieces, with one slot (the request ID) between them."""
    half = size // 2
    return _memo.Cut((b"a" * half, b"b" * (size - half)), (0,), csp)


def kept_bytes(memo: _memo.PageMemo, keys: range | list[str]) -> int:
    """What the pages still kept under ``keys`` weigh, read back through the public ``get``."""
    return sum(cut.size for key in keys if (cut := memo.get(key)) is not None)


# -- Cut ------------------------------------------------------------------------------------------


def test_a_cut_joins_each_value_into_its_slot() -> None:
    cut = _memo.Cut((b"<p>", b" and ", b"</p>"), (3, 0), None)
    values = [b"id", b"time", b"GET", b"/path", b"", b"", b""]
    assert cut.join(values) == b"<p>/path and id</p>"
    assert cut.size == len(b"<p> and </p>")


# -- Markers --------------------------------------------------------------------------------------


def test_markers_survive_html_escaping_and_differ_per_instance() -> None:
    markers = _memo.Markers()
    assert len(markers.values) == len(_memo.SLOTS)
    assert len(set(markers.values)) == len(markers.values)
    for marker in markers.values:
        assert marker.isalnum()
        assert html.escape(marker) == marker
    assert set(_memo.Markers().values).isdisjoint(markers.values)


def test_cut_splits_at_every_marker_in_order() -> None:
    markers = _memo.Markers()
    rid, _, method, path, *_ = markers.values
    text = f"<h1>{path}</h1><p>{rid}</p><pre>{method} {path}</pre>"
    cut = markers.cut(text, str.encode, "policy")
    assert cut is not None
    assert cut.slots == (3, 0, 2, 3)
    assert cut.pieces == (b"<h1>", b"</h1><p>", b"</p><pre>", b" ", b"</pre>")
    assert cut.csp == "policy"
    values = [b"ID", b"T", b"GET", b"/x", b"", b"", b""]
    assert cut.join(values) == b"<h1>/x</h1><p>ID</p><pre>GET /x</pre>"


def test_a_page_without_markers_is_one_piece() -> None:
    cut = _memo.Markers().cut("no request values here", str.encode, None)
    assert cut is not None
    assert cut.pieces == (b"no request values here",) and cut.slots == ()


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(str.upper, id="upper"),
        pytest.param(str.lower, id="lower"),
        pytest.param(str.swapcase, id="swapcase"),
        pytest.param(str.title, id="title"),
        pytest.param(lambda m: m[:-2], id="end-cut-off"),
        pytest.param(lambda m: m[2:], id="start-cut-off"),
    ],
)
def test_cut_refuses_a_page_whose_marker_was_transformed(transform: Callable[[str], str]) -> None:
    """A transformed marker would show every visitor a stand-in, or another visitor's value."""
    markers = _memo.Markers()
    rid = markers.values[0]
    text = f"<p>{transform(rid)}</p><p>{markers.values[3]}</p>"
    assert markers.cut(text, str.encode, None) is None


# -- PageMemo -------------------------------------------------------------------------------------


def test_the_oldest_entries_go_first_when_entries_run_out() -> None:
    memo = _memo.PageMemo(max_entries=3)
    for key in "abcde":
        memo.put(key, page(10))
    assert [key for key in "abcde" if memo.get(key) is not None] == ["c", "d", "e"]
    assert len(memo) == 3
    assert memo.bytes == 30


def test_the_oldest_entries_go_first_when_bytes_run_out() -> None:
    memo = _memo.PageMemo(max_entries=100, max_bytes=100)
    for key, size in zip("abcd", (40, 30, 20, 10), strict=True):
        memo.put(key, page(size))
    assert memo.bytes == 100
    memo.put("e", page(45))  # room for it only once a, and then b, are gone
    assert [key for key in "abcde" if memo.get(key) is not None] == ["c", "d", "e"]
    assert memo.bytes == 75 == kept_bytes(memo, list("abcde"))


def test_a_page_larger_than_the_byte_bound_is_not_kept_and_evicts_nothing() -> None:
    memo = _memo.PageMemo(max_entries=10, max_bytes=100)
    memo.put("small", page(60))
    memo.put("huge", page(101))
    assert memo.get("huge") is None
    assert memo.get("small") is not None
    assert memo.bytes == 60
    memo.put("exact", page(100))  # a page of exactly the bound fits, alone
    assert memo.get("exact") is not None and memo.get("small") is None
    assert memo.bytes == 100


def test_no_entries_means_nothing_is_kept() -> None:
    memo = _memo.PageMemo(max_entries=0)
    memo.put("a", page(10))
    assert memo.get("a") is None and len(memo) == 0 and memo.bytes == 0


def test_a_key_is_kept_once_and_counted_once() -> None:
    memo = _memo.PageMemo()
    first = page(10)
    memo.put("a", first)
    memo.put("a", page(20))
    assert memo.get("a") is first
    assert len(memo) == 1 and memo.bytes == 10


def test_concurrent_puts_keep_the_count_of_bytes_true() -> None:
    """WSGI servers render from many threads; adding and evicting must not lose a page's weight."""
    memo = _memo.PageMemo(max_entries=50, max_bytes=2_000)
    keys = [f"{thread}-{i}" for thread in range(8) for i in range(2_000)]

    def fill(thread: int) -> None:
        for i in range(2_000):
            memo.put(f"{thread}-{i}", page(10 + (i * 7 + thread) % 90))

    workers = [threading.Thread(target=fill, args=(t,)) for t in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(memo) <= 50
    assert memo.bytes <= 2_000
    assert memo.bytes == kept_bytes(memo, keys)
    assert sum(memo.get(key) is not None for key in keys) == len(memo)


# -- the bounds, through the renderer -------------------------------------------------------------


def test_100000_distinct_details_stay_under_the_documented_bounds() -> None:
    """An app may put request data into its detail: each one is a new key, and the memo must not grow.

    Plain text keeps this quick (a text page is cut without Jinja); the next test shows the byte
    bound holding for the heavier HTML pages.
    """
    renderer = Renderer()
    memo = renderer.memo
    assert (memo.max_entries, memo.max_bytes) == (_memo.MAX_ENTRIES, _memo.MAX_BYTES)
    languages = Catalogue.default().locales
    requests = [
        RequestInfo("GET", "/", headers={"accept": "text/plain", "accept-language": lang})
        for lang in languages
    ]
    statuses = (500, 502, 503, 504)
    highest = 0
    for i in range(100_000):
        rendered = renderer.render(
            statuses[i % 4],
            requests[i % len(requests)],
            request_id="r",
            detail=f"Order {i} could not be saved",
        )
        assert rendered.status == statuses[i % 4]
        highest = max(highest, memo.bytes)
        assert len(memo) <= _memo.MAX_ENTRIES
    assert highest <= _memo.MAX_BYTES
    assert len(memo) == _memo.MAX_ENTRIES  # full: the bound, not a lack of input, kept it small


def test_html_pages_fill_the_byte_bound_and_no_more() -> None:
    """With room for more entries than bytes, the byte bound is the one that stops the memo."""
    renderer = Renderer()
    memo = renderer.memo
    memo.max_entries = 100_000
    request = RequestInfo("GET", "/", headers={"accept": HTML_ACCEPT})
    renderer.render(503, request, request_id="r", detail="Order 0 could not be saved")
    one_page = memo.bytes
    assert one_page > 10_000
    for i in range(1, 1_000):
        renderer.render(503, request, request_id="r", detail=f"Order {i} could not be saved")
        assert memo.bytes <= _memo.MAX_BYTES
    assert len(memo) < 1_000
    assert memo.bytes > _memo.MAX_BYTES - 2 * one_page  # full, to within a page or so
