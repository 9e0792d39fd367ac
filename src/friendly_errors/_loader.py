"""Reading and validating catalogue sources: TOML files, JSON files and Python mappings.

The built-in content goes through this same loader, so a mistake in it fails exactly as a user's would:
at load time, with the file, the code and the field in the message.
"""

from __future__ import annotations

import json
import re
import string
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

#: One layer's fields for one code: only what that layer gives, validated.
PartialEntry = Mapping[str, Any]

_CLASS_KEY = re.compile(r"^[1-9]xx$")
FAULTS = ("none", "client", "server", "intermediary")


class CatalogueError(ValueError):
    """A catalogue source is malformed; the message names the source, the code and the field."""


def class_key(code: int) -> str:
    return f"{code // 100}xx"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _texts(value: object) -> tuple[str, ...] | None:
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(value)
    return None


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _fault(value: object) -> str | None:
    return value if value in FAULTS else None


def _seconds(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _header_names(value: object) -> tuple[str, ...] | None:
    names = _texts(value)
    if names is None or not all(re.fullmatch(r"[A-Za-z0-9-]+", n) for n in names):
        return None
    return names


# field name -> (converter returning None when invalid, what the field expects)
FIELDS: Mapping[str, tuple[Callable[[object], Any], str]] = MappingProxyType(
    {
        "title": (_text, "a non-empty string"),
        "summary": (_text, "a non-empty string"),
        "description": (_text, "a non-empty string"),
        "fault": (_fault, "one of " + ", ".join(repr(f) for f in FAULTS)),
        "causes": (_texts, "a list of non-empty strings"),
        "visitor_fixes": (_texts, "a list of non-empty strings"),
        "developer_fixes": (_texts, "a list of non-empty strings"),
        "spec": (_text, "a non-empty string"),
        "spec_url": (_text, "a non-empty string"),
        "official": (_flag, "true or false"),
        "retryable": (_flag, "true or false"),
        "headers": (_header_names, "a list of header names"),
        "retry_after": (_seconds, "a non-negative integer of seconds"),
        "other_meanings": (_texts, "a list of non-empty strings"),
    }
)


#: The key of the table that holds the page's own words (``[labels]`` in a file), beside the codes.
LABELS_KEY = "labels"

#: Every label a page may show, with the placeholders its text may use. The built-in English file
#: gives them all; a translation gives any of them, and the rest falls back to English.
LABEL_PLACEHOLDERS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        **dict.fromkeys(
            (
                "error what_happened what_you_can_do app_said defined_in try_again home contact "
                "status_page support support_hint developers developers_toggle causes "
                "developer_fixes other_meanings traceback route status request_id time request "
                "colon full_stop browser intermediary origin browser_role intermediary_role "
                "origin_role state_ok state_failed state_unknown state_maintenance link_ok "
                "link_failed home_short contact_short fault_none fault_client fault_server "
                "fault_intermediary fault_maintenance retry_now retry_usually retry_client "
                "retry_unlikely fallback "
                "maintenance_title maintenance_summary maintenance_description "
                "maintenance_visitor_fix maintenance_message"
            ).split(),
            frozenset(),
        ),
        "retry_wait": frozenset({"time", "duration"}),
        "maintenance_until": frozenset({"time", "duration"}),
    }
)


def _validate_labels(raw: object, origin: str) -> PartialEntry:
    if not isinstance(raw, Mapping):
        raise CatalogueError(
            f"{origin}: labels: expected a table of words, got {type(raw).__name__}"
        )
    labels: dict[str, str] = {}
    for name, value in raw.items():
        allowed = LABEL_PLACEHOLDERS.get(name)
        if allowed is None:
            known = ", ".join(sorted(LABEL_PLACEHOLDERS))
            raise CatalogueError(f"{origin}: labels: {name!r}: unknown label (known: {known})")
        text = _text(value)
        if text is None:
            raise CatalogueError(
                f"{origin}: labels: {name!r}: expected a non-empty string, got {value!r:.80}"
            )
        try:
            fields = [
                (field, spec, conversion)
                for _, field, spec, conversion in string.Formatter().parse(text)
                if field is not None
            ]
        except ValueError as exc:
            raise CatalogueError(
                f"{origin}: labels: {name!r}: {exc} (write {{{{ for a brace)"
            ) from None
        used = {field for field, _, _ in fields}
        # "{time:>9}" or "{time!r}" would be formatting, not words, and a spec that does not suit
        # the value fails only when a page is rendered; a placeholder is its name in braces.
        if any(spec or conversion for _, spec, conversion in fields):
            raise CatalogueError(
                f"{origin}: labels: {name!r}: a placeholder is a name in braces, such as {{time}}, "
                f"without a format or conversion: {text!r:.80}"
            )
        if not used <= allowed:
            names = ", ".join("{" + n + "}" for n in sorted(allowed)) or "none"
            raise CatalogueError(
                f"{origin}: labels: {name!r}: unknown placeholder in {text!r:.80} "
                f"(this label may use: {names})"
            )
        labels[name] = text
    return MappingProxyType(labels)


def _parse_key(key: object, origin: str) -> int | str:
    """Codes as ints (``524`` or ``"524"``, as TOML and JSON spell them) and class keys as ``"5xx"``."""
    if isinstance(key, int) and not isinstance(key, bool):
        code = key
    elif isinstance(key, str) and key.strip().isdigit():
        code = int(key.strip())
    elif isinstance(key, str) and _CLASS_KEY.match(key.strip().lower()):
        return key.strip().lower()
    else:
        raise CatalogueError(
            f"{origin}: code {key!r}: not a status code from 100 to 999 or a class such as '5xx'"
        )
    if not 100 <= code <= 999:
        raise CatalogueError(f"{origin}: code {code}: outside the range 100 to 999")
    return code


def validate_mapping(source: Mapping[Any, Any], *, origin: str) -> dict[int | str, PartialEntry]:
    """Check every entry of ``source`` and return it with normalised keys and immutable values."""
    entries: dict[int | str, PartialEntry] = {}
    for raw_key, raw_entry in source.items():
        if raw_key == LABELS_KEY:
            entries[LABELS_KEY] = _validate_labels(raw_entry, origin)
            continue
        key = _parse_key(raw_key, origin)
        if not isinstance(raw_entry, Mapping):
            raise CatalogueError(
                f"{origin}: code {key}: expected a table of fields, got {type(raw_entry).__name__}"
            )
        entry: dict[str, Any] = {}
        for name, value in raw_entry.items():
            spec = FIELDS.get(name)
            if spec is None:
                known = ", ".join(FIELDS)
                raise CatalogueError(
                    f"{origin}: code {key}: field {name!r}: unknown field (known fields: {known})"
                )
            convert, expected = spec
            converted = convert(value)
            if converted is None:
                raise CatalogueError(
                    f"{origin}: code {key}: field {name!r}: expected {expected}, got {value!r:.80}"
                )
            entry[name] = converted
        if key in entries:
            raise CatalogueError(f"{origin}: code {key}: given twice")
        entries[key] = MappingProxyType(entry)
    return entries


def load_file(path: Path) -> tuple[str | None, dict[int | str, PartialEntry]]:
    """Read a TOML or JSON catalogue file; returns the file's own ``locale`` (if any) and its entries."""
    origin = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise CatalogueError(f"{origin}: unsupported file type {suffix!r} (use .toml or .json)")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(f"{origin}: cannot read file: {exc.strerror or exc}") from exc
    return load_bytes(raw, origin=origin, toml=suffix == ".toml")


def load_bytes(
    raw: bytes, *, origin: str, toml: bool
) -> tuple[str | None, dict[int | str, PartialEntry]]:
    """The ``locale`` and entries of a catalogue file's contents; ``origin`` names it in errors."""
    try:
        if toml:
            data: object = tomllib.loads(raw.decode("utf-8"))
        else:
            data = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise CatalogueError(f"{origin}: not valid UTF-8: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{origin}: invalid TOML: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise CatalogueError(f"{origin}: invalid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogueError(f"{origin}: the top level must be a table of codes")
    locale = data.pop("locale", None)
    if locale is not None and not (
        isinstance(locale, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,35}", locale)
    ):
        raise CatalogueError(
            f"{origin}: field 'locale': expected a language tag such as 'en' or 'fr-CA'"
        )
    return locale, validate_mapping(data, origin=origin)
