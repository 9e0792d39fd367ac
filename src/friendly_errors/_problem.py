"""RFC 9457 problem details: the member layout, and its JSON and XML serialisations.

Both bodies are built from a dict, not from templates. A template writing JSON or XML must get every
quote, escape and comma right for every input, and one stray value breaks every client's parser; a
serialiser cannot make that mistake. The dict is also what the benchmarks compare against.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from friendly_errors.catalogue import StatusInfo

# ensure_ascii=False keeps French or Japanese text readable and a third of the size; lone surrogates,
# which UTF-8 cannot encode, are replaced before encoding (see utf8), so the body is always valid UTF-8.
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

# "<", ">" and "&" only ever occur inside JSON strings, where \u escapes mean the same. Escaping them
# means no byte sequence from the request ("</script>", "<!--") reaches a client that sniffs or embeds.
_JSON_HTML_ESCAPES: Final = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"))

_SURROGATES: Final = re.compile("[\ud800-\udfff]")


def utf8(text: str) -> tuple[str, bytes]:
    """``text`` as UTF-8, with any lone surrogate (from ``surrogateescape`` decoding) as U+FFFD.

    Returns the text actually encoded as well, for callers that hash part of it.
    """
    try:
        return text, text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATES.sub("\ufffd", text)
        return text, text.encode("utf-8")


def base_problem(
    info: StatusInfo,
    *,
    type_uri: str,
    has_instance: bool,
    show_developer_info: bool,
    status_url: str | None = None,
) -> dict[str, Any]:
    """The members that depend only on the entry; the request's members are placeholders, in order.

    Member order follows RFC 9457 Section 3.1 (standard members first) so a person reading the body
    sees type, title and status before the extensions.
    """
    problem: dict[str, Any] = {
        "type": type_uri,
        "title": info.title,
        "status": info.code,
        "detail": info.summary or info.title,
    }
    if has_instance:
        problem["instance"] = ""
    problem["fault"] = info.fault.value
    problem["summary"] = info.summary
    if show_developer_info:
        problem["causes"] = list(info.causes)
        problem["fixes"] = {
            "visitor": list(info.visitor_fixes),
            "developer": list(info.developer_fixes),
        }
    else:
        problem["fixes"] = {"visitor": list(info.visitor_fixes)}
    problem["retryable"] = info.retryable
    problem["retry_after"] = None
    return _closed(problem, info, status_url)


def maintenance_problem(
    info: StatusInfo,
    labels: Mapping[str, str],
    *,
    type_uri: str,
    has_instance: bool,
    status_url: str | None,
) -> dict[str, Any]:
    """The members of a 503 during planned maintenance (#13); request values are placeholders.

    ``title`` stays the status's reason phrase (``info`` is 503's entry): RFC 9457 Section 4.2.1
    asks that of ``about:blank``, and a type names one kind of problem with one title. That this
    one is planned is said by ``maintenance`` and the summary.
    """
    problem: dict[str, Any] = {
        "type": type_uri,
        "title": info.title,
        "status": 503,
        "detail": labels["maintenance_summary"],
    }
    if has_instance:
        problem["instance"] = ""
    problem["fault"] = info.fault.value
    problem["maintenance"] = True
    problem["summary"] = labels["maintenance_summary"]
    problem["fixes"] = {"visitor": [labels["maintenance_visitor_fix"]]}
    problem["retryable"] = True
    problem["retry_after"] = None
    problem["until"] = None
    return _closed(problem, info, status_url)


def _closed(problem: dict[str, Any], info: StatusInfo, status_url: str | None) -> dict[str, Any]:
    """The members every problem document ends with, in this order: where to look during an outage
    (#13), the request ID (a placeholder here) and the defining document."""
    if status_url:
        problem["status_url"] = status_url
    problem["request_id"] = ""
    if info.spec:
        problem["spec"] = info.spec
    if info.spec_url:
        problem["spec_url"] = info.spec_url
    return problem


def to_json(problem: Mapping[str, Any]) -> bytes:
    return utf8(json_text(problem))[1]


def json_text(problem: Mapping[str, Any]) -> str:
    """The document as text; ``<``, ``>`` and ``&`` escaped, so a browser that sniffs it as HTML
    finds no markup."""
    return _html_safe(_ENCODER.encode(problem))


def json_string(value: str) -> str:
    """A string as :func:`json_text` writes it inside a document, between its quotes: a value cut
    out of a document (the memo's request ID) is written back exactly as in a whole one."""
    return _html_safe(_ENCODER.encode(value)[1:-1])


def _html_safe(text: str) -> str:
    for char, escape in _JSON_HTML_ESCAPES:
        if char in text:
            text = text.replace(char, escape)
    return text


# XML 1.0 Section 2.2: characters outside Char cannot appear in a document, not even escaped.
_XML_INVALID: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_NAMESPACE: Final = "urn:ietf:rfc:7807"


def xml_string(value: str) -> str:
    """A string as :func:`to_xml` writes it as an element's text."""
    return _xml_text(value)


def _xml_text(value: str) -> str:
    value = _XML_INVALID.sub("\ufffd", value)
    # A CR would be normalised to LF by any parser (XML 1.0 Section 2.11); the reference keeps it.
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _xml_value(name: str, value: Any, out: list[str]) -> None:
    if isinstance(value, Mapping):
        out.append(f"<{name}>")
        for key, member in value.items():
            _xml_value(key, member, out)
        out.append(f"</{name}>")
    elif isinstance(value, (list, tuple)):
        # RFC 9457 Appendix B: array members are <i> elements.
        out.append(f"<{name}>")
        for item in value:
            _xml_value("i", item, out)
        out.append(f"</{name}>")
    elif isinstance(value, bool):
        out.append(f"<{name}>{'true' if value else 'false'}</{name}>")
    elif isinstance(value, int):
        out.append(f"<{name}>{value}</{name}>")
    else:
        out.append(f"<{name}>{_xml_text(str(value))}</{name}>")


def to_xml(problem: Mapping[str, Any]) -> bytes:
    """The same members as ``application/problem+xml`` (RFC 9457 Appendix B).

    Member names are fixed identifiers from :func:`base_problem`, so they are valid element names;
    only values come from outside, and those are escaped with invalid characters replaced.
    """
    return xml_text(problem).encode("utf-8")


def xml_text(problem: Mapping[str, Any]) -> str:
    """The document of :func:`to_xml` as text."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n', f'<problem xmlns="{_XML_NAMESPACE}">']
    for name, value in problem.items():
        _xml_value(name, value, out)
    out.append("</problem>\n")
    return "".join(out)
