"""The framework guide quotes the apps the matrix runs, and the matrix page covers the matrix.

docs/frameworks.md marks each quoted block with ``<!-- from PATH -->``; the block must appear in that
file exactly, so a snippet can never show code that was not tested. docs/compatibility.md is written
by scripts/compat_table.py from a run; it must name every framework and server of compat/matrix.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compat.matrix import FRAMEWORKS, SERVERS

ROOT = Path(__file__).resolve().parent.parent.parent
GUIDE = ROOT / "docs" / "frameworks.md"
MATRIX = ROOT / "docs" / "compatibility.md"
QUOTE = re.compile(r"<!-- from (?P<path>\S+) -->\n```python\n(?P<code>.*?)```", re.DOTALL)


def _quotes() -> list[tuple[str, str]]:
    return [(m["path"], m["code"]) for m in QUOTE.finditer(GUIDE.read_text())]


@pytest.mark.parametrize(("path", "code"), _quotes(), ids=lambda value: str(value)[:40])
def test_every_quote_is_in_its_file(path: str, code: str) -> None:
    assert code in (ROOT / path).read_text()


def test_every_app_is_quoted() -> None:
    quoted = {path for path, _ in _quotes()}
    for framework in FRAMEWORKS:
        assert str(framework.module_path.relative_to(ROOT)) in quoted, framework.name


def test_every_framework_has_a_section() -> None:
    headings = re.findall(r"^## (.+)$", GUIDE.read_text(), re.MULTILINE)
    for framework in FRAMEWORKS:
        assert framework.title.split(",")[0] in headings


def test_the_matrix_page_names_every_framework_and_server() -> None:
    page = MATRIX.read_text()
    assert "scripts/compat_table.py" in page
    for part in (*FRAMEWORKS, *SERVERS):
        assert f"| {part.title} |" in page, part.title
