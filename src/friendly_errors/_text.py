"""The words around the catalogue's content, and the plain-text rendering of an error.

The catalogue says what a status means; this module holds the few sentences every page needs whatever
the status (section headings, the caption of the request's path, the retry advice), so that the HTML
template, the text body and user templates all say the same thing in the same words.

Plain text is written by Python rather than by a template: every template goes through one autoescaping
environment, which would turn each apostrophe of the catalogue into ``&#39;``. Python also makes the
80-column wrapping exact, which a template can only approximate.
"""

from __future__ import annotations

import re
import textwrap
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from friendly_errors.catalogue import Fault, StatusInfo

#: The language of :data:`LABELS`. The catalogue may be translated; these labels are not yet, so a page
#: in another language marks them with ``lang="en"`` for screen readers (WCAG 3.1.2).
LABELS_LANG: Final = "en"

LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "error": "Error",
        "what_happened": "What happened",
        "what_you_can_do": "What you can do",
        "app_said": "Message from the application",
        "defined_in": "Defined in",
        "try_again": "Try again",
        "home": "Go to the home page",
        "contact": "Contact support",
        "support": "Details for support",
        "support_hint": "If you contact support, copy these details into your message.",
        "developers": "For developers and admins",
        "developers_toggle": "Show causes and fixes",
        "causes": "Possible causes",
        "developer_fixes": "How to fix it",
        "other_meanings": "Other meanings of this code",
        "traceback": "Traceback",
        "route": "Where it failed",
        "status": "Status",
        "request_id": "Request ID",
        "time": "Time (UTC)",
        "request": "Request",
        "browser": "Your browser",
        "intermediary": "Gateway",
        "origin": "Server",
        "browser_role": "You",
        "intermediary_role": "CDN or proxy",
        "origin_role": "Website",
        "state_ok": "Working",
        "state_failed": "Error",
        "state_unknown": "Unknown",
        "link_ok": "Connected",
        "link_failed": "Failed",
        "home_short": "Home",
        "contact_short": "Contact",
    }
)

#: The text alternative of the route diagram: the diagram is decoration for sighted readers, this is
#: the statement itself (WCAG 1.1.1, and 1.4.1 since colour must not be the only signal).
FAULT_CAPTIONS: Final[Mapping[Fault, str]] = MappingProxyType(
    {
        Fault.NONE: "Nothing failed: this status is not an error.",
        Fault.CLIENT: (
            "At the request. Your browser reached the server, but the server could not accept "
            "the request as it was sent."
        ),
        Fault.SERVER: (
            "At the server. Your browser and the network in between worked; the website's own "
            "server failed."
        ),
        Fault.INTERMEDIARY: (
            "Between the gateway and the server. Your browser reached the gateway (a CDN, proxy "
            "or load balancer), which could not get a good answer from the website's server."
        ),
    }
)


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
    #: ``"ok"``, ``"failed"`` or ``"unknown"``.
    state: str
    #: The state in words ("Working", "Error", ...), so colour is never the only signal.
    state_label: str


def state_key(kind: str, state: str) -> str:
    """The label that puts a step's state in words: a link is connected or failed, a node has a state."""
    if kind == "link":
        return "link_failed" if state == "failed" else "link_ok"
    return "state_" + state


def _state_label(kind: str, state: str) -> str:
    return LABELS[state_key(kind, state)]


def route(fault: Fault) -> tuple[RouteStep, ...]:
    """The path browser → gateway → server with the failure marked where ``fault`` puts it."""
    states = {
        "browser": "ok",
        "browser-intermediary": "ok",
        "intermediary": "ok",
        "intermediary-origin": "ok",
        "origin": "ok",
    }
    if fault is Fault.CLIENT:
        states["browser"] = "failed"
    elif fault is Fault.SERVER:
        states["origin"] = "failed"
    elif fault is Fault.INTERMEDIARY:
        # The gateway is the one reporting; what the server itself did is not known from here.
        states["intermediary-origin"] = "failed"
        states["origin"] = "unknown"
    steps = []
    for key, state in states.items():
        kind = "link" if "-" in key else "node"
        label = LABELS[key] if kind == "node" else ""
        role = LABELS[key + "_role"] if kind == "node" else ""
        steps.append(RouteStep(kind, key, label, role, state, _state_label(kind, state)))
    return tuple(steps)


def duration(seconds: int) -> str:
    """Seconds as a person would say them: exact when short, rounded when long."""
    if seconds < 90:
        return "1 second" if seconds == 1 else f"{seconds} seconds"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} minutes"
    if seconds < 36 * 3600:
        hours = round(seconds / 3600)
        return "about 1 hour" if hours == 1 else f"about {hours} hours"
    return f"about {round(seconds / 86400)} days"


def clock(at: float, now: float) -> str:
    """The moment ``at`` as the labels' ``{time}`` (data/en.toml): ``14:05`` in UTC, or
    ``2026-12-08 14:05`` when it is not on the day of ``now``; rounded up to the minute, so that it
    is never earlier than meant."""
    moment = time.gmtime(-(-at // 60) * 60)
    if moment[:3] == time.gmtime(now)[:3]:
        return time.strftime("%H:%M", moment)
    return time.strftime("%Y-%m-%d %H:%M", moment)


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


_RETRY_ADVICE: Final[Mapping[str, str]] = MappingProxyType(
    {
        "retry_now": "This should be temporary: trying again now may work.",
        "retry_wait": "This should be temporary: try again in {duration}.",
        "retry_usually": "This is usually temporary: trying again in a few moments may work.",
        "retry_client": (
            "Trying again unchanged will give the same result: the request has to change first."
        ),
        "retry_unlikely": "Trying again is unlikely to help until the problem is fixed.",
    }
)


def retry_advice(info: StatusInfo, retry_after: int | None) -> str:
    """Whether sending the same request again can help, from ``retryable`` and any wait asked for."""
    key = retry_key(info, retry_after)
    if key is None:
        return ""
    if key == "retry_wait":
        assert retry_after is not None
        return _RETRY_ADVICE[key].format(duration=duration(retry_after))
    return _RETRY_ADVICE[key]


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


def support_text(
    status: int, title: str, request_id: str, timestamp: str, method: str, path: str
) -> str:
    """The block a visitor copies into a message to support: one fact per line, labels aligned."""
    return (
        f"{LABELS['status']}:     {status} {title}\n"
        f"{LABELS['request_id']}: {request_id}\n"
        f"{LABELS['time']}: {timestamp}\n"
        f"{LABELS['request']}:    {method} {path}"
    )


# -- plain text ----------------------------------------------------------------------------------

#: Every line fits in 80 columns except a spec or link URL on a line of its own: a URL cut in two can
#: no longer be copied or clicked, while a long line merely wraps in the terminal.
WIDTH: Final = 80
_INDENT: Final = "  "
_wrapper = textwrap.TextWrapper(
    width=WIDTH,
    initial_indent=_INDENT,
    subsequent_indent=_INDENT,
    break_on_hyphens=False,
)
_quote = textwrap.TextWrapper(
    width=WIDTH,
    initial_indent=_INDENT * 2,
    subsequent_indent=_INDENT * 2,
    break_on_hyphens=False,
)
_bullets = textwrap.TextWrapper(
    width=WIDTH,
    initial_indent=_INDENT + "- ",
    subsequent_indent=_INDENT + "  ",
    break_on_hyphens=False,
)


def _paragraphs(text: str, wrapper: textwrap.TextWrapper = _wrapper) -> str:
    """Wrap each line of ``text`` at 80 columns, keeping its line breaks and blank lines."""
    return "\n".join(wrapper.fill(line) if line.strip() else "" for line in text.split("\n"))


def _items(items: Sequence[str]) -> str:
    return "\n".join(_bullets.fill(item) for item in items)


def _hard_wrap(line: str) -> list[str]:
    """Cut a line that must keep its spacing (traceback, support data) into 80-column pieces."""
    line = line.expandtabs(4)
    room = WIDTH - len(_INDENT)
    if len(line) <= room:
        return [_INDENT + line]
    return [_INDENT + line[i : i + room] for i in range(0, len(line), room)]


def _route_line(steps: Sequence[RouteStep]) -> str:
    marks = {"ok": "ok", "failed": "FAILED", "unknown": "?"}
    parts = []
    for step in steps:
        if step.kind == "node":
            parts.append(f"[{step.label}: {marks[step.state]}]")
        else:
            parts.append("--X--" if step.state == "failed" else "-----")
    return " ".join(parts)


@dataclass(frozen=True)
class TextParts:
    """The parts of a text body that depend only on the entry and the renderer's options."""

    head: str
    what_happened: str
    spec: str
    can_do: str
    tail: str


def text_parts(
    info: StatusInfo,
    *,
    show_developer_info: bool,
    site_name: str | None,
    home_url: str | None,
    contact_url: str | None,
) -> TextParts:
    """Wrap the entry's text once, so a request only wraps what it brings itself."""
    heading = f"{info.code} {info.title}"
    head = [textwrap.fill(heading, WIDTH, break_on_hyphens=False)]
    head.append("=" * min(len(heading), WIDTH))
    if info.summary:
        head += ["", textwrap.fill(info.summary, WIDTH, break_on_hyphens=False)]
    steps = route(info.fault)
    head += ["", f"{LABELS['route']}:", _paragraphs(FAULT_CAPTIONS[info.fault])]
    head += ["", _INDENT + _route_line(steps)]

    what = [LABELS["what_happened"]]
    if info.description:
        what.append(_paragraphs(info.description))
    spec = ""
    if info.spec:
        spec = _paragraphs(f"{LABELS['defined_in']} {info.spec}" + (":" if info.spec_url else "."))
        if info.spec_url:
            spec += "\n" + _INDENT + info.spec_url

    can_do = LABELS["what_you_can_do"]
    if info.visitor_fixes:
        can_do += "\n" + _items(info.visitor_fixes)

    tail: list[str] = []
    if show_developer_info and (info.causes or info.developer_fixes or info.other_meanings):
        tail += ["", LABELS["developers"]]
        for label, items in (
            (LABELS["causes"], info.causes),
            (LABELS["developer_fixes"], info.developer_fixes),
            (LABELS["other_meanings"], info.other_meanings),
        ):
            if items:
                tail += ["", _INDENT + label + ":", _items(items)]
    links = [
        f"{label}: {url}"
        for label, url in ((LABELS["home_short"], home_url), (LABELS["contact_short"], contact_url))
        if url
    ]
    if site_name or links:
        tail += ["", "-" * 3]
        if site_name:
            tail.append(textwrap.fill(site_name, WIDTH, break_on_hyphens=False))
        tail += [_INDENT + link for link in links]
    return TextParts(
        head="\n".join(head),
        what_happened="\n".join(what),
        spec=spec,
        can_do=can_do,
        tail="\n".join(tail),
    )


def retry_line(retry: str) -> str:
    """The retry advice as the last bullet of "What you can do", or nothing when there is none."""
    return "\n" + _bullets.fill(retry) if retry else ""


def text_frame(parts: TextParts, *, detail: str | None, retry_line: str) -> tuple[str, str]:
    """The text before and after the support lines, around ``retry_line`` (from :func:`retry_line`).

    Without a traceback the body is ``before + support_lines(support) + after``.
    """
    out = [parts.head, "", parts.what_happened]
    if detail:
        out += ["", _INDENT + LABELS["app_said"] + ":", _paragraphs(detail, _quote)]
    if parts.spec:
        out += ["", parts.spec]
    out += ["", parts.can_do + retry_line]
    out += ["", LABELS["support"], _paragraphs(LABELS["support_hint"])]
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
        middle += "\n\n" + LABELS["traceback"] + "\n"
        middle += "\n".join(line for row in rows for line in _hard_wrap(row))
    return before + middle + after
