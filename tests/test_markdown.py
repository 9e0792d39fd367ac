"""The Markdown body: its anatomy, its words, and escaping checked by a real CommonMark parser.

markdown-it-py is the oracle: whatever text goes in (catalogue entries and labels from user files, the
app's detail, the request's path, ID and method), the parsed document must have exactly the structure
the body means, show that text literally, and hold no link, image or raw HTML that came from it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from friendly_errors import _markdown, _text
from friendly_errors.catalogue import Catalogue
from friendly_errors.negotiation import Format
from friendly_errors.rendering import RenderedError, Renderer, RequestInfo

NOW = datetime(2026, 5, 9, 7, 35, 25, tzinfo=timezone.utc)
MARKDOWN = "text/markdown"
# Plain CommonMark, and with the two GitHub extensions that add structure to plain text (tables and
# strikethrough). Bare-URL links (GitHub's autolink extension) are out of reach of any escaping.
PARSERS = {
    "commonmark": MarkdownIt("commonmark"),
    "gfm": MarkdownIt("commonmark").enable(["table", "strikethrough"]),
}
PARSER_IDS = list(PARSERS)

HOSTILE = [
    "[click](javascript:alert(1))",
    "![x](https://evil.example/x.png)",
    "<script>alert(1)</script>",
    "<https://evil.example>",
    "<!-- comment -->",
    "# heading",
    "###### six",
    "title #",
    "#######",
    "C# and F#",
    "```\ncode\n```",
    "~~~\ncode",
    "    indented code",
    "\tindented code",
    "> quote",
    "- item",
    "+ item",
    "* item",
    "1. item",
    "1) item",
    "---",
    "***",
    "___",
    "text\n===",
    "text\n---",
    "[ref]: https://evil.example",
    "[ref]",
    "`code`",
    "``double``",
    "**bold** __bold__ *em* _em_",
    "~~struck~~",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "&lt;b&gt; &amp; &#35; &#x41; &copy;",
    "trailing backslash\\",
    "two trailing spaces  \nnext",
    "\\*escaped\\*",
    "client_max_body_size and __init__ and _x_",
    "a\rb\r\nc",
]


def parse(text: str, parser: str = "commonmark") -> list[Token]:
    return PARSERS[parser].parse(text)


def flat(tokens: Sequence[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        yield from flat(token.children or ())


def text_of(token: Token) -> str:
    """An inline token's text as a reader sees it, line breaks as "\\n"."""
    shown = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            shown.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            shown.append("\n")
    return "".join(shown)


def one_paragraph(markdown: str, parser: str) -> str:
    """The text of ``markdown``, which must parse as one paragraph of plain text and nothing else."""
    tokens = parse(markdown, parser)
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"], markdown
    assert {c.type for c in tokens[1].children or ()} <= {"text", "softbreak"}, markdown
    return text_of(tokens[1])


def shown(text: str) -> str:
    """What a CommonMark reader shows for literal ``text`` on one line: NUL is U+FFFD (Section 2.3)."""
    return " ".join(re.split(r"\r\n?|\n", text)).strip().replace("\x00", "\ufffd")


def shown_paragraphs(text: str) -> list[str]:
    paragraphs: list[str] = []
    lines: list[str] = []
    for line in re.split(r"\r\n?|\n", text):
        line = line.strip().replace("\x00", "\ufffd")
        if line:
            lines.append(line)
        elif lines:
            paragraphs.append("\n".join(lines))
            lines = []
    return [*paragraphs, "\n".join(lines)] if lines else paragraphs


# -- escaping, piece by piece ----------------------------------------------------------------------


@pytest.mark.parametrize("parser", PARSER_IDS)
@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_inline_text_is_literal(text: str, parser: str) -> None:
    assert one_paragraph(_markdown.inline(text), parser) == shown(text)
    tokens = parse("- " + _markdown.inline(text), parser)
    assert [t.type for t in tokens] == [
        "bullet_list_open",
        "list_item_open",
        "paragraph_open",
        "inline",
        "paragraph_close",
        "list_item_close",
        "bullet_list_close",
    ]
    assert text_of(tokens[3]) == shown(text)


@pytest.mark.parametrize("parser", PARSER_IDS)
@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_headings_keep_their_text_whole(text: str, parser: str) -> None:
    tokens = parse(_markdown.heading(2, text), parser)
    assert [(t.type, t.tag) for t in tokens] == [
        ("heading_open", "h2"),
        ("inline", ""),
        ("heading_close", "h2"),
    ]
    assert text_of(tokens[1]) == shown(text)


@pytest.mark.parametrize("parser", PARSER_IDS)
@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_quoted_paragraphs_keep_their_lines(text: str, parser: str) -> None:
    tokens = parse(_markdown.quote(text), parser)
    assert tokens[0].type == "blockquote_open" and tokens[-1].type == "blockquote_close"
    inner = tokens[1:-1]
    assert {t.type for t in inner} == {"paragraph_open", "inline", "paragraph_close"}
    assert [text_of(t) for t in inner if t.type == "inline"] == shown_paragraphs(text)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("abc", "`abc`"),
        ("a`b", "``a`b``"),
        ("``x`", "``` ``x` ```"),
        ("`", "`` ` ``"),
        (" a ", "`  a  `"),
        (" a", "` a`"),
        ("   ", "`   `"),
        ("<script>", "`<script>`"),
        ("a\\", "`a\\`"),
        ("a\r\nb\nc", "`a b c`"),
        ("", ""),
    ],
)
def test_code_spans_show_the_value_exactly(value: str, written: str) -> None:
    assert _markdown.code_span(value) == written
    if value:
        (code,) = [t for t in flat(parse(_markdown.code_span(value))) if t.type == "code_inline"]
        assert code.content == " ".join(re.split(r"\r\n?|\n", value))


@pytest.mark.parametrize("text", ["x", "```\nx\n```", "````", "a\n\n    b\n~~~", "x\r\ny\n\n"])
def test_code_blocks_cannot_be_closed_from_inside(text: str) -> None:
    tokens = parse(_markdown.code_block(text))
    assert [(t.type, t.info) for t in tokens] == [("fence", "text")]
    assert tokens[0].content == "\n".join(re.split(r"\r\n?|\n", text.rstrip("\r\n"))) + "\n"


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://example.com/a(b)", True),
        ("/", True),
        ("https://example.com/<x>", False),
        ("https://example.com/a b", False),
        ("https://example.com/a\\b", False),
    ],
)
def test_links_only_to_urls_that_fit_in_angle_brackets(url: str, linked: bool) -> None:
    tokens = list(flat(parse(_markdown.link("Spec [1]", url))))
    hrefs = [t.attrGet("href") for t in tokens if t.type == "link_open"]
    assert hrefs == ([PARSERS["commonmark"].normalizeLink(url)] if linked else [])
    assert "Spec [1]" in [t.content for t in tokens if t.type == "text"] or not linked


markdown_specials = st.sampled_from(list("\\`*_[]()<>&#!|~=+-.:;\"' \t\n\r{}0123456789xX"))
hostile_text = st.lists(
    st.sampled_from(HOSTILE)
    | st.text(markdown_specials, max_size=12)
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=8),
    max_size=5,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=hostile_text, parser=st.sampled_from(PARSER_IDS))
@example(text="a\n\u00a0\nb", parser="commonmark")
@example(text="_\u0301_x", parser="commonmark")
def test_any_text_stays_literal(text: str, parser: str) -> None:
    if shown(text):
        assert one_paragraph(_markdown.inline(text), parser) == shown(text)
        tokens = parse(_markdown.heading(3, text), parser)
        assert [t.type for t in tokens] == ["heading_open", "inline", "heading_close"]
        assert text_of(tokens[1]) == shown(text)
    quoted = _markdown.quote(text)
    inline = [t for t in parse(quoted, parser) if t.type == "inline"]
    assert [text_of(t) for t in inline] == shown_paragraphs(text)
    assert all(c.type in ("text", "softbreak") for t in inline for c in t.children or ()), quoted
    value = text.replace("\r", " ").replace("\n", " ")
    if value:
        spans = [t for t in flat(parse(_markdown.code_span(value), parser)) if t.type != "inline"]
        assert [t.type for t in spans] == ["paragraph_open", "code_inline", "paragraph_close"]
        assert spans[1].content == value.replace("\x00", "\ufffd")
    (fence,) = parse(_markdown.code_block(text), parser)
    assert fence.type == "fence"


# -- the whole body ---------------------------------------------------------------------------------


def render(r: Renderer, status: int = 524, **kwargs: Any) -> RenderedError:
    request = RequestInfo(
        kwargs.pop("method", "GET"),
        kwargs.pop("path", "/orders/42"),
        kwargs.pop("query", ""),
        {"accept": MARKDOWN, **kwargs.pop("headers", {})},
    )
    kwargs.setdefault("request_id", "req-1")
    kwargs.setdefault("now", NOW)
    return r.render(status, request, **kwargs)


def headings(tokens: Sequence[Token]) -> list[tuple[str, str]]:
    return [
        (opening.tag, text_of(inline))
        for opening, inline in itertools.pairwise(tokens)
        if opening.type == "heading_open"
    ]


def test_anatomy() -> None:
    """The page's sections in the page's order and words, with the request's own values."""
    r = Renderer(site_name="Example Shop", home_url="/", contact_url="mailto:help@example.com")
    rendered = render(
        r,
        detail="Reports are back at 06:00 UTC.",
        retry_after=120,
        request_id="4bf92f35",
        traceback="Traceback (most recent call last):\n  boom",
        query="token=secret",
    )
    assert rendered.format is Format.MARKDOWN
    body = rendered.body.decode()
    tokens = parse(body)
    info = Catalogue.default().get(524)
    assert headings(tokens) == [
        ("h1", "524 A Timeout Occurred"),
        ("h2", "Where it failed"),
        ("h2", "What happened"),
        ("h2", "What you can do"),
        ("h2", "Details for support"),
        ("h2", "For developers and admins"),
        ("h3", "Possible causes"),
        ("h3", "How to fix it"),
        ("h3", "Traceback"),
    ]
    paragraphs = [text_of(t) for t in tokens if t.type == "inline"]
    assert paragraphs[1] == info.summary
    assert paragraphs[3].startswith("Between the gateway and the server.")
    assert paragraphs[4] == (
        "Your browser (You): Working -> Connected -> Gateway (CDN or proxy): Working "
        "-> Failed -> Server (Website): Unknown"
    )
    assert "Message from the application:\n\n> Reports are back at 06:00 UTC.\n" in body
    assert "This should be temporary: try again in about 2 minutes.\n" in body
    assert (
        "- Status: 524 A Timeout Occurred\n- Request ID: `4bf92f35`\n"
        "- Time (UTC): `2026-05-09T07:35:25Z`\n- Request: GET `/orders/42`\n"
    ) in body
    assert "secret" not in body  # the query string stays off the page, as on every page
    assert f"Defined in [{info.spec}](<{info.spec_url}>)." in body
    assert [t.content for t in tokens if t.type == "fence"] == [
        "Traceback (most recent call last):\n  boom\n"
    ]
    assert body.endswith(
        "---\n\nExample Shop\n\n- [Home](</>)\n- [Contact](<mailto:help@example.com>)\n"
    )
    items = [text_of(t) for t in tokens if t.type == "inline"]
    for item in (*info.visitor_fixes, *info.causes, *info.developer_fixes):
        assert item in items


@pytest.mark.parametrize(
    ("status", "failed"),
    [(400, "Your browser (You): **Error**"), (500, "Server (Website): **Error**"), (200, None)],
    ids=["client", "server", "none"],
)
def test_the_route_marks_where_it_failed(status: int, failed: str | None) -> None:
    body = render(Renderer(), status).body.decode()
    route = next(line for line in body.split("\n") if line.startswith("Your browser"))
    assert route.count("**") == (2 if failed else 0)
    if failed:
        assert failed in route


#: The body's lines where a label meets its colon, 503 with a detail: French puts a no-break
#: space before it, Japanese writes a full-width colon and no space after.
COLON_LINES = {
    "fr": [
        "Message de l'application\u00a0:",
        "- Statut\u00a0: 503 Service indisponible",
        "- ID de requête\u00a0: `req-1`",
        "- Heure (UTC)\u00a0: `2026-05-09T07:35:25Z`",
        "- Requête\u00a0: GET `/orders/42`",
    ],
    "ja": [
        "アプリケーションからのメッセージ：",  # noqa: RUF001
        "- ステータス：503 サービス利用不可",  # noqa: RUF001
        "- リクエストID：`req-1`",  # noqa: RUF001
        "- 時刻（UTC）：`2026-05-09T07:35:25Z`",  # noqa: RUF001
        "- リクエスト：GET `/orders/42`",  # noqa: RUF001
    ],
}
FAILED_SERVER = {
    "fr": "Serveur (Site web)\u00a0: **Erreur**",
    "ja": "サーバー (Webサイト)：**エラー**",  # noqa: RUF001
}


@pytest.mark.parametrize("lang", COLON_LINES)
def test_the_body_puts_the_languages_colon_after_its_labels(lang: str) -> None:
    body = render(Renderer(), 503, headers={"accept-language": lang}, detail="Soon.").body.decode()
    lines = body.split("\n")
    for line in COLON_LINES[lang]:
        assert line in lines
    route = next(line for line in lines if " -> " in line)
    assert route.endswith(FAILED_SERVER[lang])
    # Still bold right after a full-width colon: CommonMark counts it as punctuation.
    assert "strong_open" in {token.type for token in flat(parse(route))}
    assert [line for line in lines if line != line.rstrip()] == []


@pytest.mark.parametrize(
    ("colon", "parts"),
    [(": ", (":", " ")), ("\u00a0: ", ("\u00a0:", " ")), ("*&<_: ", ("\\*&amp;&lt;\\_:", " "))],
    ids=["english", "french", "specials"],
)
def test_the_colon_is_literal_markdown(colon: str, parts: tuple[str, str]) -> None:
    assert _markdown.colon({"colon": colon}) == parts


@pytest.mark.parametrize(
    ("stop", "shown"),
    [(".", "."), ("\u3002", "\u3002"), (". ", "."), ("*&<_", "\\*&amp;&lt;\\_")],
    ids=["english", "japanese", "trailing-space", "specials"],
)
def test_the_full_stop_is_literal_markdown(stop: str, shown: str) -> None:
    assert _markdown.full_stop({"full_stop": stop}) == shown


def test_a_body_without_the_optional_parts() -> None:
    catalogue = Catalogue.empty().extend({590: {"title": "House Rules"}})
    r = Renderer(catalogue=catalogue, show_developer_info=False)
    tokens = parse(render(r, 590).body.decode())
    assert [tag for tag, _ in headings(tokens)] == ["h1", "h2", "h2", "h2", "h2"]
    assert not any(t.type in ("blockquote_open", "fence", "hr", "link_open") for t in flat(tokens))


def test_a_traceback_without_developer_info_still_gets_its_section() -> None:
    rendered = render(Renderer(show_developer_info=False), 500, traceback="boom")
    assert headings(parse(rendered.body.decode()))[-2:] == [
        ("h2", "For developers and admins"),
        ("h3", "Traceback"),
    ]


def test_retry_advice_follows_the_announced_wait() -> None:
    r = Renderer()
    assert "trying again in a few moments may work" in render(r, 503).body.decode()
    assert "try again in about 1 hour" in render(r, 503, retry_after=3600).body.decode()
    assert "trying again now may work" in render(r, 503, retry_after=0).body.decode()
    assert "the request has to change first" in render(r, 400).body.decode()
    assert "Trying again" not in render(r, 200).body.decode()


# Swedish: a language the built-in catalogue does not have, so every word it lacks is English.
SWEDISH = {
    "what_happened": "Vad som hände",
    "what_you_can_do": "Vad du kan göra",
    "route": "Var det gick fel",
    "support": "Uppgifter för support",
    "request_id": "Begärans ID",
    "retry_wait": "Det bör vara tillfälligt: försök igen efter {time} UTC.",
    "fault_server": "På servern.",
}


@pytest.fixture(scope="module")
def swedish() -> Catalogue:
    return Catalogue.default().extend(
        {"labels": SWEDISH, 503: {"title": "Tjänsten är inte tillgänglig"}}, locale="sv"
    )


def test_the_body_speaks_the_catalogues_language(swedish: Catalogue) -> None:
    rendered = render(
        Renderer(catalogue=swedish),
        503,
        headers={"accept-language": "sv"},
        retry_after=600,
    )
    assert dict(rendered.headers)["Content-Language"] == "sv"
    body = rendered.body.decode()
    assert [text for _, text in headings(parse(body))][:5] == [
        "503 Tjänsten är inte tillgänglig",
        "Var det gick fel",
        "Vad som hände",
        "Vad du kan göra",
        "Uppgifter för support",
    ]
    assert "\n\nPå servern.\n\n" in body
    # 07:35:25 plus ten minutes, rounded up to the minute.
    assert "försök igen efter 07:46 UTC." in body
    later = {"accept-language": "sv"}
    tomorrow = render(Renderer(catalogue=swedish), 503, headers=later, retry_after=86_400)
    assert "försök igen efter 2026-05-10 07:36 UTC." in tomorrow.body.decode()
    naive = render(
        Renderer(catalogue=swedish),
        503,
        headers=later,
        retry_after=60,
        now=NOW.replace(tzinfo=None),
    )
    assert "försök igen efter 07:37 UTC." in naive.body.decode()  # a naive time is UTC
    assert "- Begärans ID: `req-1`" in body
    # A label the translation lacks is the English one.
    assert "- Time (UTC): `2026-05-09T07:35:25Z`" in body


def test_a_page_in_english_keeps_english_words(swedish: Catalogue) -> None:
    """Swedish asked for, and no Swedish entry for 524: the whole body is English, as it says."""
    rendered = render(Renderer(catalogue=swedish), 524, headers={"accept-language": "sv"})
    assert dict(rendered.headers)["Content-Language"] == "en"
    assert "## What happened" in rendered.body.decode()


@pytest.mark.parametrize("lang", Catalogue.default().locales[1:])
def test_every_built_in_language_in_markdown(lang: str) -> None:
    rendered = render(Renderer(), 503, headers={"accept-language": lang}, retry_after=120)
    assert dict(rendered.headers)["Content-Language"] == lang
    body = rendered.body.decode()
    labels = Catalogue.default().labels(lang)
    assert [text for _, text in headings(parse(body))][:2] == [
        f"503 {Catalogue.default().get(503, lang).title}",
        labels["route"],
    ]
    assert "07:38" in body, "a wait is a clock time in every language but English"


def test_a_catalogue_without_labels_uses_the_built_in_words() -> None:
    catalogue = Catalogue.empty().extend({590: {"title": "House Rules"}})
    body = render(Renderer(catalogue=catalogue), 590).body.decode()
    assert "## What happened" in body


def test_braces_in_labels_are_printed_once() -> None:
    catalogue = Catalogue.default().extend({"labels": {"support": "Support {{team}}"}})
    assert "## Support {team}" in render(Renderer(catalogue=catalogue)).body.decode()


# -- hostile input through the whole body ------------------------------------------------------------

LABEL_KEYS = (
    "route what_happened app_said defined_in what_you_can_do support support_hint status "
    "request_id time request developers causes developer_fixes other_meanings traceback browser "
    "intermediary origin browser_role intermediary_role origin_role state_ok state_failed "
    "state_unknown link_ok link_failed home_short contact_short fault_none fault_client "
    "fault_server fault_intermediary retry_now retry_usually retry_client retry_unlikely"
).split()
WEB_URLS = ["https://www.rfc-editor.org/rfc/rfc9110#section-15.6.4", "http://x.example/(a)"]
NOT_WEB_URLS = ["javascript:alert(1)", "https://x.example/a b", "data:text/html,<b>"]
SITE_URLS = ["/", "/help?a=1&b=(2)", "https://x.example/[a]", "mailto:x@example.com"]

short_text = st.lists(
    st.sampled_from(HOSTILE)
    | st.text(markdown_specials, max_size=8)
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=4),
    max_size=3,
).map("".join)
one_line = (
    st.lists(
        st.sampled_from(HOSTILE)
        | st.text(markdown_specials, min_size=1, max_size=8)
        | st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=4),
        min_size=1,
        max_size=3,
    )
    .map("".join)
    .filter(lambda s: s.strip())
)
lines = st.lists(one_line, min_size=1, max_size=2)
# A colon (the label ``colon``) is anything that ends in punctuation or a space, as a colon does: a
# letter right before a failed state's ``**`` would keep it from being bold, which is no escape.
colons = st.tuples(
    short_text,
    st.sampled_from([": ", "\u00a0: ", "：", ":", "*", "&", "<", "`", "\\", "]", "_ ", "x\n"]),  # noqa: RUF001
).map("".join)
# Labels that the body shows as paragraphs rather than on one line.
PARAGRAPH_LABELS = (
    "support_hint",
    "fault_none",
    "fault_client",
    "fault_server",
    "fault_intermediary",
)


def braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


@st.composite
def hostile_catalogues(draw: st.DrawFn) -> tuple[Catalogue, dict[str, Any]]:
    entry = {
        "title": draw(one_line),
        "summary": draw(one_line),
        "description": draw(one_line),
        "fault": draw(st.sampled_from(["none", "client", "server", "intermediary"])),
        "retryable": draw(st.booleans()),
        "causes": draw(lines),
        "visitor_fixes": draw(lines),
        "developer_fixes": draw(lines),
        "other_meanings": draw(lines),
        "spec": draw(one_line),
        "spec_url": draw(st.sampled_from(WEB_URLS + NOT_WEB_URLS)),
    }
    labels = draw(st.fixed_dictionaries(dict.fromkeys(LABEL_KEYS, one_line)))
    labels["retry_wait"] = draw(one_line) + " {duration} {time}"
    labels["colon"] = draw(colons)
    written = {key: braces(text) for key, text in labels.items()}
    written["retry_wait"] = braces(labels["retry_wait"][: -len(" {duration} {time}")]) + (
        " {duration} {time}"
    )
    catalogue = Catalogue.empty().extend({"labels": written, 590: entry})
    return catalogue, {**entry, "labels": labels}


def skeleton(tokens: Sequence[Token]) -> list[tuple[str, ...]]:
    """The document's structure: its blocks, and in each inline run the kinds of its children."""
    shape: list[tuple[str, ...]] = []
    for token in tokens:
        if token.type != "inline":
            shape.append((token.type, token.tag))
            continue
        kinds: list[str] = []
        for child in token.children or ():
            if not (kinds and child.type == kinds[-1] == "text"):
                kinds.append(child.type)
        shape.append(("inline", *kinds))
    return shape


def benign(text: str) -> str:
    """Harmless text laid out in the same lines and paragraphs as ``text``."""
    return "\n".join("x" if line.strip() else "" for line in re.split(r"\r\n?|\n", text))


SHAPES: dict[int, Renderer] = {}


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    catalogue=hostile_catalogues(),
    detail=st.none() | short_text,
    path=short_text,
    request_id=short_text,
    method=st.sampled_from(["GET", "POST", "[x](y)", "`", "<b>", "# x", "1."]),
    traceback=st.none() | short_text,
    retry_after=st.none() | st.integers(0, 10**6),
    site=st.none() | st.tuples(one_line, st.sampled_from(SITE_URLS), st.sampled_from(SITE_URLS)),
    parser=st.sampled_from(PARSER_IDS),
)
def test_hostile_text_anywhere_changes_no_structure(
    catalogue: tuple[Catalogue, dict[str, Any]],
    detail: str | None,
    path: str,
    request_id: str,
    method: str,
    traceback: str | None,
    retry_after: int | None,
    site: tuple[str, str, str] | None,
    parser: str,
) -> None:
    source, entry = catalogue
    labels: dict[str, str] = entry["labels"]
    site_name = None if site is None else _text.printable(site[0], multiline=False).strip()
    options: dict[str, Any] = {}
    if site is not None and site_name:
        options = {"site_name": site_name, "home_url": site[1], "contact_url": site[2]}
    renderer = Renderer(catalogue=source, **options)
    values: dict[str, Any] = {
        "detail": detail,
        "path": "/" + path,
        "request_id": request_id,
        "method": method,
        "traceback": traceback,
        "retry_after": retry_after,
    }
    rendered = render(renderer, 590, **values)
    assert not rendered.fallback
    tokens = parse(rendered.body.decode(), parser)
    every = list(flat(tokens))

    # Nothing raw, nothing pulled in, no code but the request's values and the traceback.
    kinds = {t.type for t in every}
    assert not kinds & {"html_block", "html_inline", "image", "code_block", "table_open", "s_open"}
    hrefs = [t.attrGet("href") for t in every if t.type == "link_open"]
    expected_links = [entry["spec_url"]] if entry["spec_url"] in WEB_URLS else []
    if options:
        expected_links += [options["home_url"], options["contact_url"]]
    assert hrefs == [PARSERS[parser].normalizeLink(url) for url in expected_links]
    assert [t.content for t in every if t.type == "fence"] == (
        [_fenced(traceback)] if traceback else []
    )

    # The same structure as a body of harmless words laid out alike.
    twin_labels = dict.fromkeys(LABEL_KEYS, "x") | {"retry_wait": "x {duration} {time}"}
    twin_labels |= {key: benign(labels[key]) for key in PARAGRAPH_LABELS}
    twin_catalogue = Catalogue.empty().extend(
        {
            "labels": twin_labels,
            590: {
                **{k: v for k, v in entry.items() if k != "labels"},
                **{k: "x" for k in ("title", "spec")},
                **{k: benign(entry[k]) for k in ("summary", "description")},
                **{k: ["x"] * len(entry[k]) for k in ("causes", "visitor_fixes")},
                **{k: ["x"] * len(entry[k]) for k in ("developer_fixes", "other_meanings")},
            },
        }
    )
    twin_options = {**options, "site_name": "x"} if options else {}
    twin = render(
        Renderer(catalogue=twin_catalogue, **twin_options),
        590,
        detail=None if detail is None else benign(_text.printable(detail)),
        path="/x",
        request_id="x" if _shown_id(request_id) else "",
        method="GET",
        traceback=traceback and "x",
        retry_after=retry_after,
    )
    assert skeleton(tokens) == skeleton(parse(twin.body.decode(), parser))

    # And every text as it was given.
    title = f"590 {entry['title']}"
    assert headings(tokens)[:3] == [
        ("h1", shown(title)),
        ("h2", shown(labels["route"])),
        ("h2", shown(labels["what_happened"])),
    ]
    codes = [t.content for t in every if t.type == "code_inline"]
    assert codes == [
        value
        for value in (
            _shown_id(request_id),
            "2026-05-09T07:35:25Z",
            _text.shorten(_text.printable("/" + path, multiline=False)),
        )
        if value
    ]
    quotes = _quoted(tokens)
    assert quotes == (shown_paragraphs(_text.printable(detail)) if detail else [])
    items = [text_of(t) for t in tokens if t.type == "inline"]
    for item in (*entry["visitor_fixes"], *entry["causes"]):
        assert shown(item) in items
    for paragraph in shown_paragraphs(entry["summary"]):
        assert paragraph in items


def _shown_id(request_id: str) -> str:
    return _text.printable(_text.shorten(request_id), multiline=False)


def _fenced(traceback: str) -> str:
    printable = _text.printable(traceback)
    return "\n".join(printable.rstrip("\r\n").split("\n")) + "\n"


def _quoted(tokens: Sequence[Token]) -> list[str]:
    inside = False
    found = []
    for token in tokens:
        if token.type == "blockquote_open":
            inside = True
        elif token.type == "blockquote_close":
            inside = False
        elif inside and token.type == "inline":
            found.append(text_of(token))
    return found


# -- the memo -------------------------------------------------------------------------------------


def full(r: Renderer) -> Renderer:
    """``r`` with its memo turned off: every body written from scratch."""
    r.memo.max_entries = 0
    return r


@pytest.mark.parametrize("accept", [MARKDOWN, "text/plain", "text/html"])
def test_a_renderer_without_memo_renders_in_full(
    monkeypatch: pytest.MonkeyPatch, accept: str
) -> None:
    """So the differential tests compare the memo with the full render, not with a fresh cut."""
    fresh = full(Renderer())
    monkeypatch.setattr(fresh, "_cut", lambda *args: pytest.fail("cut with the memo off"))
    rendered = render(fresh, 503, headers={"accept": accept})
    assert not rendered.fallback and rendered.body


@pytest.fixture(scope="module")
def memo_pair(swedish: Catalogue) -> tuple[Renderer, Renderer]:
    return Renderer(catalogue=swedish), full(Renderer(catalogue=swedish))


@settings(max_examples=200, deadline=None)
@given(
    path=short_text,
    request_id=short_text,
    method=short_text,
    detail=st.none() | short_text,
    retry_after=st.none() | st.integers(0, 10**6),
    seconds=st.integers(0, 10**9),
    language=st.sampled_from(["sv", "en", "ja", "ar"]),
)
def test_a_repeated_body_equals_a_full_render_whatever_the_values(
    memo_pair: tuple[Renderer, Renderer],
    path: str,
    request_id: str,
    method: str,
    detail: str | None,
    retry_after: int | None,
    seconds: int,
    language: str,
) -> None:
    """The memo and a full render escape every request's values alike (the memo is warm after the
    first example, so most examples compare a cut body with a fresh one)."""
    memo, fresh = memo_pair
    kwargs: dict[str, Any] = {
        "path": "/" + path,
        "request_id": request_id,
        "method": method,
        "detail": detail,
        "retry_after": retry_after,
        "now": datetime.fromtimestamp(seconds, timezone.utc),
        "headers": {"accept-language": language},
    }
    assert render(memo, 503, **kwargs) == render(fresh, 503, **kwargs)


def test_a_repeated_body_tells_each_request_when_to_come_back(swedish: Catalogue) -> None:
    memo, fresh = Renderer(catalogue=swedish), full(Renderer(catalogue=swedish))
    bodies = []
    for minute in (0, 1, 2):
        now = NOW.replace(minute=minute)
        kwargs: dict[str, Any] = {"retry_after": 60, "now": now, "path": f"/{minute}"}
        kwargs["headers"] = {"accept-language": "sv"}
        rendered = render(memo, 503, **kwargs)
        assert rendered == render(fresh, 503, **kwargs)
        bodies.append(rendered.body.decode())
    assert [re.findall(r"efter (\d\d:\d\d) UTC", body) for body in bodies] == [
        ["07:02"],
        ["07:03"],
        ["07:04"],
    ]
    assert len(memo.memo) == 1


# -- user templates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        ("[x](javascript:y)", "\\[x\\](javascript:y)"),
        ("# title\n1. item", "\\# title\n1\\. item"),
        ("<b>", "&lt;b>"),
        (None, "None"),
        (3, "3"),
    ],
)
def test_user_templates_print_values_as_literal_markdown(value: object, printed: str) -> None:
    assert _markdown.finalize(value) == printed


def test_values_marked_safe_are_printed_as_they_are() -> None:
    from markupsafe import Markup

    assert _markdown.finalize(Markup("**yes**")) == "**yes**"
    code_span = _markdown.FILTERS["code_span"]
    assert callable(code_span)
    assert code_span("a`b") == "``a`b``"
