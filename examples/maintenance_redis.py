"""A maintenance source for a fleet of hosts: one Redis key instead of a file on each host.

docs/maintenance.md shows this class; tests/wire/test_maintenance_wire.py runs it against a real
redis-server, Redis going away included. Use it in place of ``maintenance_file``::

    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis.Redis(
        host="redis.internal",
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), 0),
    )
    app.add_middleware(FriendlyErrorsMiddleware, maintenance=RedisMaintenance(client))

Switch the fleet with ``redis-cli SET maintenance '{"message": "Back at 14:30.", "retry_after":
"2026-05-09T14:30:00Z"}'`` and back with ``redis-cli DEL maintenance``.
"""

from __future__ import annotations

import redis

from friendly_errors.maintenance import MaintenanceState


class RedisMaintenance:
    """Maintenance is on while ``key`` exists; its value is the JSON of a maintenance file."""

    def __init__(self, client: redis.Redis, key: str = "maintenance") -> None:
        self.client = client
        self.key = key

    def current(self) -> MaintenanceState | None:
        # Polled about once a second by a background thread; when Redis is unreachable this
        # raises, and requests keep the last known state.
        document = self.client.get(self.key)
        if document is None:
            return None
        return MaintenanceState.from_json(document, origin=f"Redis key {self.key!r}")

    def __repr__(self) -> str:
        return f"RedisMaintenance(key={self.key!r})"
