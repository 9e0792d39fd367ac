"""Every built-in translation is complete and well-formed, and shows on every page (issue #12).

These are the rules a translator's file is held to: every one of the page's words, every listed code
with exactly the text fields English gives it, lists as long as English's, and placeholders that the
renderer fills. A file that breaks one fails here, naming the language, the table and the field.
"""

from __future__ import annotations

import re
import string
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from friendly_errors import Catalogue
from friendly_errors._loader import LABEL_PLACEHOLDERS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

DATA = Path(__file__).resolve().parent.parent / "src" / "friendly_errors" / "data"

#: The languages issue #12 asks for, besides English.
LANGUAGES = ("ar", "de", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt-BR", "ru", "tr", "zh-Hans")
#: The entries each translation gives: the two classes an error page falls back to and every code
#: the middleware commonly serves.
CODES = (
    "4xx", "5xx", 400, 401, 403, 404, 405, 408, 409, 410, 413, 414, 415, 422, 429, 431, 451, 499,
    500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 510, 511, 520, 521, 522, 523, 524, 525, 526,
    527, 529, 530, 561, 598, 599,
)  # fmt: skip
#: The fields a translation gives; the rest (fault, spec, headers, ...) are facts it inherits.
TEXT_FIELDS = (
    "title", "summary", "description", "causes", "visitor_fixes", "developer_fixes",
    "other_meanings",
)  # fmt: skip
#: The labels that carry a value, and the one placeholder a translation uses in them: a clock time.
#: Only English says "{duration}", as only English has its plural words (issue #12).
TIMED_LABELS = ("retry_wait", "maintenance_until")

FILES = sorted(path for path in DATA.glob("*.toml") if path.stem != "en")
TAGS = [path.stem for path in FILES]


@cache
def read(stem: str) -> Mapping[str, Any]:
    data: dict[str, Any] = tomllib.loads((DATA / f"{stem}.toml").read_text(encoding="utf-8"))
    return data


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_the_languages_of_issue_12_are_all_built_in() -> None:
    assert set(LANGUAGES) <= set(TAGS)
    assert Catalogue.default().locales == ("en", *sorted(TAGS, key=str.lower))


def test_english_gives_every_label_and_every_listed_entry() -> None:
    english = read("en")
    assert set(english["labels"]) == set(LABEL_PLACEHOLDERS)
    assert {str(code) for code in CODES} <= set(english)


@pytest.mark.parametrize("tag", TAGS)
def test_the_file_names_its_language_and_loads(tag: str) -> None:
    assert read(tag)["locale"] == tag
    # The loader checks every field's type and every label's placeholders.
    catalogue = Catalogue.empty().extend(DATA / f"{tag}.toml")
    assert catalogue.locales == (tag,)


@pytest.mark.parametrize("tag", TAGS)
def test_every_label_is_translated_with_the_right_placeholders(tag: str) -> None:
    english, labels = read("en")["labels"], read(tag)["labels"]
    assert sorted(set(english) - set(labels)) == [], "missing labels"
    assert sorted(set(labels) - set(english)) == [], "labels English does not have"
    wrong = {
        name: text
        for name, text in labels.items()
        if placeholders(text) != ({"time"} if name in TIMED_LABELS else set())
    }
    assert wrong == {}, "retry_wait and maintenance_until say {time}; no other label has braces"


@pytest.mark.parametrize("tag", TAGS)
def test_only_the_listed_entries_and_only_text_fields(tag: str) -> None:
    tables = set(read(tag)) - {"locale", "labels"}
    assert sorted(tables - {str(code) for code in CODES}) == []
    facts = {
        f"[{key}] {field}": value
        for key in tables
        for field, value in read(tag)[key].items()
        if field not in TEXT_FIELDS
    }
    assert facts == {}, "facts such as fault or spec are inherited from English, not translated"


@pytest.mark.parametrize("code", CODES, ids=str)
@pytest.mark.parametrize("tag", TAGS)
def test_every_listed_entry_has_the_fields_english_has(tag: str, code: int | str) -> None:
    english, translated = read("en")[str(code)], read(tag).get(str(code))
    assert translated is not None, f"[{code}] is missing"
    wanted = [field for field in TEXT_FIELDS if field in english]
    assert [field for field in TEXT_FIELDS if field in translated] == wanted
    for field in wanted:
        if isinstance(english[field], list):
            assert len(translated[field]) == len(english[field]), f"{field}: one item per item"


@pytest.mark.parametrize("tag", TAGS)
def test_the_catalogue_reports_nothing_untranslated_in_the_listed_entries(tag: str) -> None:
    """What ``friendly-errors list --missing`` says about a complete translation."""
    missing = Catalogue.default().untranslated(tag)
    assert "labels" not in missing
    assert sorted(set(missing) & {str(code) for code in CODES}) == []


def test_the_translators_guide_lists_every_label() -> None:
    guide = (DATA.parent.parent.parent / "docs" / "translating.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", guide, re.MULTILINE))
    assert listed == set(LABEL_PLACEHOLDERS)
    for name, text in read("en")["labels"].items():
        assert f"| `{name}` | {text} |" in guide, f"{name}: the English words in the table"
