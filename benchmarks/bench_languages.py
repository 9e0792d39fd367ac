"""What the built-in languages cost: start-up, memory, and a page in another language.

* Import: ``import friendly_errors`` in a fresh interpreter. Reading no catalogue, it does not depend
  on the languages; it is the yardstick for the rest.
* Start-up: ``Catalogue.default()`` in a fresh interpreter, as the first middleware pays it. English
  is read at once and the other languages when first asked for; "every language" reads them all, as
  an eager catalogue would at start-up.
* First page in a language: reading that language's file, which the first request asking for it pays.
* Memory: what tracemalloc sees allocated for the catalogue, English alone and every language read.
* A page in another language against the same page in English, repeated errors from the memo, HTML and
  text, interleaved round by round in one process. Target: at most 1.1 times English (issue #12: a
  localized page costs what an English one does).

Run ``python benchmarks/bench_languages.py`` (``--check`` exits 1 when a target is missed).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

from friendly_errors import Catalogue
from friendly_errors.rendering import Renderer, RequestInfo

CHROME_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
RENDER_TARGET = 1.1

# Run in a fresh interpreter: each figure must include what a new process pays, and nothing earlier.
# Times and memory come from separate runs, as tracemalloc slows everything it watches.
_STARTUP = """
import json, sys, time, tracemalloc
memory = sys.argv[1] == "memory"
if memory:
    tracemalloc.start()
start = time.perf_counter()
import friendly_errors
imported = time.perf_counter()
before = tracemalloc.get_traced_memory()[0]
catalogue = friendly_errors.Catalogue.default()
english = time.perf_counter()
after_english = tracemalloc.get_traced_memory()[0]
files = {}
for tag in catalogue.locales[1:]:
    t = time.perf_counter()
    catalogue.labels(tag)
    files[tag] = time.perf_counter() - t
everything = time.perf_counter()
after_all = tracemalloc.get_traced_memory()[0]
print(json.dumps({"memory_english": after_english - before, "memory_all": after_all - before}
                 if memory else
                 {"import": imported - start, "english": english - imported,
                  "all": everything - imported, **{"file " + k: v for k, v in files.items()}}))
"""


def startup_figures(runs: int) -> dict[str, float]:
    """Medians over ``runs`` fresh interpreters of each figure, times and memory."""
    samples: list[dict[str, float]] = []
    for _ in range(runs):
        sample = {}
        for mode in ("time", "memory"):
            command = [sys.executable, "-c", _STARTUP, mode]
            sample.update(json.loads(subprocess.check_output(command, text=True)))
        samples.append(sample)
    return {key: statistics.median(sample[key] for sample in samples) for key in samples[0]}


def _time(function: Callable[[], object], number: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(number):
        function()
    return (time.perf_counter_ns() - start) / number / 1000


def render_ratios(langs: Sequence[str], rounds: int, number: int) -> dict[tuple[str, str], float]:
    """Median µs of a repeated 503 page per (case, language), measured interleaved.

    With ``Retry-After`` the retry line names a clock time in every language but English, so it is
    the one value of the page that a request in another language computes, and a text body wraps.
    """
    renderer = Renderer(site_name="Example Shop", home_url="/", contact_url="/support")

    def case(accept: str, lang: str, retry_after: int | None) -> Callable[[], object]:
        request = RequestInfo(
            "GET", "/checkout", headers={"accept": accept, "accept-language": lang}
        )
        return lambda: renderer.render(
            503, request, request_id="7f3c9a1e2b4d4c8e", retry_after=retry_after
        )

    cases = {
        (name, lang): case(accept, lang, retry_after)
        for name, accept, retry_after in (
            ("html", CHROME_ACCEPT, None),
            ("text", "text/plain", None),
            ("html, Retry-After", CHROME_ACCEPT, 120),
            ("text, Retry-After", "text/plain", 120),
        )
        for lang in ["en", *langs]
    }
    for call in cases.values():
        call()
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in cases}
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for key, call in cases.items():
                samples[key].append(_time(call, number))
    finally:
        if enabled:
            gc.enable()
    return {key: statistics.median(values) for key, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters (default 7)")
    parser.add_argument("--rounds", type=int, default=25, help="interleaved rounds (default 25)")
    parser.add_argument(
        "--number", type=int, default=2000, help="renders per sample (default 2000)"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)

    langs = [tag for tag in ("ja", "ar", "de") if tag in Catalogue.default().locales]
    start = startup_figures(args.runs)
    files = {key.split()[1]: value for key, value in start.items() if key.startswith("file ")}
    print(f"Python {sys.version.split()[0]}, medians of {args.runs} fresh interpreters")
    print(f"import friendly_errors:               {start['import'] * 1000:7.1f} ms")
    print(f"Catalogue.default(), English only:    {start['english'] * 1000:7.1f} ms")
    print(
        f"  and every language read:            {start['all'] * 1000:7.1f} ms "
        f"({len(files)} languages)"
    )
    slowest = max(files, key=files.__getitem__)
    print(
        f"first page in a language (its file): {statistics.median(files.values()) * 1000:7.1f} ms"
        f" median, {files[slowest] * 1000:.1f} ms at most ({slowest})"
    )
    print(f"catalogue memory, English only:       {start['memory_english'] / 2**20:7.1f} MiB")
    print(f"  and every language read:            {start['memory_all'] / 2**20:7.1f} MiB")

    timings = render_ratios(langs, args.rounds, args.number)
    print(f"\nA repeated 503, median of {args.rounds} interleaved rounds")
    print(f"{'case':<19}{'lang':<6}{'µs':>8}{'vs en':>8}  target")
    missed = False
    for (fmt, lang), micros in timings.items():
        ratio = micros / timings[(fmt, "en")]
        verdict = (
            "-"
            if lang == "en"
            else f"<= {RENDER_TARGET}x " + ("ok" if ratio <= RENDER_TARGET else "MISSED")
        )
        missed = missed or verdict.endswith("MISSED")
        print(f"{fmt:<19}{lang:<6}{micros:>8.1f}{ratio:>7.2f}x  {verdict}")
    return 1 if missed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
