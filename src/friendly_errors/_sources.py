"""What a maintenance source says (#13): the state, its JSON form, and the built-in file source.

The state is read from a document an operator wrote, often in a hurry: nothing in it may stop the
maintenance page from being served. A field that is wrong is left at its default and named in
``problems``, which the poller logs once; a document that is not JSON at all still means maintenance
is on, with every default.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Final, Protocol, runtime_checkable

__all__ = [
    "FIELDS",
    "MaintenanceFile",
    "MaintenanceSource",
    "MaintenanceState",
    "format_time",
    "parse_time",
]

#: The members a state document may have, all optional.
FIELDS: Final = ("message", "retry_after", "allow_paths", "secret")
#: A state document is a few hundred bytes; anything much larger is not one.
MAX_DOCUMENT: Final = 64 * 1024
# A secret becomes a path segment (/{secret}): RFC 3986 unreserved characters only.
_SECRET: Final = re.compile(r"[A-Za-z0-9._~-]{1,256}")
# A path to let through: absolute, with no space, control character or query.
_ALLOW_PATH: Final = re.compile(r"/[^\s?#\x00-\x1f\x7f]*")


@dataclass(frozen=True)
class MaintenanceState:
    """Maintenance is on, and this is what the operator said about it; every field is optional."""

    #: Shown to visitors as the site's own explanation ("Back at 14:00 after the upgrade.").
    message: str | None = None
    #: Seconds to wait, sent as ``Retry-After`` as they are.
    retry_after: int | None = None
    #: When the work should end (UTC); ``Retry-After`` counts down to it.
    until: datetime | None = None
    #: Paths that still reach the app (``/health``, and ``/health/...`` under it; ``/api/*`` for a
    #: plain prefix).
    allow_paths: tuple[str, ...] = ()
    #: The bypass secret: ``/{secret}`` lets a browser through. A password: kept out of ``repr``.
    secret: str | None = field(default=None, repr=False)
    #: What was wrong with the document this state came from, one sentence each, naming it.
    problems: tuple[str, ...] = ()

    @classmethod
    def from_json(
        cls, document: str | bytes, *, origin: str = "maintenance state"
    ) -> MaintenanceState:
        """The state a JSON document describes; never raises.

        ``origin`` names the document in ``problems`` ("maintenance file /srv/down.json"). An empty
        document means every default, so ``touch FILE`` is enough to go down.
        """
        if isinstance(document, bytes):
            try:
                document = document.decode("utf-8-sig")
            except UnicodeDecodeError:
                return cls(problems=(_broken(origin, "is not UTF-8 text"),))
        if not document.strip():
            return cls()
        try:
            data = json.loads(document)
        except (ValueError, RecursionError) as exc:
            return cls(problems=(_broken(origin, f"is not valid JSON ({exc})"),))
        if not isinstance(data, dict):
            return cls(problems=(_broken(origin, f"is JSON but not an object: {data!r:.60}"),))
        values: dict[str, Any] = {}
        problems: list[str] = []
        for name, value in data.items():
            checker = _CHECKS.get(name)
            if checker is None:
                known = ", ".join(FIELDS)
                problems.append(f"{origin}: unknown field {name!r} ignored (known: {known})")
                continue
            try:
                values.update(checker(value))
            except ValueError as exc:
                problems.append(f"{origin}: field {name!r} ignored: {exc}")
        return cls(**values, problems=tuple(problems))

    def to_json(self) -> str:
        """The document :meth:`from_json` reads back as this state (``problems`` aside)."""
        data: dict[str, Any] = {}
        if self.message is not None:
            data["message"] = self.message
        if self.until is not None:
            data["retry_after"] = format_time(self.until)
        elif self.retry_after is not None:
            data["retry_after"] = self.retry_after
        if self.allow_paths:
            data["allow_paths"] = list(self.allow_paths)
        if self.secret is not None:
            data["secret"] = self.secret
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def timing(self, now: datetime) -> tuple[int | None, datetime | None]:
        """The seconds left and the end time, when the operator said: from ``until``, or
        ``retry_after`` counted from ``now``. Both None when unknown or when ``until`` is past:
        work that overran has no end a page could promise; nor does a wait of 0 seconds.
        """
        if self.until is not None:
            left = math.ceil((self.until - now).total_seconds())
            return (left, self.until) if left > 0 else (None, None)
        if self.retry_after:
            return self.retry_after, now + timedelta(seconds=self.retry_after)
        return self.retry_after, None


def _broken(origin: str, what: str) -> str:
    return f"{origin} {what}; serving the maintenance page with defaults"


def _message(value: object) -> dict[str, Any]:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {value!r:.60}")
    return {"message": value.strip() or None}


def _retry_after(value: object) -> dict[str, Any]:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**9:
        return {"retry_after": value}
    if isinstance(value, str):
        return {"until": parse_time(value)}
    raise ValueError(
        "expected seconds (a whole number, 0 or more) or an end time in UTC such as "
        f'"2026-05-09T14:30:00Z", got {value!r:.60}'
    )


def _allow_paths(value: object) -> dict[str, Any]:
    if not isinstance(value, list):
        raise ValueError(f'expected a list of paths such as ["/health"], got {value!r:.60}')
    bad = [path for path in value if not (isinstance(path, str) and _ALLOW_PATH.fullmatch(path))]
    if bad:
        raise ValueError(f"each path must start with / and hold no spaces: {bad[0]!r:.60}")
    return {"allow_paths": tuple(value)}


def _secret(value: object) -> dict[str, Any]:
    if not isinstance(value, str) or not _SECRET.fullmatch(value):
        # The value is not echoed: it may be most of a password with a typo in it.
        raise ValueError("expected letters, digits and - . _ ~ only (it becomes a path)")
    return {"secret": value}


_CHECKS: Final = {
    "message": _message,
    "retry_after": _retry_after,
    "allow_paths": _allow_paths,
    "secret": _secret,
}


def parse_time(text: str) -> datetime:
    """An ISO 8601 date and time as an aware datetime in UTC; one without an offset is UTC."""
    value = text.strip()
    if value[-1:] in ("Z", "z"):  # Python 3.10's fromisoformat does not take the Z
        value = value[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f'expected a date and time such as "2026-05-09T14:30:00Z", got {text!r:.60}'
        ) from None
    if when.tzinfo is None:
        return when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def format_time(when: datetime) -> str:
    """``2026-05-09T14:30:00Z``: the form :func:`parse_time` reads and a person recognises."""
    when = when.astimezone(timezone.utc)
    return when.replace(tzinfo=None, microsecond=0).isoformat() + "Z"


@runtime_checkable
class MaintenanceSource(Protocol):
    """Where a middleware learns whether maintenance is on: polled about once a second per process.

    ``current()`` runs in a background thread, never on a request: it may block for a network
    round trip (give the client a timeout). It returns the state while maintenance is on and None
    while it is off; when it raises, requests keep the last state it gave and one warning is
    logged until it answers again.
    """

    def current(self) -> MaintenanceState | None: ...


class MaintenanceFile:
    """The built-in source: maintenance is on while ``path`` exists, and its JSON says the rest.

    The file is ``stat``-ed once a poll and read only when its inode, size or modification time
    changed, so a file that stays put costs one system call a second.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._seen: tuple[int, int, int, int] | None = None
        self._state: MaintenanceState | None = None

    def __repr__(self) -> str:
        return f"MaintenanceFile({os.fspath(self.path)!r})"

    def current(self) -> MaintenanceState | None:
        try:
            found = os.stat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            self._seen = self._state = None
            return None
        # Anything else (a directory we may not search) raises: the poller keeps the last state.
        seen = (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)
        if seen == self._seen and self._state is not None:
            return self._state
        origin = f"maintenance file {os.fspath(self.path)}"
        try:
            with open(self.path, "rb") as file:
                document = file.read(MAX_DOCUMENT + 1)
        except (FileNotFoundError, NotADirectoryError):
            return None  # removed between the stat and the open: the site is open again
        except OSError as exc:
            # It exists, so the operator wants the site down, whether or not we may read it.
            state = MaintenanceState(problems=(_broken(origin, f"cannot be read ({exc})"),))
        else:
            if len(document) > MAX_DOCUMENT:
                state = MaintenanceState(
                    problems=(_broken(origin, f"is larger than {MAX_DOCUMENT} bytes"),)
                )
            else:
                state = MaintenanceState.from_json(document, origin=origin)
        self._seen, self._state = seen, state
        return state

    def write(self, state: MaintenanceState) -> None:
        """Switch maintenance on with ``state``, atomically: a poll sees the old file or the new one.

        The document is written to a temporary file beside the target and renamed over it, with the
        permissions a new file gets from the umask, so workers running as another user can read it.
        Raises OSError when the directory is missing or not writable.
        """
        directory = self.path.parent
        descriptor, temporary = tempfile.mkstemp(
            dir=directory, prefix=f".{self.path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(state.to_json())
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, 0o666 & ~_umask())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def remove(self) -> bool:
        """Switch maintenance off; False when it was off already. Raises OSError when not allowed."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            return False
        return True


def _umask() -> int:
    # Reading the umask means setting it; the command line is single-threaded.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
