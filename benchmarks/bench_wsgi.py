"""What FriendlyErrorsWSGIMiddleware costs a 200 it passes through (#10).

Run ``python benchmarks/bench_wsgi.py`` (in process, under a minute) or with ``--http`` (gunicorn
subprocesses on 127.0.0.1 and the load generator in ``_load.py``, a few minutes). Every figure is a
ratio between contenders measured side by side in one run: interleaved rounds, the median of the
per-round ratios (``_timing.py``).

In process, each contender wraps the same bare app, a plain function that calls ``start_response``
and returns a list, and is called the way a server calls it: call, iterate the body, close it. The
total time per request through FriendlyErrorsWSGIMiddleware is compared with a middleware that only
wraps ``start_response`` in a closure (at most 1.5x); a wrapper that adds only the cheapest status
check we know shows the floor under that target. The same middleware with ``maintenance_file`` set
and the file absent is measured beside it, against the same target and against ours without the
option (#13). Over HTTP (gunicorn, one gthread worker per app): throughput through ours against the
no-op wrapper (at least 97%), with and without ``maintenance_file``, with two identical no-op servers
as a control of the noise.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from _load import Load, pin, throughput
from _servers import HOST, serving
from _timing import Measure, Target, interleave, print_times, ratio
from werkzeug.test import EnvironBuilder

from friendly_errors.wsgi import FriendlyErrorsWSGIMiddleware

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

HERE = Path(__file__).resolve().parent

# -- the apps (also imported by the gunicorn subprocesses in --http mode) -------------------------

_OK_HEADERS = [("Content-Type", "text/plain"), ("Content-Length", "5")]


def bare(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """The app every contender wraps: a 200 with a 5-byte body, nothing else."""
    start_response("200 OK", _OK_HEADERS)
    return [b"hello"]


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
    """A floor: the no-op wrapper plus the cheapest check of the status that we know.

    One lookup of the whole status line in a set of lines known to pass; no state, no per-request
    object. Not a usable middleware: a real one would have to learn the lines (bounded) as they come,
    and could neither replace anything nor tell a late ``start_response`` from an early one. It
    shows what deciding costs at the least.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        self.passing = frozenset({"200 OK"})

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        passing = self.passing

        def watched(
            status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
        ) -> Callable[[bytes], object]:
            if status in passing:
                return start_response(status, headers, exc_info)
            raise NotImplementedError(status)  # pragma: no cover - the benchmark sends a 200

        return self.app(environ, watched)


class _FloorExchange:
    """The least an exchange object can be: the start_response it wraps and a flag."""

    def __init__(self, start_response: StartResponse) -> None:
        self.server_start_response = start_response
        self.passed = False

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
    ) -> Callable[[bytes], object]:
        if status[:4] in _PASSING and exc_info is None:
            self.passed = True
            return self.server_start_response(status, headers)
        raise NotImplementedError(status)  # pragma: no cover - the benchmark sends a 200


_PASSING = frozenset(f"{code} " for code in range(100, 500))


class ExchangeFloor:
    """A floor: one exchange object per request, with an ``__init__``, as #10 asks of ours, and a
    check of the status code. Not a usable middleware: it cannot replace anything, nor tell a late
    ``start_response`` from an early one; it shows what that structure costs at the least."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        exchange = _FloorExchange(start_response)
        body = self.app(environ, exchange.start_response)
        if exchange.passed:
            return body
        raise NotImplementedError("a late start_response")  # pragma: no cover


noop = NoOpMiddleware(bare)
exchange_floor = ExchangeFloor(bare)
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


def served(app: WSGIApplication, environ: WSGIEnvironment) -> Measure:
    """CPU seconds per request, served as a server serves it: call, iterate, close."""

    def measure(n: int) -> float:
        start_response = _start_response
        started = time.thread_time()
        for _ in range(n):
            result = app(environ, start_response)
            for _chunk in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return (time.thread_time() - started) / n

    return measure


def environ() -> WSGIEnvironment:
    built: WSGIEnvironment = EnvironBuilder(
        path="/", headers=[("Accept", "text/html")]
    ).get_environ()
    return built


TARGET = Target(
    "200 through ours / through the no-op wrapper",
    "FriendlyErrorsWSGIMiddleware",
    "no-op start_response wrapper",
    1.5,
)
EXCHANGE_FLOOR = "floor: one exchange object, status check"
MAINTENANCE = "ours, maintenance_file set (absent)"
MAINTENANCE_TARGET = Target(
    "200, maintenance_file set / through the no-op wrapper",
    MAINTENANCE,
    "no-op start_response wrapper",
    1.5,
)


def in_process(rounds: int, scale: float) -> bool:
    print(f"In process: {rounds} interleaved rounds, median CPU time per request\n")
    request = environ()
    contenders = {
        "bare app": served(bare, request),
        "no-op start_response wrapper": served(noop, request),
        "floor: status check only, no state": served(check_only, request),
        EXCHANGE_FLOOR: served(exchange_floor, request),
        "FriendlyErrorsWSGIMiddleware": served(ours, request),
        MAINTENANCE: served(ours_maintenance, request),
    }
    samples = interleave(contenders, rounds, int(100_000 * scale))
    print("Pass-through, a 200")
    print_times(samples, "ns")
    print("\nRatio (median of per-round ratios)")
    print(TARGET.line(samples))
    print(MAINTENANCE_TARGET.line(samples))
    added = ratio(samples, MAINTENANCE, TARGET.contender)
    print(f"  {'200, maintenance_file set / ours without it':<58}{added:>8.3f}x")
    floor = ratio(samples, "floor: status check only, no state", TARGET.baseline)
    print(f"  {'floor: status check only / the no-op wrapper':<58}{floor:>8.3f}x")
    floor = ratio(samples, EXCHANGE_FLOOR, TARGET.baseline)
    print(f"  {'floor: one exchange object / the no-op wrapper':<58}{floor:>8.3f}x")
    above = ratio(samples, TARGET.contender, EXCHANGE_FLOOR)
    print(f"  {'200 through ours / floor: one exchange object':<58}{above:>8.3f}x")
    return TARGET.check(samples)[1] and MAINTENANCE_TARGET.check(samples)[1]


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


PAIRS: dict[str, tuple[str, str, float | None]] = {
    # name: (contender, baseline, lowest ratio wanted)
    "pass-through 200: ours / no-op wrapper": ("ours", "noop", 0.97),
    "pass-through 200, maintenance_file set / no-op": ("ours-maintenance", "noop", 0.97),
    "control: no-op / an identical no-op": ("noop-twin", "noop", None),
}


def over_http(seconds: float, rounds: int, connections: int) -> bool:
    print(
        f"Over HTTP: gunicorn (one gthread worker per app, {connections} threads), {connections} "
        f"keep-alive connections, one request at a time each, {seconds:g} s per run, {rounds} "
        "rounds; each round runs a contender and its baseline back to back, alternating which "
        "goes first\n"
    )
    pin(1)  # the servers inherit CPU 1 ...
    with contextlib.ExitStack() as stack:
        ports = {
            "noop": stack.enter_context(_server("noop", connections)),
            "noop-twin": stack.enter_context(_server("noop", connections)),
            "ours": stack.enter_context(_server("ours", connections)),
            "ours-maintenance": stack.enter_context(_server("ours_maintenance", connections)),
        }
        pin(0)  # ... and the load generator moves to CPU 0

        def measure(server: str, length: float) -> float:
            return throughput(
                ports[server], Load("/"), seconds=length, connections=connections, depth=1
            )

        for server in ports:  # warm up
            measure(server, 0.3)
        samples: dict[str, list[float]] = {}
        for round_number in range(rounds):
            for name, (contender, baseline, _) in PAIRS.items():
                if round_number % 2:
                    base = measure(baseline, seconds)
                    rate = measure(contender, seconds)
                else:
                    rate = measure(contender, seconds)
                    base = measure(baseline, seconds)
                samples.setdefault(f"{name} [c]", []).append(rate)
                samples.setdefault(f"{name} [b]", []).append(base)
    print(f"  {'comparison':<48}{'contender':>11}{'baseline':>11}{'ratio':>8}  target")
    met = True
    for name, (_, _, wanted) in PAIRS.items():
        measured = ratio(samples, f"{name} [c]", f"{name} [b]")
        contender_rate = sorted(samples[f"{name} [c]"])[rounds // 2]
        baseline_rate = sorted(samples[f"{name} [b]"])[rounds // 2]
        verdict = "-"
        if wanted is not None:
            verdict = f">= {wanted:.0%} {'met' if measured >= wanted else 'MISSED'}"
            met = met and measured >= wanted
        print(
            f"  {name:<48}{contender_rate:>9,.0f}/s{baseline_rate:>9,.0f}/s{measured:>8.1%}  "
            f"{verdict}"
        )
    print("\n  ratio: median over rounds of contender / baseline within the round; the control")
    print("  shows how far apart two identical servers measure on this machine right now.")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--http", action="store_true", help="measure over HTTP with gunicorn")
    parser.add_argument("--rounds", type=int, default=21, help="interleaved rounds")
    parser.add_argument("--scale", type=float, default=1.0, help="requests per sample, scaled")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one HTTP run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    print(f"Python {sys.version.split()[0]} on {sys.platform}, {os.cpu_count()} CPUs, load "
          f"average {os.getloadavg()[0]:.2f} at the start")  # fmt: skip
    if args.http:
        met = over_http(args.seconds, args.rounds, args.connections)
    else:
        met = in_process(args.rounds, args.scale)
    print(f"\nLoad average {os.getloadavg()[0]:.2f} at the end")
    return 0 if met or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
