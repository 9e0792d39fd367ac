"""Cost of choosing an error format: Werkzeug against friendly_errors, cached and not.

Run as ``python benchmarks/bench_negotiation.py``. The three contenders are timed in
the same process with their repetitions interleaved, so that CPU frequency changes and
background load hit all of them alike instead of favouring whichever ran first. The best
repetition estimates the cost without interference; the median shows what is typical.

"Uncached" calls the module's private decision function directly, which parses the header
and decides without touching either cache: the cost of a header seen for the first time.
"Cached" goes through ``negotiate_format`` with a header already seen: the cost nearly
every request pays, since a few browser headers make up most traffic.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import timeit
from collections.abc import Callable

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from friendly_errors import negotiation
from friendly_errors.negotiation import ALL_FORMATS, Format, negotiate_format

HEADERS: dict[str, str] = {
    "Chrome": (
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
        "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
    ),
    "Firefox": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "curl": "*/*",
}

# The same offers, in the same order, that negotiate_format weighs.
OFFERS = (
    "text/html",
    "application/problem+json",
    "application/json",
    "application/problem+xml",
    "application/xml",
    "text/plain",
)


def contenders(header: str) -> dict[str, Callable[[], object]]:
    def werkzeug() -> object:
        # Built as Werkzeug's Request.accept_mimetypes builds it.
        return parse_accept_header(header, MIMEAccept).best_match(OFFERS)

    def uncached() -> object:
        return negotiation._negotiate_format(header, Format.HTML, None, None, ALL_FORMATS)

    def cached() -> object:
        return negotiate_format(header)

    cached()  # warm the cache: this contender measures the hit
    return {"werkzeug": werkzeug, "ours, uncached": uncached, "ours, cached": cached}


def measure(
    functions: dict[str, Callable[[], object]], repeat: int, number: int
) -> dict[str, list[float]]:
    """Microseconds per call for each function, one list entry per repetition."""
    timers = {name: timeit.Timer(function) for name, function in functions.items()}
    samples: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeat):
        for name, timer in timers.items():
            samples[name].append(timer.timeit(number) / number * 1e6)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="interleaved repetitions")
    parser.add_argument("--number", type=int, default=2000, help="calls per repetition")
    args = parser.parse_args(argv)

    print(f"Python {sys.version.split()[0]}, {args.repeat} x {args.number} calls, µs per call")
    print(f"{'header':<8} {'contender':<15} {'best':>8} {'median':>8} {'vs werkzeug':>12}")
    for label, header in HEADERS.items():
        samples = measure(contenders(header), args.repeat, args.number)
        baseline = min(samples["werkzeug"])
        for name, values in samples.items():
            best, median = min(values), statistics.median(values)
            print(f"{label:<8} {name:<15} {best:>8.2f} {median:>8.2f} {best / baseline:>11.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
