"""How much the whole render path costs over the work it cannot avoid.

``Renderer.render`` negotiates, selects, renders, encodes and frames. Each case is timed against a
baseline doing only the unavoidable part with the very same input, measured in the same run and
interleaved round by round, so machine load affects both sides alike:

* HTML (a Chrome ``Accept`` header): a bare ``Template.render`` of the built-in page with the same
  context. Target: at most 1.5 times the baseline.
* JSON: ``json.dumps`` of the same problem dict. Target: at most 2.5 times the baseline.
* Text: the plain-text body assembled from the same pre-wrapped parts, without negotiation or framing.
  No target; it shows what the framing costs.
* HTML repeat: a repeated error, served from the renderer's memo of rendered pages, against a
  first-time ``render()`` of the same page (the memo turned off: negotiation, ``Template.render`` and
  framing). No target; it shows what the memo saves.
* Markdown: a Markdown error (``Accept: text/markdown``) against the same error as plain text, both
  through ``render()``; repeated (from the memo) and first-time (memo off). Target: a Markdown error
  costs no more than the text format, so at most 1.0 times the baseline.

Since the memo, the HTML and text ``render()`` of a repeated error costs less than its baseline (a
ratio below 1): the baselines still render in full, the memo only substitutes the request's values.

Run ``python benchmarks/bench_render.py`` (``--check`` exits 1 when a target is missed).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from friendly_errors import _problem, _text
from friendly_errors.negotiation import Format
from friendly_errors.rendering import Renderer, RequestInfo

CHROME_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
CHROME_LANGUAGE = "en-US,en;q=0.9"
STATUS = 502


@dataclass
class Case:
    name: str
    ours: Callable[[], object]
    baseline: Callable[[], object]
    baseline_name: str
    target: float | None


def _capture(obj: Any, attribute: str, call: Callable[[], object]) -> Any:
    """Run ``call`` once and return the first argument ``obj.attribute`` was called with.

    The baselines must see exactly what the renderer passes on, not a re-creation of it.
    """
    original = getattr(obj, attribute)
    own = attribute in vars(obj)  # a module's function, or a method looked up on the class
    seen: list[Any] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(args[0])
        return original(*args, **kwargs)

    setattr(obj, attribute, spy)
    try:
        call()
    finally:
        if own:
            setattr(obj, attribute, original)
        else:
            delattr(obj, attribute)
    return seen[0]


def build_cases() -> list[Case]:
    renderer = Renderer()
    # The same renderer with its memo turned off: what every request paid before the memo, and the
    # source of the baselines' input, which must be the real values rather than the memo's stand-ins.
    first_time = Renderer()
    first_time.memo.max_entries = 0

    def request(accept: str) -> RequestInfo:
        return RequestInfo(
            "GET",
            "/orders/42",
            headers={"accept": accept, "accept-language": CHROME_LANGUAGE, "host": "shop.example"},
        )

    html_request = request(CHROME_ACCEPT)
    json_request = request("application/json")
    text_request = request("text/plain")
    markdown_request = request("text/markdown")

    def html() -> object:
        return renderer.render(STATUS, html_request, request_id="7f3c9a1e2b4d4c8e")

    def as_json() -> object:
        return renderer.render(STATUS, json_request, request_id="7f3c9a1e2b4d4c8e")

    def text() -> object:
        return renderer.render(STATUS, text_request, request_id="7f3c9a1e2b4d4c8e")

    def html_first_time() -> object:
        return first_time.render(STATUS, html_request, request_id="7f3c9a1e2b4d4c8e")

    def text_first_time() -> object:
        return first_time.render(STATUS, text_request, request_id="7f3c9a1e2b4d4c8e")

    def markdown() -> object:
        return renderer.render(STATUS, markdown_request, request_id="7f3c9a1e2b4d4c8e")

    def markdown_first_time() -> object:
        return first_time.render(STATUS, markdown_request, request_id="7f3c9a1e2b4d4c8e")

    template, _ = first_time._template(STATUS, Format.HTML)
    assert template is not None
    context = _capture(template, "render", html_first_time)
    problem = _capture(_problem, "to_json", as_json)
    parts = first_time._text_parts(STATUS, "en")
    text_values = _capture(_text, "render_text", text_first_time)
    assert text_values is parts
    labels = renderer._catalogue.labels()
    support = _text.support_text(
        _text.support_prefixes(labels),
        STATUS,
        parts.head.split("\n", 1)[0],
        "7f3c9a1e2b4d4c8e",
        "2026-05-09T07:35:25Z",
        "GET",
        "/",
    )
    retry = _text.retry_advice(renderer._catalogue.get(STATUS), None, labels)

    return [
        Case("html", html, lambda: template.render(context), "Template.render", 1.5),
        Case("json", as_json, lambda: json.dumps(problem), "json.dumps", 2.5),
        Case(
            "text",
            text,
            lambda: _text.render_text(
                parts, detail=None, retry=retry, support=support, traceback=None
            ).encode(),
            "text assembly",
            None,
        ),
        Case("html-repeat", html, html_first_time, "first render()", None),
        Case("markdown", markdown, text, "text render()", 1.0),
        Case("md-first", markdown_first_time, text_first_time, "text, first", 1.0),
    ]


def _time(function: Callable[[], object], number: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(number):
        function()
    return (time.perf_counter_ns() - start) / number / 1000


def run(rounds: int, budget_ms: float) -> list[tuple[Case, float, float]]:
    cases = build_cases()
    numbers = []
    for case in cases:
        case.ours()
        case.baseline()
        once = max(_time(case.ours, 50), 0.1)
        numbers.append(max(10, int(budget_ms * 1000 / once)))
    samples: dict[str, tuple[list[float], list[float]]] = {c.name: ([], []) for c in cases}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for case, number in zip(cases, numbers, strict=True):
                ours, base = samples[case.name]
                ours.append(_time(case.ours, number))
                base.append(_time(case.baseline, number))
    finally:
        if gc_was_enabled:
            gc.enable()
    return [
        (case, statistics.median(samples[case.name][0]), statistics.median(samples[case.name][1]))
        for case in cases
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=25, help="interleaved rounds (default 25)")
    parser.add_argument(
        "--budget-ms", type=float, default=20.0, help="time per sample (default 20)"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)

    results = run(args.rounds, args.budget_ms)
    print(
        f"Python {sys.version.split()[0]}, median of {args.rounds} interleaved rounds, status {STATUS}"
    )
    print(
        f"{'case':<12}{'render() µs':>13}{'baseline µs':>13}  {'baseline':<17}{'ratio':>7}  target"
    )
    missed = False
    for case, ours, base in results:
        ratio = ours / base
        if case.target is None:
            verdict = "-"
        elif ratio <= case.target:
            verdict = f"<= {case.target}x ok"
        else:
            verdict = f"<= {case.target}x MISSED"
            missed = True
        print(
            f"{case.name:<12}{ours:>13.1f}{base:>13.1f}  {case.baseline_name:<17}{ratio:>6.2f}x  {verdict}"
        )
    return 1 if missed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
