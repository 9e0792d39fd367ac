"""The Markdown rendering of an error (RFC 7763, the CommonMark variant of RFC 7764).

AI coding agents and LLM tools increasingly ask for ``text/markdown``: they read the words, not the
markup. The body follows the page's anatomy in the page's own words, the catalogue's labels, so it is
translated along with the catalogue. Like plain text it is written by Python rather than by a template:
the template environment escapes for HTML, and Markdown needs escaping of its own.

That escaping is this module's main job. Everything that did not come from this code (catalogue text
and labels, which may come from user files, the app's detail, the request's path, ID and method) is
made literal for a CommonMark reader, so it can never become a link, raw HTML, a heading, a list, a
quote or a code block:

* prose gets backslash escapes for the characters that open inline constructs, ``&lt;`` for ``<``
  (which every Markdown dialect reads as text, even those without backslash escapes for it), and an
  escape for whatever would start a block at the beginning of a line;
* values a reader may need to copy exactly (request ID, time, path) go into code spans whose fence is
  longer than any run of backticks inside them, and the traceback into a fenced block, likewise.

The bare URLs that GitHub Flavored Markdown turns into links are an extension no escape can stop short
of mangling the text; they only ever make ``http(s)`` and mail links, never ``javascript:``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Final

from markupsafe import Markup

from friendly_errors import _text
from friendly_errors.catalogue import StatusInfo

# CommonMark 0.31, Section 2.2: a line ends at LF, CR or CRLF. A lone CR must end a line here too,
# or an item could hide the start of a block behind it.
_LINE_BREAKS: Final = re.compile(r"\r\n?|\n")
# Anywhere in a line (CommonMark Section 2.4): backslash escapes, code spans, emphasis, links and
# images, GFM tables and strikethrough; raw HTML and autolinks (both start with "<"); and entity
# references ("&" before what could be one). An underscore between two letters or digits cannot open
# or close emphasis (Section 6.2), so "client_max_body_size" is left as it is written.
_INLINE: Final = re.compile(r"[\\`*\[\]|~<]|&(?=#?[0-9A-Za-z]+;)|(?<![^\W_])_|_(?![^\W_])")
# At the start of a line, what would open a block: an ATX heading, a block quote, a bullet, a setext
# underline or thematic break, an ordered list item (Sections 4 and 5). "*", "_", "`", "~", "<" and
# "|" are escaped wherever they are, so they need no rule here.
_BLOCK_START: Final = re.compile(r"#{1,6}(?=[ \t]|$)|[>+=-]|[0-9]{1,9}[.)](?=[ \t]|$)")
# An ATX heading's closing sequence: a run of "#" at the end, after a space (Section 4.2).
_CLOSING_HASHES: Final = re.compile(r"(?:(?<=[ \t])|^)#+$")
# Any character _INLINE may escape: one plain scan tells that most text has none of them.
_SPECIAL: Final = re.compile(r"[\\`*\[\]|~<&_]")
_BACKTICK_RUN: Final = re.compile(r"`+")
# What may not stand in a link destination written as <...> (Section 6.3); the renderer only passes
# checked URLs, this keeps a slip from becoming markup.
_UNSAFE_URL: Final = re.compile(r"[<>\\\s]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == "<":
        return "&lt;"
    if char == "&":
        return "&amp;"
    return "\\" + char


def _line(text: str) -> str:
    """One line of prose made literal, without the white space at its ends.

    Four leading spaces would make an indented code block, two trailing ones a hard line break, and
    readers differ on what other white space they trim there.
    """
    if text.isalnum():
        return text  # letters and digits alone ("GET", an ID) can neither open nor start anything
    text = text.strip()
    if _SPECIAL.search(text):
        text = _INLINE.sub(_escape, text)
    start = _BLOCK_START.match(text)
    if start is not None:
        # The marker's last character decides: "\#", "\-", "12\." are all literal.
        at = start.end() - 1
        text = text[:at] + "\\" + text[at:]
    return text


def inline(text: str) -> str:
    """``text`` as literal Markdown on one line: a heading, a list item, a label or a value."""
    if "\n" in text or "\r" in text:
        text = " ".join(_LINE_BREAKS.split(text))
    return _line(text)


def heading(level: int, text: str) -> str:
    """An ATX heading whose text stays whole, a trailing ``#`` included."""
    content = inline(text)
    closing = _CLOSING_HASHES.search(content)
    if closing is not None:
        content = content[: closing.start()] + "\\" + content[closing.start() :]
    return "#" * level + " " + content


def paragraphs(text: str) -> list[str]:
    """``text`` as literal paragraphs: its blank lines separate them, its other line breaks stay."""
    found: list[str] = []
    lines: list[str] = []
    for raw in _LINE_BREAKS.split(text):
        line = _line(raw)
        if line:
            lines.append(line)
        elif lines:
            found.append("\n".join(lines))
            lines = []
    if lines:
        found.append("\n".join(lines))
    return found


def quote(text: str) -> str:
    """``text`` as a block quote of literal paragraphs."""
    return "\n>\n".join(
        "\n".join("> " + line for line in paragraph.split("\n")) for paragraph in paragraphs(text)
    )


def bullets(items: Iterable[str]) -> str:
    return "\n".join("- " + inline(item) for item in items)


def code_span(value: str) -> str:
    """``value`` as inline code, shown exactly as it is (line breaks aside), whatever it contains.

    The fence is one backtick longer than the longest run inside, and a value that starts or ends
    with a backtick, or with a space at both ends, is padded with one space each side, which
    CommonMark takes off again (Section 6.1). An empty value is left out: there is no empty span.
    """
    if not value:
        return ""
    if "\n" in value or "\r" in value:
        value = " ".join(_LINE_BREAKS.split(value))
    fence = "`"
    if "`" in value:
        fence *= max(len(run) for run in _BACKTICK_RUN.findall(value)) + 1
    if value[0] == "`" or value[-1] == "`" or (value[0] == value[-1] == " " and value.strip(" ")):
        value = f" {value} "
    return fence + value + fence


def code_block(text: str) -> str:
    """``text`` as a fenced code block that no line inside it can close (Section 4.5)."""
    longest = max((len(run) for run in _BACKTICK_RUN.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = "\n".join(_LINE_BREAKS.split(text.rstrip("\r\n")))
    return f"{fence}text\n{body}\n{fence}"


def colon(said: Mapping[str, str]) -> tuple[str, str]:
    """The language's colon as Markdown, in the two parts of ``_text.colon``: the mark, literal, to
    follow a label (never to start a line), and the space that goes before a value on the same line.

    Not through :func:`inline`, which would take the no-break space off the start of the
    French mark. Every special character of the mark is escaped, wherever it is: the mark is one
    piece of a line, and what comes next (a Japanese value follows it with no space) could
    otherwise complete what it starts, such as an entity reference.
    """
    mark, space = _text.colon(said)
    return _mark(mark), " ".join(_LINE_BREAKS.split(space))


def full_stop(said: Mapping[str, str]) -> str:
    """The language's full stop as Markdown, literal, as the colon's mark is. ``"."`` and ``"\u3002"``
    have nothing to escape: after a link's ``)`` or escaped text they close and open nothing, and
    they never start a line, where a digit before ``"."`` could make a list item."""
    return _mark(_text.full_stop(said))


def _mark(text: str) -> str:
    """Punctuation that follows other text on a line, every special character escaped."""
    return _SPECIAL.sub(_escape, " ".join(_LINE_BREAKS.split(text)))


def link(text: str, url: str) -> str:
    """A link with literal text; the URL in angle brackets, so parentheses in it cannot end it."""
    if _UNSAFE_URL.search(url):
        return inline(text)
    return f"[{inline(text)}](<{url}>)"


# -- the body ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkdownParts:
    """The parts of a body that depend only on the entry, its language and the renderer's options.

    A request's own values go between them: the support list is ``support + request ID +
    time_item + time + request_item + method + " " + path``.
    """

    head: str
    app_said: str
    spec: str
    can_do: str
    support: str
    time_item: str
    request_item: str
    developers: str
    developers_heading: str
    traceback_heading: str
    tail: str
    #: The retry advice by label, written as Markdown; ``retry_wait`` as the label is, with its
    #: placeholders, to be filled in and written per request.
    retry: Mapping[str, str]


def markdown_parts(
    info: StatusInfo,
    said: Mapping[str, str],
    *,
    spec_url: str,
    show_developer_info: bool,
    site_name: str | None,
    home_url: str | None,
    contact_url: str | None,
    status_url: str | None = None,
) -> MarkdownParts:
    """Escape the entry's text and the page's words once, so a request only escapes what it brings.

    ``said`` are the labels as printed (``_text.words``).
    """
    caption = [heading(2, said["route"]), *paragraphs(said["fault_" + info.fault.value])]
    return _parts(
        info,
        said,
        caption,
        _text.route(info.fault, said),
        app_said=said["app_said"],
        spec_url=spec_url,
        show_developer_info=show_developer_info,
        links=(site_name, home_url, contact_url, status_url),
    )


def maintenance_markdown_parts(
    info: StatusInfo,
    said: Mapping[str, str],
    *,
    site_name: str | None,
    home_url: str | None,
    contact_url: str | None,
    status_url: str | None,
) -> MarkdownParts:
    """The maintenance page in Markdown: planned work, nothing failed (#13). ``info`` is the page as
    an entry (its title, summary and description are the maintenance labels)."""
    return _parts(
        info,
        said,
        paragraphs(said["fault_maintenance"]),
        _text.closed_route(said),
        app_said=said["maintenance_message"],
        spec_url="",
        show_developer_info=False,
        links=(site_name, home_url, contact_url, status_url),
    )


def _parts(
    info: StatusInfo,
    said: Mapping[str, str],
    caption: list[str],
    steps: Iterable[_text.RouteStep],
    *,
    app_said: str,
    spec_url: str,
    show_developer_info: bool,
    links: tuple[str | None, str | None, str | None, str | None],
) -> MarkdownParts:
    site_name, home_url, contact_url, status_url = links
    mark, space = colon(said)
    title = f"{info.code} {info.title}"
    head = [heading(1, title), *paragraphs(info.summary), *caption]
    head += [_route_line(steps, said, mark + space), heading(2, said["what_happened"])]
    head += paragraphs(info.description)
    spec = ""
    if info.spec:
        shown = link(info.spec, spec_url) if spec_url else inline(info.spec)
        spec = f"{inline(said['defined_in'])} {shown}{full_stop(said)}"
    can_do = heading(2, said["what_you_can_do"])
    things = []
    if status_url:
        # The first thing to do during an outage: see what the team says (#13).
        things.append("- " + link(said["status_page"], status_url))
    if info.visitor_fixes:
        things.append(bullets(info.visitor_fixes))
    if things:
        can_do += "\n\n" + "\n".join(things)
    support = [heading(2, said["support"]), *paragraphs(said["support_hint"])]
    support.append(
        f"- {inline(said['status'])}{mark}{space}{inline(title)}\n"
        f"- {inline(said['request_id'])}{mark}{space}"
    )
    developers = [heading(2, said["developers"])]
    if show_developer_info:
        for key, items in (
            ("causes", info.causes),
            ("developer_fixes", info.developer_fixes),
            ("other_meanings", info.other_meanings),
        ):
            if items:
                developers += [heading(3, said[key]), bullets(items)]
    site_links = [
        "- " + link(said[key], url)
        for key, url in (("home_short", home_url), ("contact_short", contact_url))
        if url
    ]
    tail = ["---"] if site_name or site_links else []
    if site_name:
        tail.append(inline(site_name))
    if site_links:
        tail.append("\n".join(site_links))
    return MarkdownParts(
        head="\n\n".join(head),
        app_said=inline(app_said) + mark,
        spec=spec,
        can_do=can_do,
        support="\n\n".join(support),
        time_item=f"\n- {inline(said['time'])}{mark}{space}",
        request_item=f"\n- {inline(said['request'])}{mark}{space}",
        developers="\n\n".join(developers) if len(developers) > 1 else "",
        developers_heading=developers[0],
        traceback_heading=heading(3, said["traceback"]),
        tail="\n\n".join(tail),
        retry=MappingProxyType(
            {
                key: text if key == "retry_wait" else inline(text)
                for key, text in said.items()
                if key.startswith("retry_")
            }
        ),
    )


def _route_line(steps: Iterable[_text.RouteStep], said: Mapping[str, str], separator: str) -> str:
    """The route diagram as one line: each stop and each link with its state, failures in bold.
    ``separator`` is the language's colon, written as Markdown.

    The arrows are ASCII, like the text body's diagram: what the body adds to the catalogue's words
    stays ASCII, so an English body is encoded at ASCII speed.
    """
    shown = []
    for step in steps:
        state = inline(said[_text.state_key(step.kind, step.state)])
        if step.state == "failed":
            state = f"**{state}**"
        if step.kind == "node":
            name = f"{inline(said[step.key])} ({inline(said[step.key + '_role'])})"
            shown.append(name + separator + state)
        else:
            shown.append(state)
    return " -> ".join(shown)


def retry_advice(
    parts: MarkdownParts, key: str | None, retry_after: int | None, now: datetime | None
) -> str:
    """The retry advice in the body's language for the label ``key`` (from ``_text.retry_key``),
    written as Markdown.

    ``now`` is the time of the request (the current time when None): a translation says when to
    come back (``{time}``) rather than how long to wait (``{duration}``).
    """
    if key is None:
        return ""
    if key != "retry_wait" or retry_after is None:
        return parts.retry[key]
    return inline(_text.fill_wait(parts.retry[key], retry_after, now))


def render(
    parts: MarkdownParts,
    *,
    detail: str | None,
    request_id: str,
    timestamp: str,
    method: str,
    path: str,
    retry: str,
    traceback: str | None,
) -> str:
    """The whole body. The request's values come already written as Markdown (by ``code_span``,
    ``inline``, ``method`` and ``path``); ``detail`` and ``traceback`` are escaped here."""
    sections = [parts.head]
    quoted = quote(detail) if detail else ""
    if quoted:
        sections += [parts.app_said, quoted]
    if parts.spec:
        sections.append(parts.spec)
    sections.append(parts.can_do)
    if retry:
        sections.append(retry)
    sections.append(
        parts.support
        + request_id
        + parts.time_item
        + timestamp
        + parts.request_item
        + method
        + " "
        + path
    )
    if traceback:
        sections += [parts.developers or parts.developers_heading, parts.traceback_heading]
        sections.append(code_block(traceback))
    elif parts.developers:
        sections.append(parts.developers)
    if parts.tail:
        sections.append(parts.tail)
    return "\n\n".join(sections) + "\n"


def render_entry(parts: MarkdownParts, retry: str) -> str:
    """The body without a request: the entry alone, as ``friendly-errors explain`` prints it.
    ``retry`` is written as :func:`retry_advice` writes it."""
    sections = [parts.head, parts.spec, parts.can_do, retry, parts.developers]
    return "\n\n".join(section for section in sections if section) + "\n"


def method(value: str) -> str:
    """The request's method as the support list shows it: literal text, cut to 20 characters."""
    return inline(_text.shorten(value, 20))


def path(value: str) -> str:
    """The request's path as the support list shows it: code, to be copied exactly, cut as on the
    page."""
    return code_span(_text.shorten(value))


# -- user templates ------------------------------------------------------------------------------


def finalize(value: object) -> object:
    """What ``{{ value }}`` prints in a user's Markdown template: literal text, line breaks kept.

    A value marked safe (``|safe``, or the ``code_span`` and ``code_block`` filters) is printed as it
    is, as Jinja does for HTML.
    """
    if hasattr(value, "__html__"):
        return value
    return "\n".join(_line(line) for line in _LINE_BREAKS.split(str(value)))


def _code_span_filter(value: object) -> Markup:
    return Markup(code_span(str(value)))


def _code_block_filter(value: object) -> Markup:
    return Markup(code_block(str(value)))


#: The filters a Markdown template may use to print a value as code.
FILTERS: Final[Mapping[str, object]] = MappingProxyType(
    {"code_span": _code_span_filter, "code_block": _code_block_filter}
)
