"""The maintenance state of one source in this process, kept fresh by a poller thread (#13).

The request path reads one attribute, :attr:`Switch.state`, and nothing else: no clock, no ``stat``.
A daemon thread asks the source about once a second and rebinds that attribute, so a file created by
``friendly-errors down`` (or a key set in Redis) reaches every worker of every process within a
second, and a slow or unreachable source never holds up a request.

Threads do not survive ``fork()``: a server that imports the app before forking its workers
(gunicorn ``--preload``) would leave the workers without a poller. Each live switch starts a new one
in the child, with fresh locks, from an ``os.register_at_fork`` hook.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from typing import Final

from friendly_errors._sources import MaintenanceSource, MaintenanceState

__all__ = ["POLL_INTERVAL", "Switch"]

logger = logging.getLogger("friendly_errors")

#: Seconds between two questions to the source.
POLL_INTERVAL: Final = 1.0


class Switch:
    """Whether maintenance is on in this process, and what the source said about it.

    Built once per middleware; the first answer is read before the constructor returns, so a worker
    that starts during maintenance is closed from its first request.
    """

    def __init__(self, source: MaintenanceSource, *, interval: float = POLL_INTERVAL) -> None:
        self.source = source
        self.interval = interval
        #: The current state, or None while the site is open. Read by every request.
        self.state: MaintenanceState | None = None
        self._lock = threading.Lock()
        self._failing = False
        self._closed = False
        self.refresh()
        self._stop = threading.Event()
        self._thread = self._start()
        _live.add(self)

    def refresh(self) -> MaintenanceState | None:
        """Ask the source now, as the poller does every second; never raises.

        A source that fails keeps the last known state: an unreachable Redis must neither open a
        closed site nor close an open one, and it is worth one warning, not one a second.
        """
        with self._lock:
            try:
                state = self.source.current()
                if state is not None and not isinstance(state, MaintenanceState):
                    raise TypeError(
                        f"current() returned {state!r:.80}, not a MaintenanceState or None"
                    )
            except Exception as exc:
                if not self._failing:
                    self._failing = True
                    logger.warning(
                        "Maintenance source %r failed (%s); requests keep the last known state "
                        "(maintenance %s) until it answers again",
                        self.source,
                        exc,
                        "on" if self.state is not None else "off",
                    )
                return self.state
            if self._failing:
                self._failing = False
                logger.warning("Maintenance source %r answers again", self.source)
            previous, self.state = self.state, state
            if state != previous:
                _announce(self.source, previous, state)
            return state

    def close(self) -> None:
        """Stop polling; the state stays as it was last read."""
        self._closed = True
        self._stop.set()

    def _start(self) -> threading.Thread:
        # The thread holds only a weak reference: a middleware that is dropped takes its switch
        # with it, and the thread ends at its next tick.
        thread = threading.Thread(
            target=_poll,
            args=(weakref.ref(self), self._stop, self.interval),
            name="friendly_errors maintenance",
            daemon=True,
        )
        thread.start()
        return thread

    def _restart_after_fork(self) -> None:
        # The parent's poller did not come along, and its locks may have been held when it forked.
        self._lock = threading.Lock()
        self._stop = threading.Event()
        if not self._closed:
            self._thread = self._start()


def _poll(ref: weakref.ref[Switch], stop: threading.Event, interval: float) -> None:
    while not stop.wait(interval):
        switch = ref()
        if switch is None:
            return
        switch.refresh()
        del switch


def _announce(
    source: MaintenanceSource, previous: MaintenanceState | None, state: MaintenanceState | None
) -> None:
    """One INFO line when maintenance starts and one when it ends; an ERROR per new problem."""
    if state is None:
        logger.info("Maintenance mode off: requests reach the app again (%r)", source)
        return
    if previous is None:
        logger.info("Maintenance mode on: answering requests with 503 (%r)", source)
    seen = previous.problems if previous is not None else ()
    for problem in state.problems:
        if problem not in seen:
            logger.error("%s", problem)


_live: weakref.WeakSet[Switch] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for switch in list(_live):
        switch._restart_after_fork()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_after_fork_in_child)
