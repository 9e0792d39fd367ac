"""Collect the matrix's outcomes for docs/compatibility.md.

With ``FRIENDLY_ERRORS_COMPAT_RESULTS=path.json`` set, a run writes one record per (framework,
server, check): its outcome, the reason of a skip or an expected failure, and the key of the
limitation it asserted; and the versions of everything it ran. ``scripts/compat_table.py`` turns
that file into the page, so the page says what was run and nothing else.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Generator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from compat.matrix import CHECKS, FRAMEWORKS, LIMITATIONS, SERVERS, Pair

RESULTS_ENV = "FRIENDLY_ERRORS_COMPAT_RESULTS"

_records = pytest.StashKey[dict[str, dict[str, Any]]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_records] = {}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    callspec = getattr(item, "callspec", None)
    pair = callspec.params.get("deployment") if callspec else None
    if isinstance(pair, Pair) and isinstance(item, pytest.Function):
        _record(item.config.stash[_records], pair, item, report)
    return report


def _record(
    records: dict[str, dict[str, Any]], pair: Pair, item: pytest.Function, report: pytest.TestReport
) -> None:
    check = item.originalname.removeprefix("test_")
    key = f"{pair.framework.interface}/{pair.id}/{check}"
    entry = records.setdefault(
        key,
        {
            "interface": pair.framework.interface,
            "framework": pair.framework.name,
            "server": pair.server.name,
            "check": check,
            "outcome": "passed",
            "reason": "",
            "limitations": [],
        },
    )
    for name, value in report.user_properties:
        if name == "limitation" and value not in entry["limitations"]:
            entry["limitations"].append(value)
    # A check made of several parametrized cases takes the worst of them.
    outcome, reason = _outcome(report)
    rank = ["passed", "skipped", "xfailed", "failed"]
    if outcome is not None and rank.index(outcome) > rank.index(entry["outcome"]):
        entry["outcome"], entry["reason"] = outcome, reason


def _outcome(report: pytest.TestReport) -> tuple[str | None, str]:
    if hasattr(report, "wasxfail"):
        return ("xfailed", str(report.wasxfail)) if report.skipped else ("failed", "XPASS")
    if report.failed:
        return "failed", report.when
    if report.skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        return "skipped", reason.removeprefix("Skipped: ")
    return None, ""


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get(RESULTS_ENV)
    records = session.config.stash[_records]
    if not target or not records:
        return
    packages = sorted({name for part in FRAMEWORKS + SERVERS for name in part.packages})
    versions: dict[str, str | None] = {}
    for name in [*packages, "friendly-http-errors"]:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    document = {
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "versions": versions,
        # What the table needs to name things, so scripts/compat_table.py reads this file alone.
        "frameworks": [
            {"name": f.name, "title": f.title, "interface": f.interface, "package": f.packages[0]}
            for f in FRAMEWORKS
        ],
        "servers": [
            {"name": s.name, "title": s.title, "interface": s.interface, "package": s.packages[0]}
            for s in SERVERS
        ],
        "checks": CHECKS,
        "limitations": [
            {"key": known.key, "text": known.text, "link": known.link} for known in LIMITATIONS
        ],
        "results": sorted(
            records.values(),
            key=lambda r: (r["interface"], r["framework"], r["server"], r["check"]),
        ),
    }
    Path(target).write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
