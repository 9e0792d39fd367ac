"""The status-code catalogue: what each HTTP status means, whose fault it is and what to do about it.

Entries are data, not classes: a frozen :class:`StatusInfo` per code, assembled from layers of partial
entries (built-in, plugins, the application) per language. A lookup never fails for a valid status code:
it falls back from the exact code to the class entry (``5xx``), then to the standard reason phrase, then
to "Unknown status", so a renderer always has something true to show.
"""

from __future__ import annotations

import enum
import http
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Final, Union

from friendly_errors import _langtags
from friendly_errors._loader import (
    LABELS_KEY,
    CatalogueError,
    PartialEntry,
    class_key,
    load_bytes,
    load_file,
    validate_mapping,
)

if TYPE_CHECKING:
    from importlib.abc import Traversable

__all__ = [
    "Catalogue",
    "CatalogueError",
    "CatalogueSource",
    "Fault",
    "StatusInfo",
]

DEFAULT_LOCALE = "en"
ENTRY_POINT_GROUP = "friendly_errors.catalogues"

#: What :meth:`Catalogue.extend` accepts: a mapping of code to fields, a TOML or JSON file, or a catalogue.
CatalogueSource = Union[Mapping[int | str, Mapping[str, Any]], str, "os.PathLike[str]", "Catalogue"]


class Fault(str, enum.Enum):
    """Who has to act for the request to succeed.

    A closed set on purpose: the page draws the request's path from it, so every value needs a picture.
    """

    #: Not an error (1xx, 2xx, 3xx): nobody has to act.
    NONE = "none"
    #: The request itself is wrong; the client has to change it (most 4xx).
    CLIENT = "client"
    #: The origin server, the application or its web server, failed (most 5xx).
    SERVER = "server"
    #: A CDN, proxy, gateway or load balancer between client and origin reports trouble with the hop to
    #: the origin (502, 504, Cloudflare 52x). The root cause is often at the origin, but the report comes
    #: from the middle, and that is where an operator starts looking.
    INTERMEDIARY = "intermediary"


@dataclass(frozen=True)
class StatusInfo:
    """Everything the catalogue knows about one status code, in one language."""

    code: int
    #: The reason phrase: the IANA registry's for official codes, the vendor's for others.
    title: str
    #: One line for a visitor: what happened, in plain words.
    summary: str = ""
    #: A short paragraph for a technical reader: who sends the code and under what condition.
    description: str = ""
    fault: Fault = Fault.SERVER
    causes: tuple[str, ...] = ()
    visitor_fixes: tuple[str, ...] = ()
    developer_fixes: tuple[str, ...] = ()
    #: The defining document, e.g. "RFC 9110, Section 15.6.5" or "Cloudflare (non-standard)".
    spec: str = ""
    spec_url: str = ""
    #: Registered in the IANA HTTP Status Code Registry.
    official: bool = False
    #: Whether the same request, unchanged, can succeed later.
    retryable: bool = False
    #: Response headers that matter for this code (Retry-After for 503, Allow for 405, ...).
    headers: tuple[str, ...] = ()
    #: A default Retry-After hint in seconds; an application's own header always wins over it.
    retry_after: int | None = None
    #: Other meanings the same number has in the wild (420, 499, 529, ...).
    other_meanings: tuple[str, ...] = ()
    #: The language the text is in: the requested one, or the one the lookup fell back to. Set by
    #: the lookup, never by a file; it is what Content-Language should say.
    locale: str = DEFAULT_LOCALE

    @property
    def status_class(self) -> str:
        """The class key of this code, such as ``"5xx"``."""
        return class_key(self.code)

    @property
    def is_error(self) -> bool:
        return self.code >= 400


# The fields a reader sees as text: they decide which language an entry is in.
_TEXT_FIELDS: Final = frozenset(
    {
        "title",
        "summary",
        "description",
        "causes",
        "visitor_fixes",
        "developer_fixes",
        "other_meanings",
    }
)


def _locale_chain(locale: str) -> tuple[str, ...]:
    """The lookup chain for a language tag, most specific first, ending with the default language.

    ``fr-CA`` gives ``fr-ca``, ``fr``, ``en``; ``zh-CN`` reaches ``zh-hans``, ``pt-PT`` reaches
    ``pt-br``, and ``zh-TW`` stops at ``zh-hant`` (see ``_langtags.fallbacks``).
    """
    chain = _langtags.fallbacks(locale)
    return chain if DEFAULT_LOCALE in chain else (*chain, DEFAULT_LOCALE)


def _unknown_title(code: int) -> str:
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return ""


class Catalogue:
    """An immutable, layered, per-language collection of status entries.

    Build one with :meth:`default` or :meth:`empty`, then :meth:`extend` it; every extension returns a
    new catalogue, so a catalogue shared between middlewares and threads never changes under them.
    """

    __slots__ = ("__weakref__", "_cache", "_files", "_labels", "_layers")

    _default: ClassVar[Catalogue | None] = None

    def __init__(
        self,
        _layers: Mapping[str, Mapping[int | str, PartialEntry]] | None = None,
        _files: Mapping[str, _BuiltInFile] | None = None,
    ) -> None:
        self._layers: Mapping[str, Mapping[int | str, PartialEntry]] = MappingProxyType(
            {loc: MappingProxyType(dict(entries)) for loc, entries in (_layers or {}).items()}
        )
        # Built-in languages not read yet, by locale; a locale is here or in _layers, never both.
        self._files: Mapping[str, _BuiltInFile] = MappingProxyType(dict(_files or {}))
        # Safe because the catalogue never changes; keyed only by locales the catalogue holds, so it
        # is bounded by (codes x locales) whatever locale strings requests carry.
        self._cache: dict[tuple[int, str], StatusInfo] = {}
        self._labels: dict[str, Mapping[str, str]] = {}

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def empty(cls) -> Catalogue:
        """A catalogue with no entries: every lookup falls back to reason phrases."""
        return cls()

    @classmethod
    def default(cls, *, plugins: bool = False) -> Catalogue:
        """The built-in catalogue, with installed plugins layered on top when ``plugins`` is true.

        Plugins are opt-in so that installing a package, perhaps as a dependency of a dependency, never
        changes an application's error pages behind its back.

        English is read at once; each other built-in language is read the first time something asks
        for it (a page in that language, its labels, :meth:`untranslated`). Reading all thirteen up
        front would cost an application several times what English alone does at start-up, for
        languages most of its visitors never ask for (README, "Languages").
        """
        if cls._default is None:
            data = resources.files("friendly_errors") / "data"
            with resources.as_file(data / f"{DEFAULT_LOCALE}.toml") as path:
                english = cls().extend(path)
            files = {}
            for item in data.iterdir():
                tag = _langtags.normalise(item.name.removesuffix(".toml"))
                if item.name.endswith(".toml") and tag != DEFAULT_LOCALE:
                    files[tag] = _BuiltInFile(item, tag)
            cls._default = cls(english._layers, files)
        return cls._default.with_plugins() if plugins else cls._default

    def with_plugins(self) -> Catalogue:
        """This catalogue with every catalogue from the ``friendly_errors.catalogues`` entry points.

        Entry points are applied in name order, so the result does not depend on install order. An entry
        point may name a catalogue, a mapping, a file path, or a callable returning one of those.
        """
        result = self
        eps = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
        for ep in eps:
            try:
                source: Any = ep.load()
                if callable(source) and not isinstance(source, Catalogue):
                    source = source()
                result = result.extend(source)
            except CatalogueError as exc:
                raise CatalogueError(f"plugin {ep.name!r} ({ep.value}): {exc}") from exc
            except Exception as exc:
                raise CatalogueError(
                    f"plugin {ep.name!r} ({ep.value}) failed to load: {exc!r}"
                ) from exc
        return result

    def extend(self, source: CatalogueSource, *, locale: str | None = None) -> Catalogue:
        """A new catalogue with ``source`` layered on top of this one, field by field.

        A field that ``source`` does not give is inherited from the entry underneath; a code that nothing
        underneath defines must come with a title. ``locale`` names the language of a mapping or of a file
        that does not say; a file's own top-level ``locale`` wins over the default of ``"en"``.
        """
        incoming: Mapping[str, Mapping[int | str, PartialEntry]]
        unread: Mapping[str, _BuiltInFile] = {}
        if isinstance(source, Catalogue):
            if locale is not None:
                raise TypeError("locale= cannot be combined with a Catalogue source")
            incoming = source._layers
            unread = source._files
        elif isinstance(source, (str, os.PathLike)):
            file_locale, entries = load_file(Path(source))
            incoming = {_langtags.normalise(locale or file_locale or DEFAULT_LOCALE): entries}
        elif isinstance(source, Mapping):
            entries = validate_mapping(source, origin="mapping")
            incoming = {_langtags.normalise(locale or DEFAULT_LOCALE): entries}
        else:
            raise TypeError(
                "catalogue source must be a mapping, a path to a TOML or JSON file or a Catalogue, "
                f"not {type(source).__name__}"
            )
        merged: dict[str, dict[int | str, PartialEntry]] = {
            loc: dict(layer) for loc, layer in self._layers.items()
        }
        files = dict(self._files)
        incoming = dict(incoming)
        for loc, file in unread.items():
            # An unread language stays unread unless something must be merged with it.
            if loc in merged or loc in files:
                incoming[loc] = file.entries()
            else:
                files[loc] = file
        for loc, layer in incoming.items():
            if loc in files:
                merged[loc] = dict(files.pop(loc).entries())
            target = merged.setdefault(loc, {})
            for key, partial in layer.items():
                below = target.get(key)
                target[key] = MappingProxyType({**below, **partial}) if below else partial
        result = Catalogue(merged, files)
        result._check_titles(incoming, origin=_origin(source))
        return result

    def _check_titles(
        self, incoming: Mapping[str, Mapping[int | str, PartialEntry]], *, origin: str
    ) -> None:
        """A new code needs a title somewhere in its chain, or its page would have no heading."""
        for loc, entries in incoming.items():
            for key in entries:
                if key == LABELS_KEY:
                    continue
                has_title = any(
                    "title" in self._layer(lang).get(key, {}) for lang in _locale_chain(loc)
                )
                if not has_title:
                    raise CatalogueError(
                        f"{origin}: code {key}: field 'title': a new code needs a title"
                    )

    def _layer(self, locale: str) -> Mapping[int | str, PartialEntry]:
        """The entries of one language (a normalised tag), reading a built-in file the first time."""
        found = self._layers.get(locale)
        if found is not None:
            return found
        unread = self._files.get(locale)
        return unread.entries() if unread is not None else _NO_ENTRIES

    def _holds(self, locale: str) -> bool:
        """Whether ``locale`` is one of this catalogue's languages: only those are cached by name,
        so the caches stay bounded whatever tags requests carry."""
        tag = _langtags.normalise(locale)
        return tag in self._layers or tag in self._files or locale == DEFAULT_LOCALE

    # -- lookup ---------------------------------------------------------------------------------

    def get(self, code: int, locale: str = DEFAULT_LOCALE) -> StatusInfo:
        """The entry for ``code`` in ``locale``; never raises for an integer from 100 to 999."""
        if isinstance(code, bool) or not isinstance(code, int):
            raise TypeError(f"status code must be an int, not {type(code).__name__}")
        if not 100 <= code <= 999:
            raise ValueError(f"status code must be from 100 to 999, got {code}")
        key = (code, locale)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        info = self._build(code, locale)
        if self._holds(locale):
            self._cache[key] = info
        return info

    def _build(self, code: int, locale: str) -> StatusInfo:
        chain = tuple(reversed(_locale_chain(locale)))  # least specific first: later layers win
        klass = class_key(code)
        values: dict[str, Any] = {}
        exact: dict[str, Any] = {}
        # Which language each shown text came from; the entry's language is the most specific one.
        source: dict[str, int] = {}
        for depth, lang in enumerate(chain):
            layer = self._layer(lang)
            values.update(layer.get(klass, {}))
            source.update(dict.fromkeys(_TEXT_FIELDS.intersection(layer.get(klass, {})), depth))
        exact_source: dict[str, int] = {}
        for depth, lang in enumerate(chain):
            own = self._layer(lang).get(code, {})
            exact.update(own)
            exact_source.update(dict.fromkeys(_TEXT_FIELDS.intersection(own), depth))
        # Facts about one code never come from its class: a code is official only if its own entry
        # says so, and a document's name never pairs with another document's link.
        values.pop("official", None)
        if "spec" in exact or "spec_url" in exact:
            values.pop("spec", None)
            values.pop("spec_url", None)
        if not exact:
            values["title"] = _unknown_title(code) or values.get("title") or "Unknown status"
            source["title"] = chain.index(DEFAULT_LOCALE)
        values.update(exact)
        source.update(exact_source)
        values["fault"] = Fault(values.get("fault", _class_fault(code)))
        depth = max(source.values(), default=chain.index(DEFAULT_LOCALE))
        values["locale"] = _langtags.canonical(chain[depth])
        return StatusInfo(code=code, **values)

    def labels(self, locale: str = DEFAULT_LOCALE) -> Mapping[str, str]:
        """The page's own words in ``locale``, label by label, falling back along its chain to English.

        Under everything lie the built-in English words, so a catalogue built from
        :meth:`empty` still has a word for every label. Which language each label is really in is
        not tracked: a label missing from a translation is the translator's to add
        (:meth:`untranslated`, ``friendly-errors list --missing``), not a page's to mark.
        """
        found = self._labels.get(locale)
        if found is None:
            merged = dict(_builtin_labels())
            for lang in reversed(_locale_chain(locale)):
                merged.update(self._layer(lang).get(LABELS_KEY, {}))
            found = MappingProxyType(merged)
            if self._holds(locale):
                self._labels[locale] = found
        return found

    # -- inspection -----------------------------------------------------------------------------

    @property
    def locales(self) -> tuple[str, ...]:
        """The languages that have at least one entry, default language first, written the usual
        way (``pt-BR``, ``zh-Hans``) whatever case their files used."""
        ordered = sorted(
            {*self._layers, *self._files}, key=lambda loc: (loc != DEFAULT_LOCALE, loc)
        )
        return tuple(_langtags.canonical(loc) for loc in ordered)

    def untranslated(self, locale: str) -> dict[str, tuple[str, ...]]:
        """What a page in ``locale`` would still show in the default language, table by table.

        Keys name the tables of a catalogue file: ``"labels"`` lists the page's words that have no
        translation, and ``"5xx"`` or ``"503"`` the text fields of that entry that fall back (all
        of them when the language has no entry of its own). Tables with nothing missing are left
        out, so a complete language gives ``{}``, as does the default language itself. This is
        the list a translator works through (``friendly-errors list --missing``).
        """
        chain = _langtags.fallbacks(locale)
        if not chain or DEFAULT_LOCALE in chain:
            return {}
        layers = [self._layer(lang) for lang in chain]
        missing: dict[str, tuple[str, ...]] = {}
        english = self._layer(DEFAULT_LOCALE)
        # Labels, then the class entries, then the codes: the order of the built-in file.
        for key in sorted(english, key=lambda k: (k != LABELS_KEY, isinstance(k, int), str(k))):
            own = {name for layer in layers for name in layer.get(key, {})}
            wanted = english[key] if key == LABELS_KEY else _TEXT_FIELDS.intersection(english[key])
            fields = tuple(name for name in english[key] if name in wanted and name not in own)
            if fields:
                missing[str(key)] = fields
        return missing

    def codes(self, locale: str = DEFAULT_LOCALE) -> tuple[int, ...]:
        """The codes with their own entry in ``locale`` or a language it falls back to, sorted."""
        found: set[int] = set()
        for lang in _locale_chain(locale):
            found.update(k for k in self._layer(lang) if isinstance(k, int))
        return tuple(sorted(found))

    def __contains__(self, code: object) -> bool:
        return any(code in self._layer(loc) for loc in (*self._layers, *self._files))

    def __iter__(self) -> Iterator[StatusInfo]:
        return (self.get(code) for code in self.codes())

    def __len__(self) -> int:
        return len(self.codes())

    def __repr__(self) -> str:
        sizes = ", ".join(
            f"{_langtags.canonical(loc)}: {len(self._layer(loc))}"
            for loc in sorted({*self._layers, *self._files})
        )
        return f"Catalogue({{{sizes}}})"


_NO_ENTRIES: Final[Mapping[int | str, PartialEntry]] = MappingProxyType({})


class _BuiltInFile:
    """A built-in language file, read and checked the first time a lookup needs it.

    Shared by every catalogue extended from :meth:`Catalogue.default`, so each file is read at most
    once per process; the lock makes two threads asking at once read it once.
    """

    __slots__ = ("_entries", "_item", "_lock", "locale")

    def __init__(self, item: Traversable, locale: str) -> None:
        self._item = item
        self.locale = locale
        self._entries: Mapping[int | str, PartialEntry] | None = None
        self._lock = threading.Lock()

    def entries(self) -> Mapping[int | str, PartialEntry]:
        found = self._entries
        if found is None:
            with self._lock:
                found = self._entries
                if found is None:
                    origin = f"friendly_errors/data/{self._item.name}"
                    tag, entries = load_bytes(self._item.read_bytes(), origin=origin, toml=True)
                    if tag is None or _langtags.normalise(tag) != self.locale:
                        raise CatalogueError(
                            f"{origin}: field 'locale': must name the file's language, "
                            f"{_langtags.canonical(self.locale)!r}"
                        )
                    found = self._entries = MappingProxyType(entries)
        return found


def _builtin_labels() -> Mapping[str, str]:
    """The English words of the built-in file: every label has one (the loader's test checks it)."""
    english: Mapping[str, str] = Catalogue.default()._layer(DEFAULT_LOCALE)[LABELS_KEY]
    return english


def _class_fault(code: int) -> Fault:
    if code < 400:
        return Fault.NONE
    if code < 500:
        return Fault.CLIENT
    return Fault.SERVER


def _origin(source: object) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return "catalogue" if isinstance(source, Catalogue) else "mapping"
