"""Write docs/compatibility.md from the results of a run of the compatibility matrix.

    FRIENDLY_ERRORS_COMPAT_RESULTS=compat.json .venv/bin/pytest -m compat tests/compat
    .venv/bin/python scripts/compat_table.py compat.json docs/compatibility.md

The page says what that run did, and nothing else: every cell comes from a recorded outcome, every
footnote from a limitation the run asserted or an expected failure it met, every version from the
packages it imported. Run both commands again to refresh it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

PASSED, SKIPPED, XFAILED, FAILED = "passed", "skipped", "xfailed", "failed"


class Footnotes:
    """Numbers footnotes in order of first use, so the same text always gets the same number."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def mark(self, text: str) -> str:
        if text not in self.texts:
            self.texts.append(text)
        return f"[{self.texts.index(text) + 1}]"

    def render(self) -> list[str]:
        return [f"{number}. {text}" for number, text in enumerate(self.texts, 1)]


def render(document: dict[str, Any]) -> str:
    results = document["results"]
    checks: dict[str, str] = document["checks"]
    limitations = {known["key"]: known for known in document["limitations"]}
    footnotes = Footnotes()

    def limitation_note(key: str) -> str:
        known = limitations[key]
        link = f" Upstream: <{known['link']}>." if known["link"] else " No upstream issue found."
        return footnotes.mark(f"{known['text']}{link}")

    def cell(record: dict[str, Any]) -> str:
        notes = "".join(limitation_note(key) for key in record["limitations"])
        outcome = record["outcome"]
        if outcome == PASSED:
            return f"✓{notes}"
        if outcome == SKIPPED:
            reason = record["reason"]
            return "n/a" if reason.startswith("n/a") else f"skipped{footnotes.mark(reason)}"
        if outcome == XFAILED:
            reason = record["reason"].rstrip(".") + "."
            return f"✗{notes}{footnotes.mark('Expected failure, ours: ' + reason)}"
        return f"**FAILED**{notes}"

    index = {(r["interface"], r["framework"], r["server"], r["check"]): r for r in results}
    lines = [
        "# Compatibility",
        "",
        "<!-- Written by scripts/compat_table.py from a run of tests/compat; do not edit. -->",
        "",
        "Every framework below runs on every server of its kind, over the wire on 127.0.0.1, in "
        "the project's own test suite (`pytest -m compat`, part of `bash scripts/test` and so "
        "of CI). Each app is written the way its framework's documentation writes apps, with "
        "friendly_errors added the way that framework's users add middleware "
        "([frameworks.md](frameworks.md) shows how). Each pair runs twice, side by side: as "
        "written, and with friendly_errors swapped for a pass-through, for the byte-for-byte "
        "comparisons.",
        "",
        "The checks, in the order they run:",
        "",
        *_check_list(checks),
        "",
        "✓ passed, ✗ an expected failure (a bug of ours, numbered in the notes), n/a not "
        "applicable, [n] a note. A limitation of a framework or server is asserted as it is, so "
        "the test fails when it is fixed upstream.",
        "",
        "To refresh this page, run the matrix with its results recorded and write them out:",
        "",
        "```sh",
        "FRIENDLY_ERRORS_COMPAT_RESULTS=compat.json .venv/bin/pytest -m compat tests/compat",
        ".venv/bin/python scripts/compat_table.py compat.json docs/compatibility.md",
        "```",
    ]
    for interface, heading in (("asgi", "ASGI"), ("wsgi", "WSGI")):
        frameworks = [f for f in document["frameworks"] if f["interface"] == interface]
        servers = [s for s in document["servers"] if s["interface"] == interface]
        present = [
            (f, s)
            for f in frameworks
            for s in servers
            if any((interface, f["name"], s["name"], c) in index for c in checks)
        ]
        if not present:
            continue
        lines += ["", f"## {heading}", "", "### Summary", ""]
        lines += _summary(interface, frameworks, servers, checks, index, limitation_note)
        lines += ["", "### Every check", ""]
        lines += _table(
            ["framework", "server", *checks.values()],
            [
                [
                    f"{f['title']}",
                    s["title"],
                    *(
                        cell(index[interface, f["name"], s["name"], check])
                        if (interface, f["name"], s["name"], check) in index
                        else "not run"
                        for check in checks
                    ),
                ]
                for f, s in present
            ],
        )
    lines += ["", "## Notes", "", *footnotes.render()]
    lines += ["", "## Versions tested", ""]
    lines += [
        f"Python {document['python']} on {document['platform']}.",
        "",
        *_table(
            ["package", "version"],
            [[name, version or "not installed"] for name, version in document["versions"].items()],
        ),
    ]
    return "\n".join(lines) + "\n"


def _check_list(checks: dict[str, str]) -> list[str]:
    explanations = {
        "error_page": "a returned 503 with `Retry-After` and the framework's idiomatic error body "
        "becomes our page for a browser and problem+json for `Accept: application/json`, with "
        "`Retry-After` kept, the app's detail quoted, the framework's CORS headers kept (where it "
        "has CORS) and an exact Content-Length;",
        "exception": "an unhandled exception becomes our 500, with nothing of the exception in "
        "the body;",
        "pass_through": "a 200 and the framework's own 404 are byte-identical to the same app "
        "without us, headers too (Date aside);",
        "streaming": "a streamed 200 (three chunks, 0.3 s apart) reaches the client chunk by "
        "chunk: the first chunk arrives before the app finishes;",
        "head": "HEAD on the 503 gets the GET's headers and no body;",
        "websocket": "a websocket echo works unchanged, where the framework and server have "
        "websockets;",
        "server_log": "the server logs no protocol error, and no traceback but the planted "
        "exception's.",
    }
    return [
        f"{number}. **{title}**: {explanations.get(key, '')}"
        for number, (key, title) in enumerate(checks.items(), 1)
    ]


def _summary(
    interface: str,
    frameworks: list[dict[str, str]],
    servers: list[dict[str, str]],
    checks: dict[str, str],
    index: dict[tuple[str, str, str, str], dict[str, Any]],
    limitation_note: Callable[[str], str],
) -> list[str]:
    """One cell per pair: how many of its applicable checks passed, and what else happened."""
    rows = []
    for framework in frameworks:
        row = [framework["title"]]
        for server in servers:
            records = [
                index[key]
                for check in checks
                if (key := (interface, framework["name"], server["name"], check)) in index
            ]
            keys = dict.fromkeys(key for record in records for key in record["limitations"])
            row.append(_summary_cell(records) + "".join(limitation_note(key) for key in keys))
        rows.append(row)
    return _table(["framework", *(s["title"] for s in servers)], rows)


def _summary_cell(records: list[dict[str, Any]]) -> str:
    if not records:
        return "not run"
    outcomes = [r["outcome"] for r in records]
    applicable = [r for r in records if not r["reason"].startswith("n/a")]
    if all(o == SKIPPED for o in outcomes):
        return "skipped"
    passed = sum(1 for r in applicable if r["outcome"] == PASSED)
    text = f"{passed}/{len(applicable)}"
    if FAILED in outcomes:
        return f"**{text}, FAILED**"
    if XFAILED in outcomes:
        return f"{text}, ✗ ours"
    return f"✓ {text}"


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: compat_table.py RESULTS.json OUTPUT.md", file=sys.stderr)
        return 2
    document = json.loads(Path(argv[0]).read_text())
    Path(argv[1]).write_text(render(document))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
