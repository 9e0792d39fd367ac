"""A small keep-alive load generator for the HTTP benchmarks, on 127.0.0.1 only.

Each connection writes ``depth`` requests at a time (pipelined, RFC 9112 Section 9.3.2) and reads the
responses by their Content-Length, skipping bodies by offset instead of copying them, so a 13 KB error
page costs the client little more than a 5-byte body and the server stays the bottleneck. A run is
bounded by time and by request count.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import time
from dataclasses import dataclass

from _servers import HOST

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)
# Batches are numbered across runs, so a unique path is never sent twice in one process.
_BATCHES = itertools.count()


@dataclass(frozen=True)
class Load:
    """What to send: ``path``, or with ``unique`` set, ``path/<n>`` with a new ``n`` each time."""

    path: str
    unique: bool = False
    status: int = 200

    def requests(self, start: int, count: int) -> bytes:
        head = f"Host: {HOST}\r\nAccept: {BROWSER_ACCEPT}\r\n\r\n"
        if not self.unique:
            return f"GET {self.path} HTTP/1.1\r\n{head}".encode() * count
        return "".join(
            f"GET {self.path}/{n} HTTP/1.1\r\n{head}" for n in range(start, start + count)
        ).encode()


async def _connection(port: int, load: Load, depth: int, budget: int, stop_at: float) -> int:
    reader, writer = await asyncio.open_connection(HOST, port)
    status_line = f"HTTP/1.1 {load.status} ".encode()
    done = 0
    buffer = bytearray()
    position = 0
    try:
        while done < budget and time.monotonic() < stop_at:
            writer.write(load.requests(next(_BATCHES) * depth, depth))
            pending = depth
            while pending:
                end = buffer.find(b"\r\n\r\n", position)
                if end < 0:
                    await _fill(reader, buffer)
                    continue
                if not buffer.startswith(status_line, position):
                    got = bytes(buffer[position : position + 40])
                    raise ValueError(f"expected {status_line!r}, got {got!r}")
                match = _CONTENT_LENGTH.search(buffer, position, end + 2)
                if match is None:
                    raise ValueError("response without Content-Length")
                total = end + 4 + int(match.group(1))
                while len(buffer) < total:
                    await _fill(reader, buffer)
                position = total
                pending -= 1
                done += 1
            del buffer[:position]
            position = 0
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return done


async def _fill(reader: asyncio.StreamReader, buffer: bytearray) -> None:
    data = await reader.read(262144)
    if not data:
        raise ConnectionError("server closed the connection")
    buffer += data


async def _run(
    port: int, load: Load, seconds: float, requests: int, connections: int, depth: int
) -> float:
    started = time.monotonic()
    budget = max(depth, requests // connections)
    counts = await asyncio.gather(
        *(_connection(port, load, depth, budget, started + seconds) for _ in range(connections))
    )
    return sum(counts) / (time.monotonic() - started)


def throughput(
    port: int,
    load: Load,
    *,
    seconds: float,
    requests: int = 1_000_000,
    connections: int = 8,
    depth: int = 8,
) -> float:
    """Responses per second, over ``connections`` keep-alive connections."""
    return asyncio.run(_run(port, load, seconds, requests, connections, depth))


def pin(cpu: int) -> None:
    """Keep the load generator and the servers off each other's CPU when there are two or more."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {cpu})
