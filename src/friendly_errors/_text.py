"""The words around the catalogue's content, and the plain-text rendering of an error.

The catalogue says what a status means, and its ``[labels]`` table holds the few words every page needs
whatever the status (section headings, the request's path, the retry advice). The functions here take
those labels in the page's language and put them together, so that the HTML template, the text body,
user templates and the command line all say the same thing in the same words.

Plain text is written by Python rather than by a template: every template goes through one autoescaping
environment, which would turn each apostrophe of the catalogue into ``&#39;``. Python also makes the
80-column wrapping exact, which a template can only approximate; ``_wrap`` measures display columns, so
a Japanese or Chinese character counts as two, and text without spaces breaks between characters.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final

from friendly_errors._loader import LABEL_PLACEHOLDERS
from friendly_errors._wrap import Wrapper, columns, fill, fitting
from friendly_errors.catalogue import Fault, StatusInfo

#: The words of a page, by label key: ``Catalogue.labels(lang)``.
Labels = Mapping[str, str]


@dataclass(frozen=True)
class RouteStep:
    """One box or one wire of the request's path: browser, gateway, server and the links between."""

    #: ``"node"`` or ``"link"``.
    kind: str
    #: ``"browser"``, ``"intermediary"``, ``"origin"`` for nodes; ``"browser-intermediary"`` and
    #: ``"intermediary-origin"`` for links.
    key: str
    #: The visible name of a node ("Your browser"); empty for links.
    label: str
    #: The role under the name ("You", "CDN or proxy"); empty for links.
    role: str
    #: ``"ok"``, ``"failed"``, ``"unknown"``, or ``"maintenance"`` for the server of a site closed
    #: for planned work (#13).
    state: str
    #: The state in words ("Working", "Error", ...), so colour is never the only signal.
    state_label: str


def state_key(kind: str, state: str) -> str:
    """The label that puts a step's state in words: a link is connected or failed, a node has a state."""
    if kind == "link":
        return "link_failed" if state == "failed" else "link_ok"
    return "state_" + state


#: The diagram's boxes and wires, from the visitor to the website.
_HOPS: Final = ("browser", "browser-intermediary", "intermediary", "intermediary-origin", "origin")


def route(fault: Fault, labels: Labels) -> tuple[RouteStep, ...]:
    """The path browser → gateway → server with the failure marked where ``fault`` puts it."""
    states = dict.fromkeys(_HOPS, "ok")
    if fault is Fault.CLIENT:
        states["browser"] = "failed"
    elif fault is Fault.SERVER:
        states["origin"] = "failed"
    elif fault is Fault.INTERMEDIARY:
        # The gateway is the one reporting; what the server itself did is not known from here.
        states["intermediary-origin"] = "failed"
        states["origin"] = "unknown"
    return _steps(states, labels)


def closed_route(labels: Labels) -> tuple[RouteStep, ...]:
    """The same path during planned maintenance: everything works, and the server is closed (#13)."""
    states = dict.fromkeys(_HOPS, "ok")
    states["origin"] = "maintenance"
    return _steps(states, labels)


def _steps(states: Mapping[str, str], labels: Labels) -> tuple[RouteStep, ...]:
    steps = []
    for key, state in states.items():
        kind = "link" if "-" in key else "node"
        label = labels[key] if kind == "node" else ""
        role = labels[key + "_role"] if kind == "node" else ""
        steps.append(RouteStep(kind, key, label, role, state, labels[state_key(kind, state)]))
    return tuple(steps)


def fault_caption(fault: Fault, labels: Labels) -> str:
    """The text alternative of the route diagram: the diagram is decoration for sighted readers, this
    is the statement itself (WCAG 1.1.1, and 1.4.1 since colour must not be the only signal)."""
    return labels["fault_" + fault.value]


def colon(labels: Labels) -> tuple[str, str]:
    """The language's colon (the label ``colon``) in two parts: the mark, which alone ends a label
    at the end of a line, and the space after it, which goes only before a value on the same line.

    English ``": "`` is ``(":", " ")``; French puts a no-break space before the mark
    (``"\u00a0: "``), Chinese and Japanese write a full-width colon and no space (``"\uff1a"``).
    """
    text = labels["colon"]
    mark = text.rstrip()
    return mark, text[len(mark) :]


def full_stop(labels: Labels) -> str:
    """The language's full stop (the label ``full_stop``), which always ends a line: ``"."``, or
    ``"\u3002"`` in Chinese and Japanese. White space at its end is left out, as the colon's is."""
    return labels["full_stop"].rstrip()


def duration(seconds: int) -> str:
    """Seconds as a person would say them in English: exact when short, rounded when long.

    English only (the ``{duration}`` of the English ``retry_wait``): other languages have plural
    rules of their own, so their labels name a clock time instead (issue #12).
    """
    if seconds < 90:
        return "1 second" if seconds == 1 else f"{seconds} seconds"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} minutes"
    if seconds < 36 * 3600:
        hours = round(seconds / 3600)
        return "about 1 hour" if hours == 1 else f"about {hours} hours"
    return f"about {round(seconds / 86400)} days"


# A Retry-After of more than this is shown as this: far enough to say "not soon", and a datetime can
# still hold the sum.
_LONGEST_WAIT: Final = 100 * 366 * 86400


def clock_time(now: datetime, seconds: int) -> str:
    """When a wait of ``seconds`` from ``now`` ends, in UTC to the minute: ``"14:05"``, or
    ``"2026-12-08 14:05"`` when that is not today. A naive ``now`` is taken to be UTC.

    The minute is rounded up, so a visitor who comes back at the time shown has waited long enough.
    """
    if now.tzinfo is not None:
        now = now.astimezone(timezone.utc).replace(tzinfo=None)
    return clock_at(now + timedelta(seconds=min(seconds, _LONGEST_WAIT)), now)


def clock_at(when: datetime, now: datetime) -> str:
    """``when`` as :func:`clock_time` shows it, seen from ``now``; naive times are UTC."""
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    if now.tzinfo is not None:
        now = now.astimezone(timezone.utc).replace(tzinfo=None)
    if when.second or when.microsecond:
        when = when.replace(second=0, microsecond=0) + timedelta(minutes=1)
    shown = f"{when.hour:02d}:{when.minute:02d}"
    if when.date() == now.date():
        return shown
    return f"{when.year:04d}-{when.month:02d}-{when.day:02d} {shown}"


def retry_key(info: StatusInfo, retry_after: int | None) -> str | None:
    """The label of the retry advice, from ``retryable`` and any wait asked for; None for none."""
    if retry_after is not None:
        return "retry_now" if retry_after <= 0 else "retry_wait"
    if info.retryable:
        return "retry_usually"
    if info.fault is Fault.CLIENT:
        return "retry_client"
    if info.fault is Fault.NONE:
        return None
    return "retry_unlikely"


def fill_wait(wording: str, retry_after: int, now: datetime | None) -> str:
    """A sentence with placeholders for a wait (``retry_wait``), filled in: ``{time}`` when it ends,
    as a clock time from ``now`` (the current time when None), ``{duration}`` in English words.

    Only what the sentence names is worked out; the loader allows no other placeholder.
    """
    time = ""
    if "{time}" in wording:
        time = clock_time(datetime.now(timezone.utc) if now is None else now, retry_after)
    words = duration(retry_after) if "{duration}" in wording else ""
    return wording.format(time=time, duration=words)


def retry_advice(
    info: StatusInfo, retry_after: int | None, labels: Labels, now: datetime | None = None
) -> str:
    """Whether sending the same request again can help, in the words of ``labels``.

    ``now`` is when the advice is given (the current time when None); it matters only with
    ``retry_after``, whose end a label may show as a clock time (``{time}``).
    """
    key = retry_key(info, retry_after)
    if key is None:
        return ""
    if key == "retry_wait":
        assert retry_after is not None
        return fill_wait(labels[key], retry_after, now)
    return labels[key]


def maintenance_advice(
    labels: Labels, until: datetime, retry_after: int, now: datetime | None
) -> str:
    """When planned work should end: ``until`` as a UTC clock time (``maintenance_until``), and
    the wait of ``retry_after`` seconds in words where the language has them (an English
    ``retry_wait`` names a ``{duration}``; the translations name the clock time again, which would
    say the same thing twice)."""
    time = clock_at(until, datetime.now(timezone.utc) if now is None else now)
    words = duration(retry_after)
    sentence = labels["maintenance_until"]
    text = sentence.format(time=time, duration=words)
    wait = labels["retry_wait"]
    if "{duration}" in wait and "{duration}" not in sentence:
        text += " " + wait.format(time=time, duration=words)
    return text


def words(labels: Labels) -> dict[str, str]:
    """The labels as printed: ``{{`` in a label means ``{`` (labels are format strings), and the
    labels with placeholders are kept as they are, to be filled in per request."""
    return {
        key: text if LABEL_PLACEHOLDERS.get(key) else text.format() for key, text in labels.items()
    }


# C0 and C1 controls other than tab and newline, DEL, and lone surrogates: shown to a person they are
# at best noise and at worst terminal escape sequences (a detail reading "\x1b]0;pwned\x07").
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_NEWLINES = re.compile(r"\r\n?")


def printable(value: str, *, multiline: bool = True) -> str:
    """``value`` made safe to show to a person: controls become U+FFFD, CRLF becomes LF.

    On a single line (a path, an ID) line breaks become U+FFFD too, so a value cannot forge the next
    line of the support block.
    """
    if value.isprintable():
        # Controls, line breaks, tabs and surrogates are all unprintable: nothing to replace.
        return value
    value = _NEWLINES.sub("\n", value)
    if not multiline:
        value = value.replace("\n", "\ufffd").replace("\t", " ")
    return _UNPRINTABLE.sub("\ufffd", value)


#: Longer values are cut when shown on a page, so a 10 KB URL cannot bury the rest of the page.
MAX_SHOWN: Final = 300


def shorten(value: str, limit: int = MAX_SHOWN) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "\u2026"


def support_prefixes(labels: Labels) -> tuple[str, str, str, str]:
    """The support block's four labels with the language's colon, padded so the values line up.

    Computed once per language: display columns cost more than the rest of a request's values.
    A full-width colon takes two columns, and a label followed by one needs no space to line up.
    """
    names = tuple(
        labels[key] + labels["colon"] for key in ("status", "request_id", "time", "request")
    )
    width = max(columns(name) for name in names)
    padded = tuple(name + " " * (width - columns(name)) for name in names)
    return padded[0], padded[1], padded[2], padded[3]


def support_text(
    prefixes: Sequence[str],
    status: int,
    title: str,
    request_id: str,
    timestamp: str,
    method: str,
    path: str,
) -> str:
    """The block a visitor copies into a message to support: one fact per line, values aligned.

    ``prefixes`` come from :func:`support_prefixes`.
    """
    status_row, id_row, time_row, request_row = prefixes
    return (
        f"{status_row}{status} {title}\n{id_row}{request_id}\n{time_row}{timestamp}\n"
        f"{request_row}{method} {path}"
    )


# -- the text body -------------------------------------------------------------------------------

#: Every line fits in 80 columns except a spec or link URL on a line of its own: a URL cut in two can
#: no longer be copied or clicked, while a long line merely wraps in the terminal.
WIDTH: Final = 80
_INDENT: Final = "  "


_wrapper = Wrapper(WIDTH, _INDENT, _INDENT)
_quote = Wrapper(WIDTH, _INDENT * 2, _INDENT * 2)
_bullets = Wrapper(WIDTH, _INDENT + "- ", _INDENT + "  ")


def _paragraphs(text: str, wrapper: Wrapper = _wrapper) -> str:
    """Wrap each line of ``text`` at 80 columns, keeping its line breaks and blank lines."""
    return "\n".join(wrapper.fill(line) if line.strip() else "" for line in text.split("\n"))


def _items(items: Sequence[str]) -> str:
    return "\n".join(_bullets.fill(item) for item in items)


def _hard_wrap(line: str) -> list[str]:
    """Cut a line that must keep its spacing (traceback, support data) into 80-column pieces."""
    line = line.expandtabs(4)
    room = WIDTH - len(_INDENT)
    if len(line) * 2 <= room:
        return [_INDENT + line]  # fits even if every character is wide
    pieces = []
    while columns(line) > room:
        end = fitting(line, room) or 1
        pieces.append(_INDENT + line[:end])
        line = line[end:]
    return [*pieces, _INDENT + line]


def _route_line(steps: Sequence[RouteStep], separator: str) -> str:
    """The diagram in text, ``[Your browser: Working] ----- ...``, indented, and wrapped between
    its boxes and wires, never inside a box. ``separator`` is the label ``colon``."""
    parts = []
    for step in steps:
        if step.kind == "node":
            parts.append(f"[{step.label}{separator}{step.state_label}]")
        else:
            parts.append("--X--" if step.state == "failed" else "-----")
    room = WIDTH - len(_INDENT)
    lines = [parts[0]]
    for part in parts[1:]:
        if columns(lines[-1]) + 1 + columns(part) > room:
            lines.append(part)
        else:
            lines[-1] += " " + part
    return "\n".join(_INDENT + line for line in lines)


@dataclass(frozen=True)
class TextParts:
    """The parts of a text body that depend only on the entry, its language and the options."""

    head: str
    what_happened: str
    spec: str
    can_do: str
    #: "Message from the application:", indented, for the app's own detail.
    app_said: str
    #: The heading and hint of the support block.
    support: str
    #: The heading over a traceback.
    traceback: str
    tail: str


def text_parts(
    info: StatusInfo,
    labels: Labels,
    *,
    show_developer_info: bool,
    site_name: str | None,
    home_url: str | None,
    contact_url: str | None,
    status_url: str | None = None,
) -> TextParts:
    """Wrap the entry's text and the page's words once, so a request only wraps what it brings."""
    mark, _ = colon(labels)
    return _parts(
        info,
        labels,
        f"{labels['route']}{mark}\n{_paragraphs(fault_caption(info.fault, labels))}",
        route(info.fault, labels),
        app_said=labels["app_said"],
        show_developer_info=show_developer_info,
        links=(site_name, home_url, contact_url, status_url),
    )


def maintenance_text_parts(
    info: StatusInfo,
    labels: Labels,
    *,
    site_name: str | None,
    home_url: str | None,
    contact_url: str | None,
    status_url: str | None,
) -> TextParts:
    """The text of the maintenance page: planned work, nothing failed (#13). ``info`` is the page
    as an entry (its title, summary and description are the maintenance labels)."""
    return _parts(
        info,
        labels,
        _paragraphs(labels["fault_maintenance"]),
        closed_route(labels),
        app_said=labels["maintenance_message"],
        show_developer_info=False,
        links=(site_name, home_url, contact_url, status_url),
    )


def _parts(
    info: StatusInfo,
    labels: Labels,
    caption: str,
    steps: Sequence[RouteStep],
    *,
    app_said: str,
    show_developer_info: bool,
    links: tuple[str | None, str | None, str | None, str | None],
) -> TextParts:
    site_name, home_url, contact_url, status_url = links
    # A label that ends its line takes the mark alone; one followed by its value, the whole colon.
    mark, _ = colon(labels)
    heading = f"{info.code} {info.title}"
    head = [fill(heading, WIDTH)]
    head.append("=" * min(columns(heading), WIDTH))
    if info.summary:
        head += ["", fill(info.summary, WIDTH)]
    head += ["", caption, "", _route_line(steps, labels["colon"])]

    what = [labels["what_happened"]]
    if info.description:
        what.append(_paragraphs(info.description))
    spec = ""
    if info.spec:
        end = mark if info.spec_url else full_stop(labels)
        spec = _paragraphs(f"{labels['defined_in']} {info.spec}{end}")
        if info.spec_url:
            spec += "\n" + _INDENT + info.spec_url

    can_do = labels["what_you_can_do"]
    if status_url:
        # The first thing to do during an outage: see what the team says (#13). The URL gets a line
        # of its own, as a URL cut in two can no longer be copied.
        can_do += f"\n{_bullets.fill(labels['status_page'] + mark)}\n{_INDENT * 2}{status_url}"
    if info.visitor_fixes:
        can_do += "\n" + _items(info.visitor_fixes)

    tail: list[str] = []
    if show_developer_info and (info.causes or info.developer_fixes or info.other_meanings):
        tail += ["", labels["developers"]]
        for label, items in (
            (labels["causes"], info.causes),
            (labels["developer_fixes"], info.developer_fixes),
            (labels["other_meanings"], info.other_meanings),
        ):
            if items:
                tail += ["", _INDENT + label + mark, _items(items)]
    shown = [
        label + labels["colon"] + url
        for label, url in ((labels["home_short"], home_url), (labels["contact_short"], contact_url))
        if url
    ]
    if site_name or shown:
        tail += ["", "-" * 3]
        if site_name:
            tail.append(fill(site_name, WIDTH))
        tail += [_INDENT + link for link in shown]
    return TextParts(
        head="\n".join(head),
        what_happened="\n".join(what),
        spec=spec,
        can_do=can_do,
        app_said=_INDENT + app_said + mark,
        support=labels["support"] + "\n" + _paragraphs(labels["support_hint"]),
        traceback=labels["traceback"],
        tail="\n".join(tail),
    )


@functools.lru_cache(maxsize=64)
def retry_line(retry: str) -> str:
    """The retry advice as the last bullet of "What you can do", or nothing when there is none.

    Kept by text, because a wait's advice is a per-request value that changes once a minute at
    most (its clock time), and wrapping Japanese or Arabic costs several times a whole repeated
    text body (benchmarks/bench_languages.py). Bounded, and a pure function of its argument.
    """
    return "\n" + _bullets.fill(retry) if retry else ""


def text_frame(parts: TextParts, *, detail: str | None, retry_line: str) -> tuple[str, str]:
    """The text before and after the support lines, around ``retry_line`` (from :func:`retry_line`).

    Without a traceback the body is ``before + support_lines(support) + after``.
    """
    out = [parts.head, "", parts.what_happened]
    if detail:
        out += ["", parts.app_said, _paragraphs(detail, _quote)]
    if parts.spec:
        out += ["", parts.spec]
    out += ["", parts.can_do + retry_line]
    out += ["", parts.support]
    return "\n".join(out) + "\n", ("\n" + parts.tail if parts.tail else "") + "\n"


def support_lines(support: str) -> str:
    """The support block cut into 80-column lines, its spacing kept."""
    return "\n".join(line for row in support.split("\n") for line in _hard_wrap(row))


def render_text(
    parts: TextParts,
    *,
    detail: str | None,
    retry: str,
    support: str,
    traceback: str | None,
) -> str:
    """The whole text body: the cached parts with this request's values wrapped in between."""
    before, after = text_frame(parts, detail=detail, retry_line=retry_line(retry))
    middle = support_lines(support)
    if traceback:
        rows = traceback.rstrip("\n").split("\n")
        middle += "\n\n" + parts.traceback + "\n"
        middle += "\n".join(line for row in rows for line in _hard_wrap(row))
    return before + middle + after
