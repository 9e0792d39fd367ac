"""Fixtures shared by the wire tests; each module brings its own ``server`` fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from servers import Connection, Server


@pytest.fixture
def conn(server: Server) -> Iterator[Connection]:
    """A fresh keep-alive connection to the module's server, closed after the test."""
    connection = Connection(server)
    try:
        yield connection
    finally:
        connection.close()
