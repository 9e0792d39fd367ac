"""Display columns and line breaking: exactly textwrap for narrow text, 80 columns for CJK."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from friendly_errors import _wrap


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
    assert _wrap.columns(text) == width


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
    assert _wrap.Wrapper(width, first, rest, break_long_words).wrap(text) == expected


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
    lines = _wrap.Wrapper(width, "  ", "  ").wrap(text)
    assert all(_wrap.columns(line) <= width for line in lines)
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
    assert _wrap.Wrapper(width).wrap(text) == lines


@pytest.mark.parametrize("width", range(10, 30))
def test_a_french_colon_stays_with_its_word(width: int) -> None:
    """The no-break space before a French colon (U+00A0) is part of the word: no line ends
    at it and none starts with the colon."""
    lines = _wrap.Wrapper(width).wrap("Où se situe l'échec\u00a0: au niveau du serveur")
    assert any("l'échec\u00a0:" in line for line in lines), lines
    assert not any(line.endswith("\u00a0") or line.startswith(":") for line in lines)


@pytest.mark.parametrize("width", range(8, 24))
def test_a_full_width_colon_never_starts_a_line(width: int) -> None:
    lines = _wrap.Wrapper(width).wrap("障害の発生箇所：サーバーの問題です。")  # noqa: RUF001
    assert "".join(lines) == "障害の発生箇所：サーバーの問題です。"  # noqa: RUF001
    assert not any(line.startswith("：") for line in lines), lines  # noqa: RUF001


@pytest.mark.parametrize("break_long_words", [True, False])
def test_an_indent_wider_than_the_line_still_ends(break_long_words: bool) -> None:
    lines = _wrap.Wrapper(1, "  - ", "", break_long_words).wrap("   ab サ")
    assert "".join(lines).replace(" ", "").replace("-", "") == "abサ"


def test_a_url_stays_whole_when_words_may_not_be_cut() -> None:
    url = "https://developers.cloudflare.com/" + "x" * 80
    assert _wrap.fill(f"参照 {url}", 40, break_long_words=False).splitlines() == ["参照", url]


@pytest.mark.parametrize(
    ("chunk", "room", "count"),
    [("abcdef", 4, 4), ("abc", 9, 3), ("サーバー", 5, 2), ("サー", 4, 2), ("e\u0301e\u0301", 1, 2)],
    ids=["ascii", "ascii-fits", "wide", "wide-fits", "combining"],
)
def test_how_much_of_a_word_fits(chunk: str, room: int, count: int) -> None:
    assert _wrap.fitting(chunk, room) == count
