"""Language tags (RFC 5646): how they compare, how they are written, what stands in for what, and
which way their script runs.

Negotiation (which of the catalogue's languages answers a visitor) and the catalogue (which layers a
lookup merges) must agree on every one of these facts, so each is written here once. The few facts
that are not plain RFC 4647 truncation come from CLDR: its likely subtags (Chinese from Taiwan, Hong
Kong and Macao is written in Traditional characters), its parent locales (Traditional Chinese does not
fall back to ``zh``) and its default contents (``zh`` is Simplified Chinese, ``pt`` is Brazilian
Portuguese). Issue #12 lists the tags visitors send and where each must land.
"""

from __future__ import annotations

from typing import Final

#: CLDR likelySubtags: Chinese as written in these regions is Traditional (``zh-TW`` is
#: ``zh-Hant-TW``); in every other region, and with no region, it is Simplified.
_TRADITIONAL_CHINESE_REGIONS: Final = frozenset({"tw", "hk", "mo"})

#: CLDR parentLocales: where a tag falls back to something other than its truncation. ``zh-Hant`` falls
#: back to the root (None), since ``zh`` means Simplified Chinese, which a reader of Traditional
#: characters should not be handed as "their" language; Portuguese outside Brazil falls back through
#: European Portuguese.
_PARENTS: Final[dict[str, str | None]] = {
    "zh-hant": None,
    **dict.fromkeys(
        (f"pt-{region}" for region in "ao ch cv fr gq gw lu mo mz st tl".split()), "pt-pt"
    ),
}

#: CLDR default content: a bare language without a layer of its own is read as this variety.
_DEFAULT_VARIETIES: Final = {"zh": "zh-hans", "pt": "pt-br"}

#: Scripts written right to left (Unicode script codes, ISO 15924), and languages whose usual script
#: is one of them (CLDR likelySubtags), so that a tag without a script subtag still gets its direction.
_RTL_SCRIPTS: Final = frozenset(
    {"adlm", "arab", "hebr", "mand", "nkoo", "rohg", "samr", "syrc", "thaa"}
)
_RTL_LANGUAGES: Final = frozenset(
    {
        "ar",
        "arc",
        "ckb",
        "dv",
        "fa",
        "he",
        "iw",
        "ks",
        "lrc",
        "mzn",
        "ps",
        "sd",
        "syr",
        "ug",
        "ur",
        "yi",
    }
)


def normalise(tag: str) -> str:
    """``tag`` as tags are compared: lower case (RFC 5646 Section 2.1.1), ``_`` read as ``-``.

    The underscore is accepted because gettext-style names (``pt_BR``) are common both in headers
    sent by non-browser clients and in the names applications give their catalogues.
    """
    return tag.strip().lower().replace("_", "-")


def canonical(tag: str) -> str:
    """``tag`` written the conventional way: ``zh-Hans``, ``pt-BR``, ``sr-Latn-RS``, ``en-US-x-twain``.

    RFC 5646 Section 2.1.1: regions upper case, scripts title case, everything else (and everything
    after a singleton such as ``x``) lower case. Case carries no meaning; this is what a reader sees
    in ``Content-Language`` and ``<html lang>``.
    """
    subtags = normalise(tag).split("-")
    written = [subtags[0]]
    extension = len(subtags[0]) == 1
    for subtag in subtags[1:]:
        extension = extension or len(subtag) == 1
        if not extension and len(subtag) == 2:
            subtag = subtag.upper()
        elif not extension and len(subtag) == 4 and subtag.isalpha():
            subtag = subtag.title()
        written.append(subtag)
    return "-".join(written)


def _with_script(subtags: list[str]) -> list[str]:
    """Chinese with a region but no script gets the script that region writes (CLDR likelySubtags)."""
    if subtags[0] != "zh" or len(subtags) < 2 or len(subtags[1]) == 4:
        return subtags
    region = subtags[1]
    if not (len(region) == 2 or (len(region) == 3 and region.isdigit())):
        return subtags
    script = "hant" if region in _TRADITIONAL_CHINESE_REGIONS else "hans"
    return [subtags[0], script, *subtags[1:]]


def fallbacks(tag: str) -> tuple[str, ...]:
    """The normalised tags that may answer for ``tag``, most specific first, without the default.

    RFC 4647 Section 3.4 lookup truncates subtag by subtag (``de-CH-1996``, ``de-CH``, ``de``),
    dropping a singleton together with what follows it. Three CLDR facts refine it for the tags
    visitors send: ``zh-TW``, ``zh-HK`` and ``zh-MO`` are Traditional Chinese and stop at
    ``zh-Hant``; ``zh``, ``zh-CN``, ``zh-SG`` and ``zh-Hans-*`` reach ``zh-Hans``; and ``pt``,
    ``pt-PT`` and the other Portuguese regions reach ``pt-BR`` after any layer of their own
    (``pt-AO``, for one, tries ``pt-PT`` first).
    """
    subtags = [subtag for subtag in normalise(tag).split("-") if subtag]
    if not subtags:
        return ()
    chain = ["-".join(subtags)]
    parts = _with_script(subtags)
    while parts:
        current = "-".join(parts)
        if current not in chain:
            chain.append(current)
        if current in _PARENTS:
            parent = _PARENTS[current]
            parts = parent.split("-") if parent else []
            continue
        parts = parts[:-1]
        # A singleton such as the "x" of "x-private" means nothing without what followed it.
        if parts and len(parts[-1]) == 1:
            parts.pop()
    result: list[str] = []
    for candidate in chain:
        variety = _DEFAULT_VARIETIES.get(candidate)
        for found in (candidate, variety):
            if found is not None and found not in result:
                result.append(found)
    return tuple(result)


def direction(tag: str) -> str:
    """``"rtl"`` for a language written right to left, else ``"ltr"``: what ``<html dir>`` says.

    A script subtag decides when there is one (``az-Arab`` is right to left, ``ku-Latn`` is not);
    otherwise the language's usual script does.
    """
    subtags = normalise(tag).split("-")
    for subtag in subtags[1:]:
        if len(subtag) == 1:
            break
        if len(subtag) == 4 and subtag.isalpha():
            return "rtl" if subtag in _RTL_SCRIPTS else "ltr"
    return "rtl" if subtags[0] in _RTL_LANGUAGES else "ltr"
