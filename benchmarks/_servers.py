"""Starting and stopping the servers the HTTP benchmarks load: on 127.0.0.1, stopped by their PID.

Both benchmarks need the same thing, a server subprocess on a free port that is ready before the first
request and gone after the last, whatever happens in between.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(command: Callable[[int], list[str]], *, ready_within: float = 20) -> Iterator[int]:
    """Run ``command(port)`` until the block ends and yield the port once it accepts connections."""
    with running(command, ready_within=ready_within) as (port, _):
        yield port


@contextlib.contextmanager
def running(
    command: Callable[[int], list[str]], *, ready_within: float = 20, log: Path | None = None
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """Like :func:`serving`, yielding the process too; its output goes to ``log`` when given.

    A file, never a pipe: a server that logs a lot could fill a pipe nobody reads and stall.
    """
    port = free_port()
    argv = command(port)
    with contextlib.ExitStack() as stack:
        output = stack.enter_context(open(log, "wb")) if log else subprocess.DEVNULL
        process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT)
        stack.enter_context(_stopped(process))
        _wait_until_ready(process, port, argv, ready_within)
        yield port, process


def _wait_until_ready(
    process: subprocess.Popen[bytes], port: int, argv: list[str], ready_within: float
) -> None:
    deadline = time.monotonic() + ready_within
    while True:
        try:
            socket.create_connection((HOST, port), timeout=0.2).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{argv} did not start") from None
            time.sleep(0.05)


@contextlib.contextmanager
def _stopped(process: subprocess.Popen[bytes]) -> Iterator[None]:
    """SIGTERM by PID when the block ends, then SIGKILL by PID if it outlives ten seconds."""
    try:
        yield
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
