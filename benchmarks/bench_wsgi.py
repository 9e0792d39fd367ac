"""What FriendlyErrorsWSGIMiddleware costs a request it does not touch, and how fast its pages are.

Run as ``python benchmarks/bench_wsgi.py`` (in process, a few seconds) or with ``--http`` (gunicorn
subprocesses on 127.0.0.1 and a small keep-alive load generator, under a minute).

In process, each contender wraps the same bare Werkzeug app (a prebuilt ``Response``, which is a WSGI
app in its own right) and is called directly the way a server calls it: call, iterate the body, close
it. Contenders are timed in interleaved repetitions, so CPU frequency changes hit all of them alike,
and each repetition's overhead is its time minus the bare app's time in the same repetition; the
median is reported. The floor is a middleware that does nothing but wrap ``start_response`` in a
closure, which is the least any middleware that watches the status can do.

Over HTTP the same alternation applies to whole runs against servers that all stay up: pass-through
throughput against the bare app, and the friendly HTML page against a bare plain-text 500.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import gc
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from _servers import HOST, serving
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from friendly_errors.wsgi import FriendlyErrorsWSGIMiddleware

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

HERE = Path(__file__).resolve().parent

# -- the apps (also imported by the gunicorn subprocesses in --http mode) -------------------------

_ROUTES = {
    "/": Response(b"hello", mimetype="text/plain"),
    "/404": Response(b"Not Found", 404, mimetype="text/plain"),
    "/500": Response(b"Internal Server Error", 500, mimetype="text/plain"),
    "/503": Response(b'{"detail":"busy"}', 503, mimetype="application/json"),
}


def bare(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """The app every contender wraps: a route lookup and a prebuilt Werkzeug response."""
    return _ROUTES[environ["PATH_INFO"]](environ, start_response)


class NoOpMiddleware:
    """The floor: wraps ``start_response`` in a closure, as any status-watching middleware must."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def watched(
            status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
        ) -> Callable[[bytes], object]:
            return start_response(status, headers, exc_info)

        return self.app(environ, watched)


class StatusCheckOnly:
    """A lower bound: the floor plus a status check against a per-instance set, and no state.

    Not a usable middleware: it cannot tell whether ``start_response`` came before the app returned,
    so it could neither replace a late status nor hand the body back unwrapped. Any middleware that
    replaces statuses does at least this much; what we do on top is remember that one fact.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        self.passing = {"200 OK", "404 NOT FOUND"}

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        passing = self.passing

        def watched(
            status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
        ) -> Callable[[bytes], object]:
            if status in passing:
                return start_response(status, headers, exc_info)
            raise NotImplementedError(status)  # pragma: no cover - the benchmark sends 200 and 404

        return self.app(environ, watched)


noop = NoOpMiddleware(bare)
check_only = StatusCheckOnly(bare)
ours = FriendlyErrorsWSGIMiddleware(bare)
# A maintenance file that is never created: what the option costs a site that is up (#13).
_MAINTENANCE_DIR = tempfile.mkdtemp(prefix="friendly-errors-bench-")
atexit.register(shutil.rmtree, _MAINTENANCE_DIR, True)
ours_maintenance = FriendlyErrorsWSGIMiddleware(
    bare, maintenance_file=os.path.join(_MAINTENANCE_DIR, "maintenance.json")
)

# -- in process ----------------------------------------------------------------------------------


def _write(data: bytes) -> None:
    return None


def _start_response(
    status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
) -> Callable[[bytes], object]:
    return _write


def _run(app: WSGIApplication, environ: WSGIEnvironment, iterations: int) -> float:
    """Seconds per request, served as a server serves it: call, iterate, close."""
    start_response = _start_response
    gc.disable()
    started = time.perf_counter()
    for _ in range(iterations):
        result = app(environ, start_response)
        for _chunk in result:
            pass
        close = getattr(result, "close", None)
        if close is not None:
            close()
    elapsed = time.perf_counter() - started
    gc.enable()
    return elapsed / iterations


CONTENDERS: dict[str, WSGIApplication] = {
    "bare Werkzeug app": bare,
    "no-op start_response wrapper": noop,
    "status check only (lower bound)": check_only,
    "FriendlyErrorsWSGIMiddleware": ours,
    "  + maintenance_file (absent)": ours_maintenance,
}


def in_process(iterations: int, repeats: int) -> float:
    """Print the table; returns the 200's overhead ratio against the floor."""
    print(f"In process: {iterations} requests x {repeats} interleaved repeats, median per request")
    print(f"Python {sys.version.split()[0]} on {sys.platform}\n")
    ratio = bound = maintenance = with_file = 0.0
    names = list(CONTENDERS)
    for label, path in (("200 passed through", "/"), ("404 passed through", "/404")):
        environ = EnvironBuilder(path=path, headers=[("Accept", "text/html")]).get_environ()
        for app in CONTENDERS.values():
            _run(app, environ, iterations // 10)  # warm up
        times: dict[str, list[float]] = {name: [] for name in names}
        for repeat in range(repeats):
            # Rotate the order too, so no contender always runs right after the same one.
            shift = repeat % len(names)
            for name in names[shift:] + names[:shift]:
                times[name].append(_run(CONTENDERS[name], environ, iterations))
        base = times["bare Werkzeug app"]
        overheads = {
            name: statistics.median(t - b for t, b in zip(values, base, strict=True))
            for name, values in times.items()
        }
        floor = overheads["no-op start_response wrapper"]
        print(label)
        print(f"  {'contender':<34}{'per request':>13}{'overhead':>11}{'vs floor':>10}")
        for name, values in times.items():
            overhead = overheads[name]
            shown = "" if name == "bare Werkzeug app" else f"{overhead / floor:>9.2f}x"
            median = statistics.median(values)
            print(f"  {name:<34}{median * 1e9:>10.0f} ns{overhead * 1e9:>8.0f} ns{shown:>10}")
        print()
        if path == "/":
            ratio = overheads["FriendlyErrorsWSGIMiddleware"] / floor
            bound = overheads["status check only (lower bound)"] / floor
            maintenance = overheads["  + maintenance_file (absent)"] / floor
            # Total time per request, each repeat against the no-op's in the same repeat.
            with_file = statistics.median(
                t / n
                for t, n in zip(
                    times["  + maintenance_file (absent)"],
                    times["no-op start_response wrapper"],
                    strict=True,
                )
            )
    print(f"Overhead on a 200 vs the no-op wrapper: {ratio:.2f}x (target: at most 1.20x)")
    print(f"The status check alone, with no state: {bound:.2f}x")
    print(
        f"With maintenance_file set and the file absent (#13): overhead {maintenance:.2f}x the "
        f"no-op's; total time per request {with_file:.3f}x the no-op's (target: at most 1.5x)"
    )
    return ratio


# -- over HTTP -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _server(app_name: str, threads: int) -> Iterator[int]:
    """One gunicorn (one gthread worker) serving ``bench_wsgi:<app_name>``; stopped by its PID."""

    def command(port: int) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn", f"bench_wsgi:{app_name}", "--chdir", str(HERE),
            "--bind", f"{HOST}:{port}", "--workers", "1", "--worker-class", "gthread",
            "--threads", str(threads), "--keep-alive", "30", "--log-level", "warning",
        ]  # fmt: skip

    with serving(command) as port:
        yield port


_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)


async def _client(port: int, request: bytes, budget: int, stop_at: float) -> int:
    """One keep-alive connection, one request at a time, until its budget or ``stop_at``."""
    reader, writer = await asyncio.open_connection(HOST, port)
    done = 0
    try:
        while done < budget and time.monotonic() < stop_at:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 "):
                raise ValueError(f"unexpected response {head[:40]!r}")
            match = _CONTENT_LENGTH.search(head)
            if match is None:
                raise ValueError("response without Content-Length")
            await reader.readexactly(int(match.group(1)))
            done += 1
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return done


async def _load(port: int, path: str, requests: int, seconds: float, connections: int) -> float:
    """Requests per second over ``connections``, bounded by a request count and by time."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n"
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\r\n"
    ).encode()
    started = time.monotonic()
    budget = max(1, requests // connections)
    counts = await asyncio.gather(
        *(_client(port, request, budget, started + seconds) for _ in range(connections))
    )
    return sum(counts) / (time.monotonic() - started)


def over_http(requests: int, seconds: float, rounds: int, connections: int) -> float:
    """Print the table; returns pass-through throughput as a fraction of the bare app's."""
    runs = {
        "200 from the bare app": ("bare", "/"),
        "200 via no-op wrapper": ("noop", "/"),
        "200 via FriendlyErrorsWSGIMiddleware": ("ours", "/"),
        "200 via ours + maintenance_file": ("ours_maintenance", "/"),
        "plain 500 from the bare app": ("bare", "/500"),
        "503 -> friendly HTML page": ("ours", "/503"),
    }
    print(
        f"Over HTTP: gunicorn (one gthread worker per app, {connections} threads), "
        f"{connections} keep-alive connections, runs of {requests} requests or {seconds:g} s, "
        f"{rounds} alternating rounds\n"
    )
    with (
        _server("bare", connections) as bare_port,
        _server("noop", connections) as noop_port,
        _server("ours", connections) as our_port,
        _server("ours_maintenance", connections) as maintenance_port,
    ):
        ports = {
            "bare": bare_port,
            "noop": noop_port,
            "ours": our_port,
            "ours_maintenance": maintenance_port,
        }
        for app_name, path in runs.values():  # warm up every route once
            asyncio.run(_load(ports[app_name], path, requests // 10, seconds, connections))
        samples: dict[str, list[float]] = {name: [] for name in runs}
        names = list(runs)
        for round_ in range(rounds):
            # Rotate the order, so no run always follows the same one.
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                app_name, path = runs[name]
                samples[name].append(
                    asyncio.run(_load(ports[app_name], path, requests, seconds, connections))
                )
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(f"  {'run':<40}{'median req/s':>14}{'min':>10}{'max':>10}")
    for name, median in medians.items():
        values = samples[name]
        print(f"  {name:<40}{median:>14,.0f}{min(values):>10,.0f}{max(values):>10,.0f}")

    def paired(numerator: str, denominator: str) -> float:
        # Each round's runs are seconds apart, so a ratio within a round cancels the slow drift of
        # a shared machine; the median of those ratios is the figure reported.
        return statistics.median(
            n / d for n, d in zip(samples[numerator], samples[denominator], strict=True)
        )

    passing = paired("200 via FriendlyErrorsWSGIMiddleware", "200 from the bare app")
    with_file = paired("200 via ours + maintenance_file", "200 from the bare app")
    floor = paired("200 via no-op wrapper", "200 from the bare app")
    pages = paired("503 -> friendly HTML page", "plain 500 from the bare app")
    print()
    print("  median of per-round ratios")
    print(f"  pass-through vs bare app:           {passing:6.1%}  (target: at least 98%)")
    print(f"  with maintenance_file vs bare app:  {with_file:6.1%}  (#13)")
    print(f"  no-op wrapper vs bare app:          {floor:6.1%}  (for scale)")
    print(f"  friendly HTML page vs plain 500:    {pages:6.1%}")
    return passing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--http", action="store_true", help="measure over HTTP with gunicorn")
    parser.add_argument("--iterations", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=301)
    parser.add_argument("--requests", type=int, default=1_500, help="requests in one HTTP run")
    parser.add_argument("--seconds", type=float, default=1.5, help="time limit of one HTTP run")
    parser.add_argument("--rounds", type=int, default=11, help="alternating HTTP rounds")
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args(argv)
    if args.http:
        over_http(args.requests, args.seconds, args.rounds, args.connections)
    else:
        in_process(args.iterations, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
