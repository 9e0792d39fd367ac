"""What FriendlyErrorsMiddleware costs a request it does not touch, and how fast its pages are served.

Run as ``python benchmarks/bench_asgi.py`` (in process, a few seconds) or with ``--http`` (uvicorn
subprocesses on 127.0.0.1 and a small keep-alive load generator, about two minutes).

In process, each contender wraps the same bare ASGI app and is driven directly: the app never
suspends, so one ``coroutine.send(None)`` runs a whole request with no event loop in the way, and what
remains is the middleware's own work. Contenders are timed in interleaved repetitions, so CPU
frequency changes hit all of them alike; the median repetition is reported. Overhead is the wrapped
time minus the bare app's time, and the floor is a middleware that does nothing but wrap ``send``,
which is the least any middleware that watches responses can do.

Over HTTP the same alternation applies to whole runs against servers that all stay up: pass-through
throughput against the no-op wrapper, and the friendly HTML page against a bare plain-text 500.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

from _servers import HOST, serving
from starlette.middleware.errors import ServerErrorMiddleware

from friendly_errors.asgi import FriendlyErrorsMiddleware

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Any], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

HERE = Path(__file__).resolve().parent

# -- the apps (also imported by the uvicorn subprocesses in --http mode) -------------------------

_OK_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")],
}
_OK_BODY = {"type": "http.response.body", "body": b"hello"}
_NOT_FOUND_START = {
    "type": "http.response.start",
    "status": 404,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"9")],
}
_NOT_FOUND_BODY = {"type": "http.response.body", "body": b"Not Found"}
_PLAIN_500_START = {
    "type": "http.response.start",
    "status": 500,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"21")],
}
_PLAIN_500_BODY = {"type": "http.response.body", "body": b"Internal Server Error"}
_UNAVAILABLE_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"17")]
_UNAVAILABLE_START = {"type": "http.response.start", "status": 503, "headers": _UNAVAILABLE_HEADERS}
_UNAVAILABLE_BODY = {"type": "http.response.body", "body": b'{"detail":"busy"}'}
_ROUTES = {
    "/": (_OK_START, _OK_BODY),
    "/404": (_NOT_FOUND_START, _NOT_FOUND_BODY),
    "/500": (_PLAIN_500_START, _PLAIN_500_BODY),
    "/503": (_UNAVAILABLE_START, _UNAVAILABLE_BODY),
}


async def bare(scope: Scope, receive: Receive, send: Send) -> None:
    """The app every contender wraps: a route table and two sends, nothing else."""
    if scope["type"] != "http":
        return
    start, body = _ROUTES[scope["path"]]
    await send(start)
    await send(body)


class NoOpMiddleware:
    """The floor: wraps ``send`` in a closure, as any response-watching middleware must."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            await send(message)

        await self.app(scope, receive, wrapped)


noop = NoOpMiddleware(bare)
starlette_errors = ServerErrorMiddleware(bare)
ours = FriendlyErrorsMiddleware(bare)
# A maintenance file that is never created: what the option costs a site that is up (#13).
_MAINTENANCE_DIR = tempfile.mkdtemp(prefix="friendly-errors-bench-")
atexit.register(shutil.rmtree, _MAINTENANCE_DIR, True)
ours_maintenance = FriendlyErrorsMiddleware(
    bare, maintenance_file=os.path.join(_MAINTENANCE_DIR, "maintenance.json")
)


def _captured_page() -> tuple[Message, Message]:
    """Our friendly 503 for the load generator's request, as the two messages the server gets."""
    scope = _scope("/503")
    scope["headers"] = [(b"host", HOST.encode()), (b"accept", _BROWSER_ACCEPT)]
    sent: list[Message] = []

    async def keep(message: Message) -> None:
        sent.append(message)

    # Driven by hand, not asyncio.run: uvicorn imports this module from inside its running loop,
    # and nothing on this path waits for anything.
    step = ours(scope, _receive, keep).__await__()
    with contextlib.suppress(StopIteration):
        next(step)
    start, body = sent
    return start, body


async def prerendered(scope: Scope, receive: Receive, send: Send) -> None:
    """The same status, headers and body as our 503 page, sent as constants: the ceiling.

    What the server itself pays to send a 12 KB page with ten headers instead of a 21-byte body
    with two is no middleware's to save; this app measures it, so the HTTP table can say how much
    of the gap to a plain 500 is ours.
    """
    if scope["type"] != "http":
        return
    await send(_PAGE_START)
    await send(_PAGE_BODY)


async def fresh_id(scope: Scope, receive: Receive, send: Send) -> None:
    """Our 503 page with nothing new in it but a fresh request ID: what any design must pay.

    A page that shows the request's ID cannot be a constant. This app does the least such a page
    needs, a random ID spliced into prebuilt bytes, with no negotiation, no detail, no time and no
    escaping, so it is a lower bound for every middleware that shows an ID, ours included.
    """
    if scope["type"] != "http":
        return
    request_id = os.urandom(16).hex().encode()
    headers = list(_FRESH_HEADERS)
    headers.append((b"x-request-id", request_id))
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": request_id.join(_FRESH_PARTS)})


# -- in process ----------------------------------------------------------------------------------


def _scope(path: str) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), (b"accept", b"text/html")],
        "client": (HOST, 50000),
        "server": (HOST, 8000),
    }


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: Message) -> None:
    return None


_BROWSER_ACCEPT = b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
_PAGE_START, _PAGE_BODY = _captured_page()
# The captured page cut where its request ID goes (same length each time, so Content-Length stays).
_CAPTURED_ID = dict(_PAGE_START["headers"])[b"x-request-id"]
_FRESH_PARTS = _PAGE_BODY["body"].split(_CAPTURED_ID)
_FRESH_HEADERS = [pair for pair in _PAGE_START["headers"] if pair[0] != b"x-request-id"]


def _run(app: App, scope: Scope, iterations: int) -> float:
    """Seconds per request; each request runs to completion in a single ``send(None)``."""
    receive, send = _receive, _send
    started = time.perf_counter()
    for _ in range(iterations):
        coroutine = app(scope, receive, send)
        try:
            coroutine.send(None)  # type: ignore[attr-defined]
        except StopIteration:
            pass
        else:  # pragma: no cover - the bench apps never suspend
            raise RuntimeError("the app suspended; the in-process bench needs one that does not")
    return (time.perf_counter() - started) / iterations


CONTENDERS: dict[str, App] = {
    "bare app": bare,
    "no-op send wrapper": noop,
    "Starlette ServerErrorMiddleware": starlette_errors,
    "FriendlyErrorsMiddleware": ours,
    "  + maintenance_file (absent)": ours_maintenance,
}


def in_process(iterations: int, repeats: int) -> None:
    print(f"In process: {iterations} requests x {repeats} interleaved repeats, median per request")
    print(f"Python {sys.version.split()[0]} on {sys.platform}\n")
    totals: dict[str, float] = {}
    for label, path in (("200 passed through", "/"), ("404 passed through", "/404")):
        scope = _scope(path)
        samples: dict[str, list[float]] = {name: [] for name in CONTENDERS}
        for app in CONTENDERS.values():
            _run(app, scope, iterations // 10)  # warm up
        for _ in range(repeats):
            for name, app in CONTENDERS.items():
                samples[name].append(_run(app, scope, iterations))
        medians = {name: statistics.median(values) for name, values in samples.items()}
        if path == "/":
            totals = medians
        bests = {name: min(values) for name, values in samples.items()}
        floor, best_floor = medians["bare app"], bests["bare app"]
        noop_overhead = medians["no-op send wrapper"] - floor
        best_noop = bests["no-op send wrapper"] - best_floor
        print(f"{label}")
        print(
            f"  {'contender':<34}{'per request':>13}{'overhead':>11}{'vs no-op':>10}"
            f"{'(best run)':>12}"
        )
        for name, median in medians.items():
            overhead = median - floor
            ratio = best = ""
            if name != "bare app":
                ratio = f"{overhead / noop_overhead:>9.2f}x"
                best = f"{(bests[name] - best_floor) / best_noop:>11.2f}x"
            print(
                f"  {name:<34}{median * 1e9:>10.0f} ns{overhead * 1e9:>8.0f} ns{ratio:>10}{best:>12}"
            )
        print()
    print("Target: FriendlyErrorsMiddleware's overhead on a 200 at most 1.15x the no-op's.\n")
    noop_total = totals["no-op send wrapper"]
    with_file = totals["  + maintenance_file (absent)"]
    print("With maintenance_file set and the file absent (#13), a 200's total time per request:")
    print(f"  {with_file / noop_total:.3f}x the no-op wrapper's (target: at most 1.15x)")
    print(f"  {with_file / totals['FriendlyErrorsMiddleware']:.3f}x ours without the option\n")
    error_path(max(iterations // 50, 200), repeats)


def error_path(iterations: int, repeats: int) -> None:
    """What a friendly error page costs in process, against the bare app's plain 500.

    A repeated error is answered from a prepared response (friendly_errors.core.Prepared), the usual
    case in a flood of errors; a twin middleware with the memos off shows what a response rendered
    in full costs. The fresh-ID app is the floor any page showing a request ID has to pay.
    """
    scope = _scope("/503")
    # A browser's Accept, as the HTTP comparison sends.
    scope["headers"] = [(b"host", b"localhost"), (b"accept", _BROWSER_ACCEPT)]
    plain = _scope("/500")
    full = FriendlyErrorsMiddleware(bare)
    full.handler.renderer.memo.max_entries = 0  # every response rendered in full
    runs: dict[str, Callable[[int], float]] = {
        "bare app, plain 500": lambda n: _run(bare, plain, n),
        "same page + a fresh request ID": lambda n: _run(fresh_id, _scope("/"), n),
        "friendly HTML 503, repeated": lambda n: _run(ours, scope, n),
        "friendly HTML 503, rendered in full": lambda n: _run(full, scope, n),
    }
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run(iterations // 10)  # warm up
    for _ in range(repeats):
        for name, run in runs.items():
            samples[name].append(run(iterations))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(f"Error path: an HTML page for a 503, {iterations} requests x {repeats} repeats, median")
    for name, median in medians.items():
        print(f"  {name:<40}{median * 1e6:>8.1f} us")
    page, floor = medians["friendly HTML 503, repeated"], medians["bare app, plain 500"]
    print(f"  {'extra per repeated page over the 500':<40}{(page - floor) * 1e6:>8.1f} us")


# -- over HTTP -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _server(app_name: str) -> Iterator[int]:
    """One uvicorn process serving ``bench_asgi:<app_name>``; stopped by its PID, always."""

    def command(port: int) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", f"bench_asgi:{app_name}", "--app-dir", str(HERE),
            "--host", HOST, "--port", str(port), "--http", "httptools", "--loop", "asyncio",
            "--no-access-log", "--log-level", "warning", "--lifespan", "off",
        ]  # fmt: skip

    with serving(command) as port:
        yield port


_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)


async def _client(port: int, request: bytes, depth: int, stop_at: float) -> int:
    """One keep-alive connection sending ``depth`` pipelined requests at a time until ``stop_at``.

    Responses are framed by Content-Length and skipped by offset, never copied, so a 12 KB error
    page costs the load generator little more than a 5-byte body.
    """
    reader, writer = await asyncio.open_connection(HOST, port)
    done = 0
    buffer = bytearray()
    position = 0
    try:
        while time.monotonic() < stop_at:
            writer.write(request * depth)
            pending = depth
            while pending:
                end = buffer.find(b"\r\n\r\n", position)
                if end < 0:
                    await _fill(reader, buffer)
                    continue
                if not buffer.startswith(b"HTTP/1.1 ", position):
                    raise ValueError(
                        f"unexpected response {bytes(buffer[position : position + 40])!r}"
                    )
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


async def _load(port: int, path: str, seconds: float, connections: int, depth: int) -> float:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nAccept: {_BROWSER_ACCEPT.decode()}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    stop_at = started + seconds
    counts = await asyncio.gather(
        *(_client(port, request, depth, stop_at) for _ in range(connections))
    )
    return sum(counts) / (time.monotonic() - started)


PAIRS: dict[str, tuple[tuple[str, str], tuple[str, str], float | None]] = {
    # name: (contender, baseline, target); each side is (server, path)
    "pass-through 200 vs no-op wrapper": (("ours", "/"), ("noop", "/"), 0.97),
    # The same with maintenance_file set and the file absent (#13).
    "pass-through 200, maintenance_file set, vs no-op": (
        ("ours-maintenance", "/"),
        ("noop", "/"),
        0.97,
    ),
    "friendly HTML 503 vs bare plain 500": (("ours", "/503"), ("bare", "/500"), 0.70),
    # The ceiling: the very same bytes, sent as constants, against the plain 500 ...
    "same page as constants vs bare plain 500": (("prerendered", "/"), ("bare", "/500"), None),
    # ... the least any page with a fresh request ID costs (a lower bound for every design) ...
    "same page + a fresh request ID vs bare plain 500": (("fresh-id", "/"), ("bare", "/500"), None),
    # ... and what making the page costs us over sending those constants.
    "friendly HTML 503 vs same page as constants": (("ours", "/503"), ("prerendered", "/"), None),
    # Two identical servers: how far apart equal things measure on this machine right now.
    "control: no-op vs an identical no-op": (("noop-twin", "/"), ("noop", "/"), None),
}


def _pin(cpu: int) -> None:
    """Keep the load generator and the servers off each other's CPU when there are two or more."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {cpu})


def over_http(seconds: float, rounds: int, connections: int, depth: int) -> None:
    print(
        f"Over HTTP: uvicorn (httptools, asyncio, one process per app), {connections} keep-alive "
        f"connections x {depth} pipelined requests, {seconds:g} s per run, {rounds} rounds; "
        "each round runs a contender and its baseline back to back, alternating which goes first\n"
    )
    _pin(1)  # the servers inherit CPU 1 ...
    with contextlib.ExitStack() as stack:
        ports = {
            "bare": stack.enter_context(_server("bare")),
            "noop": stack.enter_context(_server("noop")),
            "noop-twin": stack.enter_context(_server("noop")),
            "ours": stack.enter_context(_server("ours")),
            "ours-maintenance": stack.enter_context(_server("ours_maintenance")),
            "prerendered": stack.enter_context(_server("prerendered")),
            "fresh-id": stack.enter_context(_server("fresh_id")),
        }
        _pin(0)  # ... and the load generator moves to CPU 0

        def measure(target: tuple[str, str], length: float) -> float:
            server, path = target
            return asyncio.run(_load(ports[server], path, length, connections, depth))

        for contender, baseline, _ in PAIRS.values():  # warm up every route
            measure(contender, 0.3)
            measure(baseline, 0.3)
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in PAIRS}
        for round_number in range(rounds):
            for name, (contender, baseline, _) in PAIRS.items():
                if round_number % 2:
                    base = measure(baseline, seconds)
                    ours_rate = measure(contender, seconds)
                else:
                    ours_rate = measure(contender, seconds)
                    base = measure(baseline, seconds)
                results[name].append((ours_rate, base))
    print(f"  {'comparison':<50}{'contender':>11}{'baseline':>11}{'ratio':>9}{'target':>9}")
    for name, pairs in results.items():
        ratio = statistics.median(o / b for o, b in pairs)
        contender_rate = statistics.median(o for o, _ in pairs)
        baseline_rate = statistics.median(b for _, b in pairs)
        target = PAIRS[name][2]
        wanted = "" if target is None else f">= {target:.0%}"
        print(
            f"  {name:<50}{contender_rate:>9,.0f}/s{baseline_rate:>9,.0f}/s{ratio:>9.1%}{wanted:>9}"
        )
    print("\n  ratio: median over rounds of (contender / baseline) within the round")
    print("  control: if it strays from 100% by more than a target's margin, the machine is too")
    print("  busy for that comparison to mean anything; rerun when it is quiet.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--http", action="store_true", help="measure over HTTP with uvicorn")
    parser.add_argument("--iterations", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one HTTP run")
    parser.add_argument("--rounds", type=int, default=9, help="alternating HTTP rounds")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--depth", type=int, default=8, help="pipelined requests per connection")
    args = parser.parse_args(argv)
    if args.http:
        over_http(args.seconds, args.rounds, args.connections, args.depth)
    else:
        in_process(args.iterations, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
