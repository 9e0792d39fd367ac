"""The words around an entry and the plain-text layout: display columns, wrapping, the retry line."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from friendly_errors import Catalogue, Fault, _text
from friendly_errors.catalogue import StatusInfo

NOW = datetime(2026, 5, 9, 7, 35, 25, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("", 0),
        ("Status", 6),
        ("ステータス", 10),
        ("时间（UTC）", 11),  # noqa: RUF001
        ("상태 코드", 9),
        ("الحالة", 6),
        ("مَرْحَبًا", 5),
        ("Ｆｕｌｌ", 8),  # noqa: RUF001
        ("e\u0301te\u0301", 3),
        ("a\u200db", 2),
    ],
    ids=["empty", "latin", "japanese", "chinese", "korean", "arabic", "arabic-vowels", "fullwidth",
         "combining", "joiner"],
)  # fmt: skip
def test_display_columns(text: str, width: int) -> None:
    assert _text.columns(text) == width


# Text the wrapper must lay out exactly as textwrap does: no wide or zero-width characters.
NARROW = st.text(
    st.sampled_from([*"abcdefghij XYZ.,;:-/'\t\n\r\x0b\x0c", "é", "ß", "ж", "ι", "\u00a0"]),  # noqa: RUF001
    max_size=300,
)


@settings(max_examples=300)
@given(
    NARROW,
    st.integers(1, 90),
    st.sampled_from(["", "  ", "  - "]),
    st.sampled_from(["", "    "]),
    st.booleans(),
)
def test_narrow_text_wraps_exactly_as_textwrap(
    text: str, width: int, first: str, rest: str, break_long_words: bool
) -> None:
    # textwrap never returns when an indent leaves no room on a line.
    assume(width > max(len(first), len(rest)))
    expected = textwrap.wrap(
        text,
        width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=break_long_words,
        break_on_hyphens=False,
    )
    assert _text.Wrapper(width, first, rest, break_long_words).wrap(text) == expected


WIDE = st.text(
    st.sampled_from(
        [
            *"サーバーの問題です。ブラウザ（CDN）「no live」、服务器错误，请稍后重试서버 오류 발생",  # noqa: RUF001
            *"abc Retry-After 503 ",
        ]
    ),
    max_size=400,
)


@settings(max_examples=300)
@given(WIDE, st.integers(10, 90))
def test_cjk_lines_fit_in_their_columns_and_lose_nothing(text: str, width: int) -> None:
    lines = _text.Wrapper(width, "  ", "  ").wrap(text)
    assert all(_text.columns(line) <= width for line in lines)
    assert "".join(line[2:] for line in lines).replace(" ", "") == "".join(text.split())


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        pytest.param(
            "サーバーの問題です。ブラウザは正常です。", 20,
            ["サーバーの問題です。", "ブラウザは正常です。"],
            id="breaks-between-characters",
        ),
        pytest.param(
            "あいうえおかきくけ。こ", 18, ["あいうえおかきく", "け。こ"],
            id="full-stop-never-starts-a-line",
        ),
        pytest.param(
            "あいうえおかき「くけこ」", 16, ["あいうえおかき", "「くけこ」"],
            id="opening-bracket-never-ends-a-line",
        ),
        pytest.param(
            "待つべき時間を示すRetry-Afterヘッダー", 24,
            ["待つべき時間を示す", "Retry-Afterヘッダー"],
            id="latin-word-stays-whole",
        ),
        pytest.param(
            "서버 오류가 발생했습니다 잠시 후 다시", 16,
            ["서버 오류가", "발생했습니다", "잠시 후 다시"],
            id="korean-breaks-at-spaces",
        ),
        pytest.param(
            "لم يتمكن الخادم من معالجة الطلب", 16, ["لم يتمكن الخادم", "من معالجة الطلب"],
            id="arabic-at-spaces",
        ),
    ],
)  # fmt: skip
def test_cjk_wrapping(text: str, width: int, lines: list[str]) -> None:
    assert _text.Wrapper(width).wrap(text) == lines


@pytest.mark.parametrize("break_long_words", [True, False])
def test_an_indent_wider_than_the_line_still_ends(break_long_words: bool) -> None:
    lines = _text.Wrapper(1, "  - ", "", break_long_words).wrap("   ab サ")
    assert "".join(lines).replace(" ", "").replace("-", "") == "abサ"


def test_a_url_stays_whole_when_words_may_not_be_cut() -> None:
    url = "https://developers.cloudflare.com/" + "x" * 80
    assert _text.fill(f"参照 {url}", 40, break_long_words=False).splitlines() == ["参照", url]


@pytest.mark.parametrize(
    ("now", "seconds", "shown"),
    [
        (NOW, 120, "07:38"),
        (NOW, 35, "07:36"),
        (NOW.replace(second=0), 60, "07:36"),
        (NOW.replace(hour=23, minute=59), 30, "2026-05-10 00:00"),
        (NOW, 3 * 86400, "2026-05-12 07:36"),
        (NOW.astimezone(timezone(timedelta(hours=9))), 120, "07:38"),
        (NOW.replace(tzinfo=None), 120, "07:38"),
        (NOW, 10**30, "2126-"),
    ],
    ids=["minutes", "rounded-up", "exact-minute", "tomorrow", "days", "aware", "naive", "huge"],
)
def test_clock_time(now: datetime, seconds: int, shown: str) -> None:
    assert _text.clock_time(now, seconds).startswith(shown)


def info(fault: Fault = Fault.SERVER, retryable: bool = False) -> StatusInfo:
    return StatusInfo(code=599, title="Odd", fault=fault, retryable=retryable)


@pytest.mark.parametrize(
    ("entry", "retry_after", "key"),
    [
        (info(retryable=True), None, "retry_usually"),
        (info(Fault.CLIENT), None, "retry_client"),
        (info(Fault.SERVER), None, "retry_unlikely"),
        (info(Fault.INTERMEDIARY), None, "retry_unlikely"),
        (info(Fault.SERVER), 0, "retry_now"),
    ],
    ids=["retryable", "client", "server", "intermediary", "now"],
)
@pytest.mark.parametrize("lang", ["en", "ja", "fr"])
def test_retry_advice_says_the_languages_words(
    entry: StatusInfo, retry_after: int | None, key: str, lang: str
) -> None:
    labels = Catalogue.default().labels(lang)
    assert _text.retry_advice(entry, retry_after, labels, NOW) == labels[key]


def test_retry_advice_is_empty_when_nothing_failed() -> None:
    assert _text.retry_advice(info(Fault.NONE), None, Catalogue.default().labels()) == ""


@pytest.mark.parametrize(
    ("lang", "seconds", "shown"),
    [
        ("en", 120, "try again in about 2 minutes."),
        ("en", 1, "try again in 1 second."),
        ("ja", 120, "07:38 UTC"),
        ("ja", 86400, "2026-05-10 07:36 UTC"),
        ("fr", 120, "07:38"),
    ],
)
def test_a_wait_is_words_in_english_and_a_clock_time_elsewhere(
    lang: str, seconds: int, shown: str
) -> None:
    labels = Catalogue.default().labels(lang)
    assert shown in _text.retry_advice(info(retryable=True), seconds, labels, NOW)


def test_retry_advice_defaults_to_the_current_time() -> None:
    labels = Catalogue.default().labels("ja")
    advice = _text.retry_advice(info(retryable=True), 3600, labels)
    later = _text.clock_time(datetime.now(timezone.utc), 3600)
    earlier = _text.clock_time(datetime.now(timezone.utc) - timedelta(minutes=1), 3600)
    assert later in advice or earlier in advice


@pytest.mark.parametrize("lang", ["en", "ja", "ko", "zh-Hans", "fr"])
def test_the_support_block_aligns_its_values_in_display_columns(lang: str) -> None:
    labels = Catalogue.default().labels(lang)
    prefixes = _text.support_prefixes(labels)
    block = _text.support_text(prefixes, 503, "Title", "id-1", "2026-05-09T07:35:25Z", "GET", "/")
    rows = block.split("\n")
    starts = {
        _text.columns(row[: row.index(value)]) for row, value in zip(rows, VALUES, strict=True)
    }
    assert len(starts) == 1, block
    assert rows[0].startswith(labels["status"] + ":")


VALUES = ("503 Title", "id-1", "2026-05-09T07:35:25Z", "GET /")


def test_english_support_block_is_unchanged() -> None:
    prefixes = _text.support_prefixes(Catalogue.default().labels())
    block = _text.support_text(prefixes, 503, "Service Unavailable", "r", "t", "GET", "/a")
    assert block == (
        "Status:     503 Service Unavailable\nRequest ID: r\nTime (UTC): t\nRequest:    GET /a"
    )


@pytest.mark.parametrize("fault", list(Fault), ids=lambda f: f.value)
@pytest.mark.parametrize("lang", ["en", "ja", "ko", "zh-Hans", "fr", "es", "it", "pt-BR"])
def test_route_words_come_from_the_labels(fault: Fault, lang: str) -> None:
    labels = Catalogue.default().labels(lang)
    steps = _text.route(fault, labels)
    assert [step.label for step in steps if step.kind == "node"] == [
        labels["browser"],
        labels["intermediary"],
        labels["origin"],
    ]
    assert {step.state_label for step in steps} <= {
        labels[key]
        for key in ("state_ok", "state_failed", "state_unknown", "link_ok", "link_failed")
    }
    assert _text.fault_caption(fault, labels) == labels[f"fault_{fault.value}"]
