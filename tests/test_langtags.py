"""Language tags: the fallback chain, the conventional spelling and the writing direction."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from friendly_errors import _langtags


@pytest.mark.parametrize(
    ("tag", "chain"),
    [
        ("fr", ("fr",)),
        ("fr-CA", ("fr-ca", "fr")),
        ("de-CH-1996", ("de-ch-1996", "de-ch", "de")),
        ("EN_us", ("en-us", "en")),
        ("en-US-x-twain", ("en-us-x-twain", "en-us", "en")),
        ("zh", ("zh", "zh-hans")),
        ("zh-CN", ("zh-cn", "zh-hans-cn", "zh-hans", "zh")),
        ("zh-SG", ("zh-sg", "zh-hans-sg", "zh-hans", "zh")),
        ("zh-Hans-SG", ("zh-hans-sg", "zh-hans", "zh")),
        ("zh-TW", ("zh-tw", "zh-hant-tw", "zh-hant")),
        ("zh-HK", ("zh-hk", "zh-hant-hk", "zh-hant")),
        ("zh-MO", ("zh-mo", "zh-hant-mo", "zh-hant")),
        ("zh-Hant", ("zh-hant",)),
        ("zh-Hant-CN", ("zh-hant-cn", "zh-hant")),
        ("zh-419", ("zh-419", "zh-hans-419", "zh-hans", "zh")),
        ("zh-yue", ("zh-yue", "zh", "zh-hans")),
        ("pt", ("pt", "pt-br")),
        ("pt-BR", ("pt-br", "pt")),
        ("pt-PT", ("pt-pt", "pt", "pt-br")),
        ("pt-AO", ("pt-ao", "pt-pt", "pt", "pt-br")),
        ("x-private", ("x-private",)),
        ("", ()),
        ("-", ()),
    ],
    ids=repr,
)
def test_fallbacks(tag: str, chain: tuple[str, ...]) -> None:
    assert _langtags.fallbacks(tag) == chain


@given(st.from_regex(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8}){0,4}", fullmatch=True))
def test_fallbacks_start_with_the_tag_and_never_repeat(tag: str) -> None:
    chain = _langtags.fallbacks(tag)
    assert chain[0] == _langtags.normalise(tag)
    assert len(set(chain)) == len(chain)


@pytest.mark.parametrize(
    ("tag", "written"),
    [
        ("en", "en"),
        ("PT_br", "pt-BR"),
        ("zh-hans", "zh-Hans"),
        ("sr-latn-rs", "sr-Latn-RS"),
        ("de-ch-1996", "de-CH-1996"),
        ("es-419", "es-419"),
        ("en-us-x-twain", "en-US-x-twain"),
        ("x-whatever-ab", "x-whatever-ab"),
    ],
)
def test_canonical_spelling(tag: str, written: str) -> None:
    assert _langtags.canonical(tag) == written


@pytest.mark.parametrize(
    ("tag", "direction"),
    [
        ("ar", "rtl"),
        ("ar-EG", "rtl"),
        ("he", "rtl"),
        ("fa-IR", "rtl"),
        ("ur", "rtl"),
        ("az-Arab", "rtl"),
        ("ku-Arab-IQ", "rtl"),
        ("en", "ltr"),
        ("ja", "ltr"),
        ("zh-Hans", "ltr"),
        ("ug-Latn", "ltr"),
        ("ar-x-arab", "rtl"),
        ("de-x-arab", "ltr"),
    ],
)
def test_direction(tag: str, direction: str) -> None:
    assert _langtags.direction(tag) == direction
