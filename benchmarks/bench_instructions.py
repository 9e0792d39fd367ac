"""The pass-through cost in instructions under callgrind, which a busy machine cannot disturb.

Run as ``python benchmarks/bench_instructions.py`` (needs Debian's ``valgrind``; a few minutes). Each
contender of ``bench_asgi.py`` and ``bench_wsgi.py`` serves the same 200 in a process of its own under
``valgrind --tool=callgrind``, twice, with two request counts: the difference, divided by the
difference in requests, is what one request costs, start-up and imports cancelled out. Ratios are
taken as the in-process benchmarks take them: the overhead over the bare app against the no-op
wrapper's, and the total per request against the no-op wrapper's.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CONTENDERS = {
    "asgi": ["bare", "noop", "starlette_errors", "responder_floor", "ours", "ours_maintenance"],
    "wsgi": ["bare", "noop", "check_only", "exchange_floor", "ours", "ours_maintenance"],
}
_COLLECTED = re.compile(r"Collected : (\d+)")


def _serve(kind: str, name: str, requests: int) -> None:
    """In the measured process: ``requests`` requests through one contender, nothing else.

    The garbage collector is off: how often it runs and what it scans depend on everything else
    in the heap, which would put noise of a few hundred instructions on every request.
    """
    gc.disable()
    sys.path.insert(0, str(HERE))
    if kind == "asgi":
        import bench_asgi

        app, scope = getattr(bench_asgi, name), bench_asgi.scope_for("/")
        for _ in range(requests):
            bench_asgi.serve(app, scope)
    else:
        import bench_wsgi

        bench_wsgi.served(getattr(bench_wsgi, name), bench_wsgi.environ())(requests)


def _instructions(valgrind: str, kind: str, name: str, requests: int) -> int:
    # Without address-space randomisation, objects hashed by id collide the same way every run.
    setarch = shutil.which("setarch")
    fixed = [setarch, os.uname().machine, "-R"] if setarch else []
    done = subprocess.run(
        [
            *fixed, valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null",
            sys.executable, __file__, "--serve", kind, name, str(requests),
        ],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"},
    )  # fmt: skip
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from callgrind:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def measure(low: int, high: int) -> dict[str, dict[str, float]]:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    per_request: dict[str, dict[str, float]] = {}
    for kind, names in CONTENDERS.items():
        per_request[kind] = {}
        for name in names:
            counts = [_instructions(valgrind, kind, name, n) for n in (low, high)]
            per_request[kind][name] = (counts[1] - counts[0]) / (high - low)
    return per_request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--low", type=int, default=5_000, help="requests in the shorter run")
    parser.add_argument("--high", type=int, default=25_000, help="requests in the longer run")
    parser.add_argument("--serve", nargs=3, metavar=("KIND", "NAME", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        kind, name, requests = args.serve
        _serve(kind, name, int(requests))
        return 0
    results = measure(args.low, args.high)
    print(f"Instructions per request on a 200, callgrind, {args.high - args.low} requests\n")
    for kind, counts in results.items():
        bare, noop = counts["bare"], counts["noop"]
        print(f"{kind.upper()}")
        print(f"  {'contender':<20}{'instructions':>14}{'overhead vs no-op':>20}{'total':>10}")
        for name, count in counts.items():
            shown = ""
            if name != "bare":
                overhead = (count - bare) / (noop - bare)
                shown = f"{overhead:>19.3f}x{count / noop:>9.3f}x"
            print(f"  {name:<20}{count:>14,.0f}{shown}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
