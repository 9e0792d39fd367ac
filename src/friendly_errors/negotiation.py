"""Choose the format and the language of an error response.

Both protocol adapters call this module for every error they replace, so it is plain
functions over header strings, with no knowledge of ASGI or WSGI, and it caches by header
value: a handful of distinct ``Accept`` headers (one per browser family and HTTP library)
make up nearly all traffic, so the parse is paid once per header, not once per error.

Two decisions shape it. It never answers 406: an error page in a format the client did not
ask for is more useful than a second error (RFC 9110 Section 12.5.1 lets a server
disregard the header). And a client that expresses no preference (no ``Accept``, or only ``*/*``, which
is what curl, httpx and requests send) gets the format of the response being replaced,
because that is what it was expecting to parse.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import re
from collections.abc import Collection, Mapping, Sequence
from types import MappingProxyType
from typing import Final, NamedTuple

from friendly_errors import _langtags

__all__ = [
    "ALL_FORMATS",
    "Format",
    "FormatChoice",
    "LanguageRange",
    "MediaRange",
    "best_match",
    "content_type",
    "negotiate_format",
    "negotiate_language",
    "parse_accept",
    "parse_accept_language",
]


class Format(str, enum.Enum):
    """A format an error can be rendered in; the value names its template family."""

    HTML = "html"
    JSON = "json"
    TEXT = "text"
    XML = "xml"
    MARKDOWN = "markdown"

    def __str__(self) -> str:
        # The str mixin's formatting changed in Python 3.11/3.12; pin it so f-strings and
        # templates print "html" on every supported version.
        return self.value

    @property
    def extension(self) -> str:
        """File extension of this format's templates (``text`` is ``.txt`` on disk)."""
        return _EXTENSIONS[self]

    @property
    def media_type(self) -> str:
        """Media type sent when nothing more specific was negotiated."""
        return _CANONICAL_MEDIA_TYPES[self]


ALL_FORMATS: Final[frozenset[Format]] = frozenset(Format)

_EXTENSIONS: Final[dict[Format, str]] = {
    Format.HTML: "html",
    Format.JSON: "json",
    Format.TEXT: "txt",
    Format.XML: "xml",
    Format.MARKDOWN: "md",
}

# Errors are problem details (RFC 9457 Section 3), so the structured formats default to
# the problem+ types; plain application/json or application/xml is only sent to a client
# that asks for exactly that.
_CANONICAL_MEDIA_TYPES: Final[dict[Format, str]] = {
    Format.HTML: "text/html",
    Format.JSON: "application/problem+json",
    Format.TEXT: "text/plain",
    Format.XML: "application/problem+xml",
    Format.MARKDOWN: "text/markdown",
}


@dataclasses.dataclass(frozen=True, slots=True)
class FormatChoice:
    """The outcome of negotiation: which template to render and which type to label it.

    The two differ because one JSON document can honestly be sent as either
    ``application/problem+json`` or ``application/json``, whichever the client asked for.
    """

    format: Format
    media_type: str


# The server's offers, most preferred first: in proactive negotiation (RFC 9110 Section
# 12.1) the choice among equally acceptable representations is the server's. Markdown
# (RFC 7763) leads but is offered only by name (_BY_NAME_ONLY): the agents that read it
# send "text/markdown, text/html" and must not get the page, while no browser names it.
# HTML comes next because a person at a browser is the reader who most needs a friendly
# page; the problem+ types precede their generic forms for the reason given above.
_OFFERS: Final[tuple[FormatChoice, ...]] = (
    FormatChoice(Format.MARKDOWN, "text/markdown"),
    FormatChoice(Format.HTML, "text/html"),
    FormatChoice(Format.JSON, "application/problem+json"),
    FormatChoice(Format.JSON, "application/json"),
    FormatChoice(Format.XML, "application/problem+xml"),
    FormatChoice(Format.XML, "application/xml"),
    FormatChoice(Format.TEXT, "text/plain"),
)
# Offers a wildcard never reaches. A browser's subresource requests ("image/*,*/*;q=0.8")
# and "text/*" clients get what they always got; only a client that names Markdown reads it.
_BY_NAME_ONLY: Final = frozenset({"text/markdown"})
_OFFERS_BY_MEDIA_TYPE: Final[dict[str, FormatChoice]] = {o.media_type: o for o in _OFFERS}
# The parameters each representation we send carries (RFC 9110 Section 8.3.2): all are UTF-8, and
# the Markdown is CommonMark (RFC 7763 Section 2, RFC 7764 Section 3.1). A range may name them.
_UTF8: Final[Mapping[str, str]] = MappingProxyType({"charset": "utf-8"})
_OFFERED_PARAMETERS: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        offer.media_type: (
            MappingProxyType({"charset": "utf-8", "variant": "CommonMark"})
            if offer.format is Format.MARKDOWN
            else _UTF8
        )
        for offer in _OFFERS
    }
)
_CANONICAL_CHOICES: Final[dict[Format, FormatChoice]] = {
    fmt: _OFFERS_BY_MEDIA_TYPE[media_type] for fmt, media_type in _CANONICAL_MEDIA_TYPES.items()
}


# The parse results are NamedTuples rather than frozen dataclasses: one is built per
# header element on the uncached path, where a frozen dataclass costs twice as much, and
# the matching loop unpacks them.
class MediaRange(NamedTuple):
    """One valid element of an ``Accept`` header, normalised for matching.

    ``type`` and ``subtype`` are lower-cased (media types are case-insensitive, RFC 9110
    Section 8.3.1) and may be ``"*"``. ``params`` holds the parameters other than ``q``,
    names lower-cased, values unquoted, in the order sent.
    """

    type: str
    subtype: str
    params: tuple[tuple[str, str], ...]
    q: float


class LanguageRange(NamedTuple):
    """One valid element of an ``Accept-Language`` header.

    ``tag`` is lower-cased with ``_`` read as ``-``, so that it compares directly with
    tags normalised the same way; it may be ``"*"``.
    """

    tag: str
    q: float


# Headers longer than this are parsed but not cached, so a client cannot fill memory
# with unique megabyte headers; real browser headers are under 300 characters.
_MAX_CACHED_LENGTH: Final = 1024
# Elements past this many are ignored: the work per header stays bounded however long it
# is. Browsers send fewer than ten.
_MAX_ITEMS: Final = 64
_MAX_PARAMS: Final = 16
_CACHE_SIZE: Final = 256

# RFC 9110 Section 5.6.2 (token) and 5.6.4 (quoted-string, obs-text included).
_TOKEN: Final = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_MEDIA_TYPE_RE: Final = re.compile(rf"({_TOKEN})/({_TOKEN})")
_PARAMETER_RE: Final = re.compile(
    rf'({_TOKEN})=({_TOKEN}|"(?:[\t !#-\[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*")'
)
# The shape of nearly every element browsers and libraries send, read in one match; the
# general path below handles the rest.
_SIMPLE_RANGE_RE: Final = re.compile(
    rf"[ \t]*({_TOKEN})/({_TOKEN})[ \t]*(?:;[ \t]*[qQ]=([^ \t;]*)[ \t]*)?"
)
_QUOTED_PAIR_RE: Final = re.compile(r"\\(.)", re.DOTALL)
# RFC 9110 Section 12.4.2 allows at most three decimals; more are accepted because a
# client that sends q=0.3333 plainly means a third, and dropping its whole range would be
# a worse reading. A range with a q outside 0..1 or not a number is dropped.
_QVALUE_RE: Final = re.compile(r"[0-9]+(?:\.[0-9]*)?")
# RFC 4647 Section 2.1 language-range; "_" also separates subtags because gettext-style
# locale names (pt_BR) are common in both headers sent by non-browser clients and in the
# application's own catalogue names.
_LANGUAGE_RANGE_RE: Final = re.compile(r"\*|[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*")
# One list element (or one parameter) up to the next unquoted separator. A quote that is
# never closed runs to the end, which leaves a piece that fails validation and is dropped.
_ELEMENT_RE: Final = re.compile(r'(?:[^",]|"(?:[^"\\]|\\.)*"?)*', re.DOTALL)
_PARAMETER_PIECE_RE: Final = re.compile(r'(?:[^";]|"(?:[^"\\]|\\.)*"?)*', re.DOTALL)


def _split_quoted(value: str, piece_re: re.Pattern[str], limit: int) -> list[str]:
    """Split ``value`` where ``piece_re`` stops, keeping at most ``limit`` pieces.

    Only for values containing a quote, where a separator may be quoted text; the
    callers use ``str.split`` otherwise, which is nearly always.
    """
    pieces: list[str] = []
    position = 0
    while len(pieces) < limit and position <= len(value):
        match = piece_re.match(value, position)
        assert match is not None  # the pattern can match the empty string
        pieces.append(match.group())
        position = match.end() + 1
    return pieces


def _parse_qvalue(text: str) -> float | None:
    if _QVALUE_RE.fullmatch(text) is None:
        return None
    q = float(text)
    return q if q <= 1 else None


def _parse_media_range(element: str) -> MediaRange | None:
    simple = _SIMPLE_RANGE_RE.fullmatch(element)
    if simple is not None:
        type_, subtype, q_text = simple.groups()
        type_, subtype = type_.lower(), subtype.lower()
        if type_ == "*" and subtype != "*":
            return None
        simple_q = 1.0 if q_text is None else _parse_qvalue(q_text)
        return None if simple_q is None else MediaRange(type_, subtype, (), simple_q)
    if '"' in element:
        pieces = _split_quoted(element, _PARAMETER_PIECE_RE, _MAX_PARAMS + 2)
    else:
        pieces = element.split(";", _MAX_PARAMS + 1)
    if len(pieces) > _MAX_PARAMS + 1:
        return None
    media_type = _MEDIA_TYPE_RE.fullmatch(pieces[0].strip(" \t"))
    if media_type is None:
        return None
    type_, subtype = media_type.group(1).lower(), media_type.group(2).lower()
    if type_ == "*" and subtype != "*":
        # RFC 9110 Section 12.5.1 has no "*/subtype" range.
        return None
    params: dict[str, str] = {}
    for piece in pieces[1:]:
        piece = piece.strip(" \t")
        if not piece:
            # RFC 9110 Section 5.6.6 allows empty parameters ("text/html;;q=1").
            continue
        parameter = _PARAMETER_RE.fullmatch(piece)
        if parameter is None:
            # A range whose parameters cannot be read is dropped whole rather than read
            # without them: "text/html;q =0.1" would otherwise count at full quality.
            return None
        name, value = parameter.group(1).lower(), parameter.group(2)
        if value.startswith('"'):
            value = _QUOTED_PAIR_RE.sub(r"\1", value[1:-1])
        # A repeated name keeps its last value, as Werkzeug and most parsers do.
        params[name] = value
    q = 1.0
    if "q" in params:
        parsed_q = _parse_qvalue(params.pop("q"))
        if parsed_q is None:
            return None
        q = parsed_q
    return MediaRange(type_, subtype, tuple(params.items()), q)


def _parse_accept(value: str) -> tuple[MediaRange, ...]:
    if '"' in value:
        elements = _split_quoted(value, _ELEMENT_RE, _MAX_ITEMS)
    else:
        elements = value.split(",", _MAX_ITEMS)[:_MAX_ITEMS]
    ranges = []
    for element in elements:
        media_range = _parse_media_range(element)
        if media_range is not None:
            ranges.append(media_range)
    return tuple(ranges)


_parse_accept_cached = functools.lru_cache(maxsize=_CACHE_SIZE)(_parse_accept)


def parse_accept(value: str) -> tuple[MediaRange, ...]:
    """Parse an ``Accept`` header into its valid media ranges, in the order sent.

    Malformed elements are skipped instead of failing the request: this runs while an
    error page is being built, where raising would replace one error with a worse one.
    Results are cached, hence the immutable return value.
    """
    if len(value) > _MAX_CACHED_LENGTH:
        return _parse_accept(value)
    return _parse_accept_cached(value)


def _parse_accept_language(value: str) -> tuple[LanguageRange, ...]:
    ranges = []
    for element in value.split(",", _MAX_ITEMS)[:_MAX_ITEMS]:
        tag, _, weight = element.partition(";")
        tag = tag.strip(" \t")
        if _LANGUAGE_RANGE_RE.fullmatch(tag) is None:
            continue
        q: float | None = 1.0
        weight = weight.strip(" \t")
        if weight:
            # RFC 9110 Section 12.4.2: the weight is the only parameter allowed here.
            name, _, text = weight.partition("=")
            q = _parse_qvalue(text) if name in ("q", "Q") else None
        if q is not None:
            ranges.append(LanguageRange(_langtags.normalise(tag), q))
    return tuple(ranges)


_parse_accept_language_cached = functools.lru_cache(maxsize=_CACHE_SIZE)(_parse_accept_language)


def parse_accept_language(value: str) -> tuple[LanguageRange, ...]:
    """Parse an ``Accept-Language`` header into its valid ranges, in the order sent.

    Skips malformed elements and caches results, for the same reasons as
    :func:`parse_accept`.
    """
    if len(value) > _MAX_CACHED_LENGTH:
        return _parse_accept_language(value)
    return _parse_accept_language_cached(value)


def _carries(params: tuple[tuple[str, str], ...], offered: Mapping[str, str]) -> bool:
    """Whether a representation with parameters ``offered`` has every parameter a range names.

    RFC 9110 Section 12.5.1: "text/html;level=1" names a narrower type than "text/html". Our
    representations carry only ``charset=utf-8`` (and Markdown its ``variant``), so
    ``application/json; charset=utf-8``, which several HTTP client libraries send, names exactly the
    JSON we send (#11); any other parameter (``version=2``, ``charset=iso-8859-1``) names a
    representation we do not have.
    """
    for name, value in params:
        ours = offered.get(name)
        # Both parameters we send have case-insensitive values: charset (RFC 9110 Section
        # 8.3.2) and a Markdown variant (RFC 7763 Section 2).
        if ours is None or ours.lower() != value.lower():
            return False
    return True


def _best_offer(
    ranges: Sequence[MediaRange],
    offers: Sequence[str],
    offered: Mapping[str, Mapping[str, str]] | None = None,
    by_name_only: Collection[str] = (),
) -> str | None:
    """Return the offer the client rates highest, or ``None`` if it accepts none.

    An offer's quality is that of the most specific range matching it (RFC 9110 Section
    12.5.1), specificity being type, then subtype, then number of parameters. Between
    offers of equal quality, the one matched by the more specific range wins, then the
    earlier offer: ``application/json, */*`` names JSON, so JSON beats an HTML offer that
    only ``*/*`` reaches. This is also Werkzeug's ordering, which keeps the two
    interchangeable for applications that already rely on it. Offers in ``by_name_only``
    are matched by their own ``type/subtype`` range and never by a wildcard.
    """
    best: str | None = None
    best_key: tuple[float, tuple[int, int, int, float]] | None = None
    for offer in offers:
        offer_type, _, offer_subtype = offer.lower().partition("/")
        named = offer in by_name_only
        own = None if offered is None else offered.get(offer)
        # (type given, subtype given, number of parameters, q) of the best range so far.
        found: tuple[int, int, int, float] | None = None
        for type_, subtype, params, q in ranges:
            if type_ == "*":
                if named:
                    continue
                candidate = (0, 0, len(params), q)
            elif type_ != offer_type:
                continue
            elif subtype == "*":
                if named:
                    continue
                candidate = (1, 0, len(params), q)
            elif subtype == offer_subtype and (
                not params or (own is not None and _carries(params, own))
            ):
                # Without ``offered`` (best_match), a range with parameters names a narrower
                # type than any parameterless offer, as in Werkzeug.
                candidate = (1, 1, len(params), q)
            else:
                continue
            if found is None or candidate > found:
                found = candidate
        if found is None or found[3] <= 0:
            continue
        key = (found[3], found)
        if best_key is None or key > best_key:
            best, best_key = offer, key
    return best


def content_type(media_type: str) -> str:
    """The ``Content-Type`` of what we send as ``media_type``, with the parameters it carries."""
    parameters = _OFFERED_PARAMETERS.get(media_type, _UTF8)
    return media_type + "".join(f"; {name}={value}" for name, value in parameters.items())


def best_match(accept: str | None, offers: Sequence[str]) -> str | None:
    """Return the element of ``offers`` that ``accept`` rates highest, or ``None``.

    ``offers`` are bare ``type/subtype`` media types in the server's order of
    preference. This is only the RFC 9110 matching, without the no-preference and
    never-406 policy of :func:`negotiate_format`, so that it can be compared with other
    implementations and reused for other offers. An absent header matches nothing; what
    that means is the caller's policy.
    """
    for offer in offers:
        media_type = _MEDIA_TYPE_RE.fullmatch(offer)
        if media_type is None or "*" in (media_type.group(1), media_type.group(2)):
            raise ValueError(f"offer {offer!r} is not a type/subtype media type")
    return _best_offer(parse_accept(accept or ""), offers)


def _has_no_preference(ranges: Sequence[MediaRange]) -> bool:
    # A header with no readable range says no more than an absent one.
    return all(r.type == "*" and r.q > 0 for r in ranges)


# What the application was answering with, when the client did not say what it wants.
# The JSON family maps to problem+json even for a plain application/json response: the
# error body is a problem document and problem+json is what says so, while any JSON
# client still parses it. XHTML is a web page, so it stays HTML.
_RESPONSE_TYPES: Final[dict[str, Format]] = {
    "application/json": Format.JSON,
    "text/html": Format.HTML,
    "application/xhtml+xml": Format.HTML,
    "text/plain": Format.TEXT,
    "text/markdown": Format.MARKDOWN,
    "application/xml": Format.XML,
    "text/xml": Format.XML,
}


def _format_of_response(content_type: str | None) -> Format | None:
    if not content_type:
        return None
    media_type = content_type.partition(";")[0].strip(" \t").lower()
    found = _RESPONSE_TYPES.get(media_type)
    if found is not None:
        return found
    # Structured syntax suffixes: RFC 6839 for +json, RFC 7303 for +xml.
    if media_type.endswith("+json"):
        return Format.JSON
    if media_type.endswith("+xml"):
        return Format.XML
    return None


@functools.cache  # at most one entry per subset of Format
def _offers_among(allowed: frozenset[Format]) -> tuple[str, ...]:
    return tuple(o.media_type for o in _OFFERS if o.format in allowed)


def _negotiate_format(
    accept: str,
    default: Format,
    response_content_type: str | None,
    requested_with: str | None,
    allowed: frozenset[Format],
) -> FormatChoice:
    if default not in allowed:
        raise ValueError(
            f"default format {default.value!r} is not among the allowed formats "
            f"{sorted(f.value for f in allowed)}"
        )
    ranges = _parse_accept(accept)
    if _has_no_preference(ranges):
        signal = _format_of_response(response_content_type)
        if signal is None or signal not in allowed:
            # jQuery and many hand-written fetch wrappers mark script requests this way.
            if (
                requested_with is not None
                and requested_with.strip(" \t").lower() == "xmlhttprequest"
                and Format.JSON in allowed
            ):
                signal = Format.JSON
            else:
                signal = default
        return _CANONICAL_CHOICES[signal]
    chosen = _best_offer(ranges, _offers_among(allowed), _OFFERED_PARAMETERS, _BY_NAME_ONLY)
    if chosen is None:
        return _CANONICAL_CHOICES[default]
    return _OFFERS_BY_MEDIA_TYPE[chosen]


_negotiate_format_cached = functools.lru_cache(maxsize=_CACHE_SIZE)(_negotiate_format)


def negotiate_format(
    accept: str | None,
    *,
    default: Format = Format.HTML,
    response_content_type: str | None = None,
    requested_with: str | None = None,
    formats: Collection[Format] = ALL_FORMATS,
) -> FormatChoice:
    """Decide the format and media type of an error response; never refuses.

    The ``Accept`` header decides when it states a preference. When it does not (absent,
    empty, unreadable, or only ``*/*``), the best remaining signal does:
    ``response_content_type``, the type of the response being replaced, because the
    client was about to parse that; then ``X-Requested-With: XMLHttpRequest``, which
    marks a script asking for data; then ``default``. When the header accepts none of
    the offers the answer is ``default`` too, since an error page the client did not ask
    for beats a 406.

    ``formats`` restricts what may be chosen; preference among them stays the server's
    fixed order. ``default`` must be one of them (``ValueError`` otherwise): the
    middlewares check this when they are built.
    """
    allowed = formats if isinstance(formats, frozenset) else frozenset(formats)
    accept = accept or ""
    if (
        len(accept) + len(response_content_type or "") + len(requested_with or "")
        > _MAX_CACHED_LENGTH
    ):
        return _negotiate_format(accept, default, response_content_type, requested_with, allowed)
    return _negotiate_format_cached(accept, default, response_content_type, requested_with, allowed)


def _negotiate_language(accept_language: str, available: Collection[str], default: str) -> str:
    by_tag: dict[str, str] = {}
    for tag in available:
        # The first spelling of a tag wins when the application lists it twice.
        by_tag.setdefault(_langtags.normalise(tag), tag)
    ranges = _parse_accept_language(accept_language)
    refused = {r.tag for r in ranges if r.q <= 0}
    # sorted() is stable: ranges of equal weight keep the client's order.
    for language_range in sorted((r for r in ranges if r.q > 0), key=lambda r: -r.q):
        if language_range.tag == "*":
            # RFC 4647 Section 3.4: in lookup the wildcard stands for the default.
            return default
        for index, candidate in enumerate(_langtags.fallbacks(language_range.tag)):
            # A tag the client refused outright is skipped when reached by shortening
            # (fr-CA, fr;q=0) or as a stand-in (pt-PT, pt-BR;q=0); the tag it listed
            # itself is not, it said yes to that.
            if candidate in by_tag and (index == 0 or candidate not in refused):
                return by_tag[candidate]
    return default


_negotiate_language_cached = functools.lru_cache(maxsize=_CACHE_SIZE)(_negotiate_language)


def negotiate_language(
    accept_language: str | None, available: Collection[str], *, default: str = "en"
) -> str:
    """Pick the language of an error page by RFC 4647 Section 3.4 lookup.

    Lookup, not filtering, because a page is rendered in exactly one language: each
    range in order of weight is tried as given and then shortened subtag by subtag
    (``de-CH-1996``, ``de-CH``, ``de``) before the next range is considered, and
    ``default`` answers when nothing matches. The tags visitors send for Chinese and
    Portuguese reach the written variety they mean (``zh-CN`` finds ``zh-Hans``,
    ``pt-PT`` finds ``pt-BR`` when there is no ``pt-PT``; ``zh-TW`` never finds
    ``zh-Hans``): see ``_langtags.fallbacks``. Tags compare case-insensitively with ``_``
    read as ``-``; the result is spelled as in ``available``.
    """
    if not accept_language:
        return default
    if not isinstance(available, (tuple, frozenset)):
        available = tuple(available)
    if len(accept_language) > _MAX_CACHED_LENGTH:
        return _negotiate_language(accept_language, available, default)
    return _negotiate_language_cached(accept_language, available, default)
