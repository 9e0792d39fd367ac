from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from friendly_errors import Catalogue, CatalogueError, Fault, StatusInfo

# The IANA HTTP Status Code Registry, as RFC 9110 and the later RFCs name the codes.
REGISTRY = {
    100: "Continue",
    101: "Switching Protocols",
    102: "Processing",
    103: "Early Hints",
    104: "Upload Resumption Supported",
    200: "OK",
    201: "Created",
    202: "Accepted",
    203: "Non-Authoritative Information",
    204: "No Content",
    205: "Reset Content",
    206: "Partial Content",
    207: "Multi-Status",
    208: "Already Reported",
    226: "IM Used",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    305: "Use Proxy",
    306: "(Unused)",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Content Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    416: "Range Not Satisfiable",
    417: "Expectation Failed",
    418: "(Unused)",
    421: "Misdirected Request",
    422: "Unprocessable Content",
    423: "Locked",
    424: "Failed Dependency",
    425: "Too Early",
    426: "Upgrade Required",
    428: "Precondition Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates",
    507: "Insufficient Storage",
    508: "Loop Detected",
    510: "Not Extended",
    511: "Network Authentication Required",
}
UNOFFICIAL = [
    *(520, 521, 522, 523, 524, 525, 526, 527, 530),  # Cloudflare
    *(444, 494, 495, 496, 497, 499),  # nginx
    *(460, 463, 464, 561),  # AWS load balancers
    *(440, 449),  # IIS
    *(419, 420, 430, 450, 498, 509, 529, 598, 599),
]
SEVERAL_MEANINGS = [420, 451, 499, 529]
REQUIRED_TEXT = (
    "title",
    "summary",
    "description",
    "causes",
    "visitor_fixes",
    "developer_fixes",
    "spec",
    "spec_url",
)


@pytest.fixture(scope="module")
def default() -> Catalogue:
    return Catalogue.default()


# -- the built-in content ---------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(REGISTRY) + sorted(UNOFFICIAL))
def test_every_listed_code_has_a_complete_entry(default: Catalogue, code: int) -> None:
    assert code in default
    info = default.get(code)
    assert info.code == code
    for name in REQUIRED_TEXT:
        value = getattr(info, name)
        assert value, f"{code}: {name} is empty"
        if isinstance(value, tuple):
            assert all(item.strip() for item in value)
    assert info.spec_url.startswith("https://")
    assert isinstance(info.fault, Fault)


@pytest.mark.parametrize(("code", "title"), sorted(REGISTRY.items()))
def test_official_titles_are_the_registry_phrases(
    default: Catalogue, code: int, title: str
) -> None:
    info = default.get(code)
    assert info.title == title
    assert info.official is True


@pytest.mark.parametrize("code", sorted(UNOFFICIAL))
def test_unofficial_codes_say_so(default: Catalogue, code: int) -> None:
    info = default.get(code)
    assert info.official is False
    assert "non-standard" in info.spec


@pytest.mark.parametrize("code", SEVERAL_MEANINGS)
def test_numbers_with_several_meanings_say_so(default: Catalogue, code: int) -> None:
    assert default.get(code).other_meanings


@pytest.mark.parametrize(
    ("code", "fault"),
    [
        (200, Fault.NONE),
        (404, Fault.CLIENT),
        (500, Fault.SERVER),
        (502, Fault.INTERMEDIARY),
        (504, Fault.INTERMEDIARY),
        (522, Fault.INTERMEDIARY),
        (524, Fault.INTERMEDIARY),
    ],
)
def test_fault_of_well_known_codes(default: Catalogue, code: int, fault: Fault) -> None:
    assert default.get(code).fault is fault


@pytest.mark.parametrize(
    ("code", "header"), [(503, "Retry-After"), (429, "Retry-After"), (405, "Allow")]
)
def test_headers_that_matter(default: Catalogue, code: int, header: str) -> None:
    assert header in default.get(code).headers


def test_the_522_entry_tells_an_operator_where_to_look_first(default: Catalogue) -> None:
    info = default.get(522)
    first = info.developer_fixes[0].lower()
    assert any(word in first for word in ("firewall", "origin", "cloudflare ip"))
    assert info.retryable


def test_texts_are_single_spaced_sentences(default: Catalogue) -> None:
    for info in default:
        for sentence in (*info.causes, *info.visitor_fixes, *info.developer_fixes):
            assert sentence.rstrip().endswith((".", "!", "?", ")")), (info.code, sentence)
        assert "\n" not in info.summary


# Codes with no entry of their own, so get() returns their class entry.
CLASS_CODES = [190, 290, 390, 490, 590]


def _every_entry(catalogue: Catalogue) -> Iterator[StatusInfo]:
    """Every entry a reader can be shown: the codes, then the five class entries."""
    yield from catalogue
    for code in CLASS_CODES:
        assert code not in catalogue
        yield catalogue.get(code)


# Advice that waiting or repeating the request will work, which a non-retryable entry contradicts.
RETRY_HELPS = re.compile(
    r"\btry (again )?later\b|\btry again (after|in)\b|\bwait (a (minute|while)|and (try|reload))",
    re.IGNORECASE,
)


def test_entries_that_are_not_retryable_never_say_retrying_helps(default: Catalogue) -> None:
    for info in _every_entry(default):
        if not info.retryable:
            for sentence in (info.summary, *info.visitor_fixes):
                assert not RETRY_HELPS.search(sentence), (info.code, sentence)


def _reader_text(info: StatusInfo) -> Iterator[str]:
    """Every sentence of an entry that a page, a JSON body or an export can show."""
    yield from (info.title, info.summary, info.description, *info.causes)
    yield from (*info.visitor_fixes, *info.developer_fixes, *info.other_meanings)


# Public text speaks to the reader about the status, never about how the catalogue was made.
META = [
    pytest.param(r"\bfiled here\b", id="filed-here"),
    pytest.param(r"\bclassed as\b", id="classed-as"),
    pytest.param(r"\bthis entry\b", id="this-entry"),
    pytest.param(r"\ban entry of its own\b", id="entry-of-its-own"),
    pytest.param(r"\bcould not confirm\b", id="could-not-confirm"),
    pytest.param(r"\btreat details\b", id="treat-details"),
    pytest.param(r"\b(we|our)\b", id="we-or-our"),
]


@pytest.mark.parametrize("pattern", META)
def test_public_text_has_no_notes_about_the_catalogue(default: Catalogue, pattern: str) -> None:
    meta = re.compile(pattern, re.IGNORECASE)
    for info in _every_entry(default):
        for sentence in _reader_text(info):
            assert not meta.search(sentence), (info.code, sentence)


def _field_text(info: StatusInfo, field: str) -> str:
    """A text field of an entry as one string; list fields are joined."""
    value = getattr(info, field)
    return " ".join(value) if isinstance(value, tuple) else str(value)


# Facts checked against primary sources in issue #11: each row fails on the text it replaced.
# Rows: code, field, phrases the field must contain, phrases it must not contain.
TEXT_FACTS = [
    pytest.param(
        524,
        "description",
        ("120 seconds", "100 seconds", "between two reads"),
        ("100 seconds by default",),
        id="524-read-timeout-120s-older-sources-100s",
    ),
    pytest.param(524, "causes", (), ("100 seconds",), id="524-causes-no-100s"),
    pytest.param(524, "developer_fixes", ("stream",), ("100 seconds",), id="524-fix-send-early"),
    pytest.param(
        494, "description", ("414",), ("request line or header",), id="494-long-request-line-is-414"
    ),
    pytest.param(
        204,
        "developer_fixes",
        ("no Content-Length header at all",),
        ("non-zero Content-Length",),
        id="204-no-content-length",
    ),
    pytest.param(
        529, "developer_fixes", ("30 minutes",), ("15 to 30",), id="529-ssl-labs-30-minutes"
    ),
    pytest.param(527, "visitor_fixes", ("will not help",), ("Try again",), id="527-not-retryable"),
    pytest.param(561, "visitor_fixes", (), ("Try signing in again",), id="561-not-retryable"),
    pytest.param(
        503,
        "developer_fixes",
        ("HAProxy", "Envoy", "Kubernetes", "no registered targets", "no live upstreams"),
        ("a failing check can empty the pool",),
        id="503-empty-pool-depends-on-the-proxy",
    ),
    pytest.param(430, "description", (), ("early drafts", "could not"), id="430-no-draft-claim"),
    pytest.param(430, "other_meanings", (), ("drafts",), id="430-other-meaning-no-draft-claim"),
    pytest.param(
        430,
        "developer_fixes",
        ("Shopify-Storefront-Buyer-IP",),
        (),
        id="430-names-the-buyer-ip-header",
    ),
    pytest.param(520, "causes", ("32 KB", "16 KB", "128 KB"), (), id="520-both-header-limits"),
    pytest.param(
        502,
        "developer_fixes",
        (
            "connect() failed (111: Connection refused)",
            "Permission denied) while connecting to upstream",
            "SELinux",
            "upstream sent too big header",
            "proxy_buffer_size",
            "no live upstreams",
            "keep-alive timeout longer than the idle timeout",
        ),
        (),
        id="502-nginx-log-lines-to-fixes",
    ),
    pytest.param(
        504, "developer_fixes", ("524", "60 seconds by default"), (), id="504-cloudflare-and-alb"
    ),
    pytest.param(526, "developer_fixes", ("Custom Origin Trust Store",), (), id="526-trust-store"),
    pytest.param(464, "causes", ("not a POST",), (), id="464-non-post-to-grpc"),
    pytest.param(
        463,
        "visitor_fixes",
        ("not yours to fix",),
        ("Turn off any VPN",),
        id="463-vpn-adds-nothing",
    ),
    pytest.param(523, "description", (), ("a network device between",), id="523-own-words"),
    pytest.param(460, "description", (), ("idle timeout period elapses",), id="460-own-words"),
    pytest.param(
        460, "developer_fixes", (), ("raise its timeout to match",), id="460-fixes-own-words"
    ),
    pytest.param(
        501, "description", (), ("does not support the functionality",), id="501-own-words"
    ),
    pytest.param(505, "description", (), ("or refuses to support",), id="505-own-words"),
    pytest.param(
        190, "developer_fixes", ("Never send a 1xx",), ("Avoid",), id="1xx-must-not-reach-http-1.0"
    ),
    *(
        pytest.param(code, "description", ("informal name",), (), id=f"{code}-title-is-informal")
        for code in (460, 463, 464)
    ),
]


@pytest.mark.parametrize(("code", "field", "present", "absent"), TEXT_FACTS)
def test_reviewed_facts_in_the_text(
    default: Catalogue, code: int, field: str, present: tuple[str, ...], absent: tuple[str, ...]
) -> None:
    text = _field_text(default.get(code), field)
    for phrase in present:
        assert phrase in text, (code, field, phrase)
    for phrase in absent:
        assert phrase not in text, (code, field, phrase)


# Rows: code, field, expected value.
FIELD_FACTS = [
    pytest.param(529, "retry_after", 1800, id="529-ssl-labs-waits-30-minutes"),
    pytest.param(451, "fault", Fault.SERVER, id="451-legal-block-is-the-operators"),
]


@pytest.mark.parametrize(("code", "field", "expected"), FIELD_FACTS)
def test_reviewed_facts_in_the_fields(
    default: Catalogue, code: int, field: str, expected: object
) -> None:
    assert getattr(default.get(code), field) == expected


# -- lookup and fallback --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "title", "official"),
    [
        pytest.param(524, "A Timeout Occurred", False, id="exact"),
        pytest.param(532, "Server Error", False, id="class-entry"),
        pytest.param(490, "Client Error", False, id="class-entry-4xx"),
        pytest.param(799, "Unknown status", False, id="unknown"),
    ],
)
def test_fallback_chain(default: Catalogue, code: int, title: str, official: bool) -> None:
    info = default.get(code)
    assert (info.code, info.title, info.official) == (code, title, official)


def test_class_fallback_keeps_the_class_text(default: Catalogue) -> None:
    generic = default.get(532)
    assert generic.summary == default.get(531).summary
    assert generic.summary != default.get(500).summary
    assert generic.causes and generic.developer_fixes
    assert generic.fault is Fault.SERVER


def test_reason_phrase_fallback_in_an_empty_catalogue() -> None:
    empty = Catalogue.empty()
    assert empty.get(503).title == "Service Unavailable"
    assert empty.get(503).fault is Fault.SERVER
    assert empty.get(404).fault is Fault.CLIENT
    assert empty.get(302).fault is Fault.NONE
    assert empty.get(599).title == "Unknown status"
    assert len(empty) == 0


@given(st.integers(min_value=100, max_value=999), st.text(max_size=40))
def test_get_never_raises_in_range(code: int, locale: str) -> None:
    info = Catalogue.default().get(code, locale)
    assert info.code == code
    assert info.title


@pytest.mark.parametrize("code", [-1, 0, 99, 1000, 10**9])
def test_get_rejects_codes_out_of_range(default: Catalogue, code: int) -> None:
    with pytest.raises(ValueError, match="from 100 to 999"):
        default.get(code)


@pytest.mark.parametrize("code", [True, "500", 500.0, None])
def test_get_rejects_non_integers(default: Catalogue, code: object) -> None:
    with pytest.raises(TypeError, match="must be an int"):
        default.get(code)  # type: ignore[arg-type]


def test_entries_are_frozen(default: Catalogue) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        default.get(500).title = "x"  # type: ignore[misc]
    assert default.get(500).status_class == "5xx"
    assert default.get(500).is_error and not default.get(302).is_error


# -- extending --------------------------------------------------------------------------------


def test_extend_merges_field_by_field(default: Catalogue) -> None:
    extended = default.extend({524: {"summary": "Our report service took too long."}})
    info = extended.get(524)
    assert info.summary == "Our report service took too long."
    assert info.title == "A Timeout Occurred"
    assert info.causes == default.get(524).causes
    assert default.get(524).summary != info.summary, "extend must not change the original"


def test_extend_adds_a_code_with_a_title(default: Catalogue) -> None:
    extended = default.extend({"599": {"title": "Upstream Gave Up", "fault": "intermediary"}})
    info = extended.get(599)
    assert (info.title, info.fault) == ("Upstream Gave Up", Fault.INTERMEDIARY)
    assert 599 in extended


def test_extend_new_code_without_title_fails() -> None:
    with pytest.raises(CatalogueError, match=r"mapping: code 777: field 'title'"):
        Catalogue.default().extend({777: {"summary": "No heading."}})


def test_extend_class_entry_applies_to_codes_without_their_own() -> None:
    extended = Catalogue.default().extend({"5xx": {"summary": "Our servers are having a moment."}})
    assert extended.get(532).summary == "Our servers are having a moment."
    assert extended.get(500).summary != "Our servers are having a moment."


def test_extend_with_another_catalogue() -> None:
    theirs = Catalogue.empty().extend({524: {"title": "Slow Origin"}})
    merged = Catalogue.default().extend(theirs)
    assert merged.get(524).title == "Slow Origin"
    assert merged.get(524).causes
    with pytest.raises(TypeError, match="locale="):
        Catalogue.default().extend(theirs, locale="fr")


def test_extend_rejects_other_sources() -> None:
    with pytest.raises(TypeError, match="not int"):
        Catalogue.default().extend(42)  # type: ignore[arg-type]


def test_a_new_code_takes_neither_officialness_nor_a_link_from_its_class() -> None:
    extended = Catalogue.default().extend(
        {590: {"title": "Upstream Quota Exhausted", "spec": "Acme gateway (non-standard)"}}
    )
    info = extended.get(590)
    assert info.official is False
    assert (info.spec, info.spec_url) == ("Acme gateway (non-standard)", "")
    assert info.summary == extended.get(591).summary, "other texts still come from the class"
    assert extended.get(591).official is False


def test_the_entry_says_which_language_its_text_is_in() -> None:
    # Swedish: a language the built-in catalogue does not have.
    catalogue = Catalogue.default().extend(
        {524: {"summary": "Ursprungsservern svarade för sent."}}, locale="sv"
    )
    assert catalogue.get(524, "sv-FI").locale == "sv"
    assert catalogue.get(503, "sv").locale == "en", "no Swedish text for 503: it is English"
    assert catalogue.get(524).locale == "en"
    with_class = catalogue.extend({"5xx": {"summary": "Serverfel."}}, locale="sv")
    assert with_class.get(532, "sv").locale == "sv"
    assert with_class.get(503, "sv").locale == "en", "an exact English entry beats a Swedish class"
    title_only = Catalogue.default().extend({502: {"title": "Felaktig gateway"}}, locale="sv")
    assert title_only.get(502, "sv").locale == "sv", "any Swedish text makes it a Swedish entry"
    assert Catalogue.empty().get(503, "sv").locale == "en"
    assert Catalogue.default().get(503, "fr").locale == "fr", "French is built in"


def test_languages_fall_back_field_by_field() -> None:
    # Swedish: a language the built-in catalogue does not have.
    catalogue = Catalogue.default().extend(
        {524: {"title": "Tidsgränsen nåddes", "summary": "Ursprungsservern svarade för sent."}},
        locale="sv",
    )
    assert catalogue.locales[0] == "en" and "sv" in catalogue.locales
    for tag in ("sv", "sv-FI", "SV_fi", "sv-x-private"):
        info = catalogue.get(524, tag)
        assert info.title == "Tidsgränsen nåddes", tag
        assert info.causes == Catalogue.default().get(524).causes
    assert catalogue.get(524, "fi").title == "A Timeout Occurred"
    assert catalogue.get(503, "sv").title == "Service Unavailable"
    assert catalogue.codes("sv") == catalogue.codes("en")


def test_languages_are_spelled_as_usual_whatever_their_files_say() -> None:
    catalogue = Catalogue.empty().extend({503: {"title": "x"}}, locale="PT_br")
    assert catalogue.locales == ("pt-BR",)
    assert catalogue.get(503, "pt-br").locale == "pt-BR"
    assert "zh-Hans" in Catalogue.default().locales


@pytest.mark.parametrize(
    ("tag", "locale"),
    [("zh-CN", "zh-Hans"), ("zh-SG", "zh-Hans"), ("zh-TW", "en"), ("pt-PT", "pt-BR")],
)
def test_lookups_follow_the_same_tag_mapping_as_negotiation(tag: str, locale: str) -> None:
    assert Catalogue.default().get(503, tag).locale == locale
    expected = Catalogue.default().labels(locale)
    assert Catalogue.default().labels(tag) == expected


def test_a_catalogue_without_words_has_the_built_in_english_ones() -> None:
    english = Catalogue.default().labels()
    assert Catalogue.empty().labels("fr") == english
    ours = Catalogue.empty().extend({"labels": {"error": "Oops"}})
    assert ours.labels()["error"] == "Oops"
    assert ours.labels()["what_happened"] == english["what_happened"]


def test_one_word_of_a_built_in_language_can_be_overridden() -> None:
    overridden = Catalogue.default().extend({"labels": {"error": "エラー発生"}}, locale="ja")
    assert overridden.labels("ja")["error"] == "エラー発生"
    assert overridden.labels("ja")["home"] == Catalogue.default().labels("ja")["home"]


def test_untranslated_lists_what_falls_back_to_english() -> None:
    catalogue = Catalogue.default().extend(
        {
            "labels": {"error": "Fel"},
            503: {"title": "Otillgänglig", "summary": "Inte nu."},
            "5xx": {"title": "Serverfel"},
        },
        locale="sv",
    )
    missing = catalogue.untranslated("sv")
    assert list(missing)[:2] == ["labels", "1xx"], "labels first, then the classes, then codes"
    assert "error" not in missing["labels"] and "what_happened" in missing["labels"]
    assert missing["503"] == ("description", "causes", "visitor_fixes", "developer_fixes")
    assert "title" not in missing["5xx"] and "summary" in missing["5xx"]
    assert missing["100"] == ("title", "summary", "description", "causes", "visitor_fixes",
                              "developer_fixes")  # fmt: skip
    assert catalogue.untranslated("sv-FI") == missing
    for english in ("en", "en-GB", ""):
        assert catalogue.untranslated(english) == {}


def test_built_in_languages_are_read_when_first_asked_for() -> None:
    default = Catalogue.default()
    extended = default.extend({503: {"summary": "Ours"}})
    # Extending another language keeps the built-in ones as they were: shared, read once.
    assert extended._files.keys() == default._files.keys()
    assert all(extended._files[tag] is default._files[tag] for tag in default._files)
    assert extended.get(503, "ja").title == default.get(503, "ja").title
    merged = default.extend({503: {"summary": "Nous"}}, locale="fr")
    assert "fr" not in merged._files
    assert merged.get(503, "fr").summary == "Nous"
    assert merged.get(503, "fr").title == default.get(503, "fr").title


def test_a_catalogue_with_built_in_languages_layers_like_any_other() -> None:
    default = Catalogue.default()
    # Nothing of Japanese here yet: the built-in file stays unread, shared.
    copied = Catalogue.empty().extend(default)
    assert copied._files["ja"] is default._files["ja"]
    assert copied.get(503, "ja") == default.get(503, "ja")
    # Something of Japanese here: the built-in file goes on top of it, as a later layer does.
    ours = Catalogue.empty().extend({503: {"title": "ours", "summary": "ours"}}, locale="ja")
    layered = ours.extend(default)
    assert "ja" not in layered._files
    assert layered.get(503, "ja").title == default.get(503, "ja").title


def test_a_built_in_file_must_name_its_own_language(tmp_path: Path) -> None:
    from friendly_errors.catalogue import _BuiltInFile

    path = write(tmp_path, "xx.toml", 'locale = "yy"\n[503]\ntitle = "x"\n')
    with pytest.raises(CatalogueError, match=r"xx\.toml: field 'locale': must name .* 'xx'"):
        _BuiltInFile(path, "xx").entries()
    assert _BuiltInFile(write(tmp_path, "yy.toml", 'locale = "yy"\n'), "yy").entries() == {}


def test_repr_names_languages_and_sizes() -> None:
    found = re.fullmatch(r"Catalogue\(\{(.*)\}\)", repr(Catalogue.default()))
    assert found is not None
    sizes = dict(item.split(": ") for item in found.group(1).split(", "))
    assert int(sizes["en"]) > 50 and set(sizes) == set(Catalogue.default().locales)


# -- files ------------------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_extend_from_toml_file_with_its_own_locale(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "de.toml",
        'locale = "de"\n[503]\ntitle = "Dienst nicht verfügbar"\nretry_after = 30\n',
    )
    catalogue = Catalogue.default().extend(path)
    assert catalogue.get(503, "de-AT").title == "Dienst nicht verfügbar"
    assert catalogue.get(503, "de").retry_after == 30
    assert catalogue.get(503).title == "Service Unavailable"


def test_extend_from_json_file(tmp_path: Path) -> None:
    path = write(tmp_path, "extra.json", json.dumps({"524": {"summary": "Slow."}}))
    assert Catalogue.default().extend(str(path)).get(524).summary == "Slow."


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        pytest.param(
            "a.toml",
            '[524]\ntitel = "typo"\n',
            r"a\.toml: code 524: field 'titel': unknown field",
            id="unknown-field",
        ),
        pytest.param(
            "a.toml",
            '[524]\ncauses = "one string"\n',
            r"a\.toml: code 524: field 'causes': expected a list of non-empty strings",
            id="wrong-type-list",
        ),
        pytest.param(
            "a.toml",
            '[524]\nretryable = "yes"\n',
            r"a\.toml: code 524: field 'retryable': expected true or false",
            id="wrong-type-bool",
        ),
        pytest.param(
            "a.toml",
            '[524]\nfault = "cdn"\n',
            r"a\.toml: code 524: field 'fault': expected one of 'none', 'client'",
            id="fault-outside-the-set",
        ),
        pytest.param(
            "a.toml",
            "[524]\nretry_after = -5\n",
            r"a\.toml: code 524: field 'retry_after'",
            id="negative-retry-after",
        ),
        pytest.param(
            "a.toml",
            '[524]\nheaders = ["Retry After"]\n',
            r"a\.toml: code 524: field 'headers'",
            id="bad-header-name",
        ),
        pytest.param(
            "a.toml",
            '[1000]\ntitle = "Too big"\n',
            r"a\.toml: code 1000: outside the range 100 to 999",
            id="code-above-range",
        ),
        pytest.param(
            "a.toml",
            '[42]\ntitle = "Too small"\n',
            r"a\.toml: code 42: outside the range",
            id="code-below-range",
        ),
        pytest.param(
            "a.toml",
            '[teapot]\ntitle = "x"\n',
            r"a\.toml: code 'teapot': not a status code",
            id="not-a-code",
        ),
        pytest.param(
            "a.toml",
            '[777]\nsummary = "untitled"\n',
            r"a\.toml: code 777: field 'title': a new code needs a title",
            id="new-code-without-title",
        ),
        pytest.param(
            "a.toml",
            "[524\ntitle = 'x'\n",
            r"a\.toml: invalid TOML",
            id="invalid-toml",
        ),
        pytest.param(
            "a.json",
            '{"524": {"title": }',
            r"a\.json: invalid JSON",
            id="invalid-json",
        ),
        pytest.param(
            "a.json",
            '["524"]',
            r"a\.json: the top level must be a table of codes",
            id="json-not-an-object",
        ),
        pytest.param(
            "a.json",
            '{"524": "A Timeout"}',
            r"a\.json: code 524: expected a table of fields, got str",
            id="entry-not-a-table",
        ),
        pytest.param(
            "a.toml",
            'locale = "en US"\n',
            r"a\.toml: field 'locale'",
            id="bad-locale",
        ),
        pytest.param(
            "a.yaml",
            "524: {}\n",
            r"a\.yaml: unsupported file type '\.yaml'",
            id="unsupported-suffix",
        ),
    ],
)
def test_bad_files_fail_at_load_time_naming_file_code_and_field(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(CatalogueError, match=message):
        Catalogue.default().extend(path)


def test_duplicate_code_in_one_mapping_fails() -> None:
    with pytest.raises(CatalogueError, match="code 524: given twice"):
        Catalogue.default().extend({524: {"summary": "a"}, "524": {"summary": "b"}})


def test_missing_file_and_bad_encoding(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match=r"nope\.toml: cannot read file"):
        Catalogue.default().extend(tmp_path / "nope.toml")
    bad = tmp_path / "latin.toml"
    bad.write_bytes(b'[524]\ntitle = "caf\xe9"\n')
    with pytest.raises(CatalogueError, match=r"latin\.toml: not valid UTF-8"):
        Catalogue.default().extend(bad)


def test_catalogue_error_is_a_value_error() -> None:
    assert issubclass(CatalogueError, ValueError)


# -- plugins ------------------------------------------------------------------------------------


@pytest.fixture
def installed_plugin(tmp_path: Path) -> Iterator[Path]:
    """A real distribution on sys.path whose entry points expose catalogues."""
    (tmp_path / "fe_test_plugin.py").write_text(
        "from friendly_errors import Catalogue\n"
        "ENTRIES = {524: {'summary': 'From the plugin.'}}\n"
        "def make():\n"
        "    return Catalogue.empty().extend({599: {'title': 'Plugin Timeout'}})\n"
        "BROKEN = {524: {'nonsense': 1}}\n",
        encoding="utf-8",
    )
    dist = tmp_path / "fe_test_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fe-test-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[friendly_errors.catalogues]\n"
        "a_entries = fe_test_plugin:ENTRIES\n"
        "b_factory = fe_test_plugin:make\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield dist
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("fe_test_plugin", None)


def test_plugins_are_layered_only_when_asked(installed_plugin: Path) -> None:
    assert Catalogue.default().get(524).summary != "From the plugin."
    with_plugins = Catalogue.default(plugins=True)
    assert with_plugins.get(524).summary == "From the plugin."
    assert with_plugins.get(599).title == "Plugin Timeout"


def test_a_broken_plugin_is_named(installed_plugin: Path) -> None:
    (installed_plugin / "entry_points.txt").write_text(
        "[friendly_errors.catalogues]\nbroken = fe_test_plugin:BROKEN\n"
    )
    with pytest.raises(
        CatalogueError, match=r"plugin 'broken' \(fe_test_plugin:BROKEN\): .*'nonsense'"
    ):
        Catalogue.default(plugins=True)
    (installed_plugin / "entry_points.txt").write_text(
        "[friendly_errors.catalogues]\nmissing = fe_test_plugin:NOPE\n"
    )
    with pytest.raises(CatalogueError, match=r"plugin 'missing' .* failed to load"):
        Catalogue.default(plugins=True)


# -- documentation stays true -------------------------------------------------------------------


def test_format_reference_documents_every_field() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "catalogue-format.md").read_text(encoding="utf-8")
    for field in dataclasses.fields(StatusInfo):
        if field.name not in ("code", "locale"):  # set by the lookup, not by a file
            assert f"`{field.name}`" in doc, field.name
    for fault in Fault:
        assert f"`{fault.value}`" in doc


# -- the page's own words ------------------------------------------------------------------------


def test_labels_fall_back_label_by_label_to_english() -> None:
    catalogue = Catalogue.default().extend({"labels": {"try_again": "Försök igen"}}, locale="sv")
    labels = catalogue.labels("sv-FI")
    assert labels["try_again"] == "Försök igen"
    assert labels["home"] == Catalogue.default().labels()["home"] == "Go to the home page"
    assert set(labels) == set(Catalogue.default().labels())


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"tryagain": "x"}, "'tryagain': unknown label"),
        ({"try_again": ""}, "'try_again': expected a non-empty string"),
        ({"try_again": ["x"]}, "'try_again': expected a non-empty string"),
        ({"try_again": "Retry in {time}"}, "unknown placeholder"),
        ({"retry_wait": "Retry after {when}"}, r"may use: \{duration\}, \{time\}"),
        ({"retry_wait": "Retry after {time"}, "write {{ for a brace"),
        ({"retry_wait": "Retry after {time:>9}"}, r"a name in braces, such as \{time\}"),
        ({"retry_wait": "Retry after {time!r}"}, "without a format or conversion"),
        ("words", "expected a table of words"),
    ],
    ids=[
        "unknown",
        "empty",
        "list",
        "placeholder",
        "wrong-placeholder",
        "brace",
        "format-spec",
        "conversion",
        "not-a-table",
    ],
)
def test_bad_labels_fail_when_loaded(labels: object, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        Catalogue.default().extend({"labels": labels}, locale="sv")  # type: ignore[dict-item]


def test_the_english_file_gives_every_label() -> None:
    from friendly_errors._loader import LABEL_PLACEHOLDERS

    assert set(Catalogue.default().labels("en")) == set(LABEL_PLACEHOLDERS)
