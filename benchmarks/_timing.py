"""Side-by-side timing shared by the benchmarks: interleaved rounds, medians, ratios within a round.

These machines are shared and their speed drifts from one second to the next, so no figure here is an
absolute time compared with another run's. Every contender is measured in the same process, in rounds
that run each of them once in a rotating order; a ratio is taken between two contenders of the same
round, which saw the same machine, and the median of those per-round ratios is what is reported.
"""

from __future__ import annotations

import gc
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: One measurement: run the contender ``n`` times, return seconds per run (or runs per second).
Measure = Callable[[int], float]


def interleave(
    contenders: Mapping[str, Measure], rounds: int, number: int, *, warm_up: int = 1
) -> dict[str, list[float]]:
    """``rounds`` samples of each contender, each round in a rotated order, the collector off.

    The garbage collector would otherwise run in whichever contender happened to allocate the
    object that tipped it over, charging one contender for another's garbage.
    """
    names = list(contenders)
    for name in names:
        contenders[name](max(1, number // 10) * warm_up)
    samples: dict[str, list[float]] = {name: [] for name in names}
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for round_number in range(rounds):
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                samples[name].append(contenders[name](number))
            gc.collect()
    finally:
        if was_enabled:
            gc.enable()
    return samples


def ratio(samples: Mapping[str, list[float]], contender: str, baseline: str) -> float:
    """The median over rounds of ``contender / baseline`` within the round."""
    return statistics.median(
        c / b for c, b in zip(samples[contender], samples[baseline], strict=True)
    )


@dataclass(frozen=True)
class Target:
    """A ratio the issue asks for: ``contender / baseline`` at most (or at least) ``bound``."""

    label: str
    contender: str
    baseline: str
    bound: float
    at_most: bool = True

    def check(self, samples: Mapping[str, list[float]]) -> tuple[float, bool]:
        measured = ratio(samples, self.contender, self.baseline)
        return measured, measured <= self.bound if self.at_most else measured >= self.bound

    def line(self, samples: Mapping[str, list[float]], *, percent: bool = False) -> str:
        measured, met = self.check(samples)
        shown = f"{measured:.1%}" if percent else f"{measured:.3f}x"
        bound = f"{self.bound:.0%}" if percent else f"{self.bound:g}x"
        sign = "<=" if self.at_most else ">="
        return (
            f"  {self.label:<58}{shown:>9}  target {sign} {bound:<6} {'met' if met else 'MISSED'}"
        )


def print_times(samples: Mapping[str, list[float]], unit: str = "us") -> None:
    """Each contender's median time per request."""
    scale = {"ns": 1e9, "us": 1e6}[unit]
    for name, values in samples.items():
        print(f"  {name:<58}{statistics.median(values) * scale:>9.2f} {unit}")
