"""The words around an entry: the route, the retry advice and its clock time, the support block."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from friendly_errors import Catalogue, Fault, _text, _wrap
from friendly_errors.catalogue import StatusInfo

NOW = datetime(2026, 5, 9, 7, 35, 25, tzinfo=timezone.utc)


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


@pytest.mark.parametrize("lang", ["en", "ja", "ko", "zh-Hans", "fr", "ar"])
def test_the_support_block_aligns_its_values_in_display_columns(lang: str) -> None:
    labels = Catalogue.default().labels(lang)
    prefixes = _text.support_prefixes(labels)
    block = _text.support_text(prefixes, 503, "Title", "id-1", "2026-05-09T07:35:25Z", "GET", "/")
    rows = block.split("\n")
    starts = {
        _wrap.columns(row[: row.index(value)]) for row, value in zip(rows, VALUES, strict=True)
    }
    assert len(starts) == 1, block
    assert rows[0].startswith(labels["status"] + labels["colon"])


VALUES = ("503 Title", "id-1", "2026-05-09T07:35:25Z", "GET /")


def test_english_support_block_is_unchanged() -> None:
    prefixes = _text.support_prefixes(Catalogue.default().labels())
    block = _text.support_text(prefixes, 503, "Service Unavailable", "r", "t", "GET", "/a")
    assert block == (
        "Status:     503 Service Unavailable\nRequest ID: r\nTime (UTC): t\nRequest:    GET /a"
    )


def test_a_full_width_colon_lines_up_in_two_columns() -> None:
    """Japanese: the colon is two columns wide and takes no space after it, so the longest label's
    value follows it directly and the others are padded to meet it."""
    prefixes = _text.support_prefixes(Catalogue.default().labels("ja"))
    block = _text.support_text(prefixes, 503, "Title", "id-1", "t", "GET", "/")
    assert block == (
        "ステータス：  503 Title\nリクエストID：id-1\n時刻（UTC）： t\nリクエスト：  GET /"  # noqa: RUF001
    )


#: The colon of each language as ``_text.colon`` splits it: the mark, then the space before a value.
COLONS = {
    "en": (":", " "),
    "fr": ("\u00a0:", " "),
    "ja": ("：", ""),  # noqa: RUF001
    "zh-Hans": ("：", ""),  # noqa: RUF001
    "ko": (":", " "),
    "ar": (":", " "),
}


@pytest.mark.parametrize("lang", Catalogue.default().locales)
def test_each_language_has_its_colon(lang: str) -> None:
    assert _text.colon(Catalogue.default().labels(lang)) == COLONS.get(lang, (":", " "))


def test_a_catalogue_that_gives_no_colon_keeps_the_one_beneath(tmp_path: Path) -> None:
    """A user's language without ``colon`` gets English's; a user's French words keep French's."""
    (tmp_path / "sv.toml").write_text(
        'locale = "sv"\n[labels]\nroute = "Var det gick fel"\n', encoding="utf-8"
    )
    catalogue = Catalogue.default().extend(tmp_path / "sv.toml")
    catalogue = catalogue.extend({"labels": {"route": "Itinéraire"}}, locale="fr")
    assert _text.colon(catalogue.labels("sv")) == (":", " ")
    assert _text.colon(catalogue.labels("fr")) == ("\u00a0:", " ")


@pytest.mark.parametrize(
    ("colon", "parts"),
    [(" : ", (" :", " ")), ("\u00a0:\t", ("\u00a0:", "\t")), ("->", ("->", ""))],
    ids=["spaced", "tab", "no-space"],
)
def test_only_the_white_space_at_the_end_of_a_colon_is_left_out_at_a_line_end(
    colon: str, parts: tuple[str, str]
) -> None:
    assert _text.colon({"colon": colon}) == parts


@pytest.mark.parametrize("lang", Catalogue.default().locales)
def test_each_language_has_its_full_stop(lang: str) -> None:
    stop = "\u3002" if lang in ("ja", "zh-Hans") else "."
    assert _text.full_stop(Catalogue.default().labels(lang)) == stop


def test_a_catalogue_that_gives_no_full_stop_keeps_the_one_beneath(tmp_path: Path) -> None:
    (tmp_path / "sv.toml").write_text(
        'locale = "sv"\n[labels]\ndefined_in = "Definierad i"\n', encoding="utf-8"
    )
    catalogue = Catalogue.default().extend(tmp_path / "sv.toml")
    catalogue = catalogue.extend({"labels": {"defined_in": "定義"}}, locale="ja")
    assert _text.full_stop(catalogue.labels("sv")) == "."
    assert _text.full_stop(catalogue.labels("ja")) == "\u3002"


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
