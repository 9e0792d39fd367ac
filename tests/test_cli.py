from __future__ import annotations

import itertools
import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from friendly_errors import Catalogue, _text
from friendly_errors.cli import main

DATA = Path(__file__).resolve().parent / "data"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_explain_shows_the_whole_entry(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "explain", "524")
    assert code == 0 and err == ""
    assert out.startswith("524 A Timeout Occurred\n")
    for line in (
        "Where it failed: Between the gateway and the server.",
        "This is usually temporary: trying again in a few moments may work.",
        "Defined in Cloudflare (non-standard):",
        "What happened\n-------------\n",
        "What you can do\n",
        "Possible causes\n",
        "How to fix it\n",
    ):
        assert line in out
    # Only a URL, which must stay whole to be copied, may run past 80 columns.
    assert all(len(line) <= 80 or "https://" in line for line in out.splitlines())


def test_explain_lists_other_meanings(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "explain", "420")
    assert "Other meanings of this code\n" in out
    _, out, _ = run(capsys, "explain", "503")
    assert "Other meanings" not in out


@pytest.mark.parametrize("locale", Catalogue.default().locales[1:])
def test_explain_in_another_language(capsys: pytest.CaptureFixture[str], locale: str) -> None:
    """Issue #12: ``explain 503 --locale ja`` reads as a Japanese visitor's page does."""
    code, out, _ = run(capsys, "explain", "503", "--locale", locale)
    info, labels = Catalogue.default().get(503, locale), Catalogue.default().labels(locale)
    assert code == 0 and out.startswith(f"503 {info.title}\n")
    unwrapped = "".join(out.split())
    for key in ("route", "what_happened", "what_you_can_do", "causes", "developer_fixes"):
        assert labels[key] in out
    for text in (labels["retry_usually"], labels["fault_server"], info.developer_fixes[-1]):
        assert "".join(text.split()) in unwrapped
    assert all(_text.columns(line) <= 80 or "https://" in line for line in out.splitlines())


def test_explain_in_a_language_that_has_no_text_for_the_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = run(capsys, "explain", "418", "--locale", "ja")
    assert out.startswith(f"418 {Catalogue.default().get(418).title}\n")
    assert "What happened" in out, "the page's words follow the entry's language"


def test_explain_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "502", "--json")
    data = json.loads(out)
    assert code == 0
    assert (data["code"], data["title"], data["fault"]) == (502, "Bad Gateway", "intermediary")


@pytest.mark.parametrize("name", ["markdown", "md"])
def test_explain_markdown_speaks_like_the_markdown_body(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """The entry in the words and layout an agent gets in a Markdown error response, without the
    details of a request it has not made."""
    code, out, err = run(capsys, "explain", "524", "--format", name)
    assert code == 0 and err == ""
    tokens = MarkdownIt("commonmark").parse(out)
    headings = [t.content for o, t in itertools.pairwise(tokens) if o.type == "heading_open"]
    assert headings == [
        "524 A Timeout Occurred",
        "Where it failed",
        "What happened",
        "What you can do",
        "For developers and admins",
        "Possible causes",
        "How to fix it",
    ]
    assert "\n\nThis is usually temporary: trying again in a few moments may work.\n\n" in out
    assert "Request ID" not in out and out.endswith(".\n") and not out.endswith("\n\n")


def test_explain_markdown_in_another_language(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Swedish: a language without built-in text, so words it does not give stay English.
    extra = tmp_path / "sv.toml"
    extra.write_text(
        'locale = "sv"\n[labels]\nwhat_happened = "Vad som hände"\n'
        '[503]\ntitle = "Tjänsten är inte tillgänglig"\n',
        encoding="utf-8",
    )
    argv = ["explain", "503", "--format", "markdown", "--catalogue", str(extra), "--locale", "sv"]
    _, out, _ = run(capsys, *argv)
    assert out.startswith("# 503 Tjänsten är inte tillgänglig\n")
    assert "\n## Vad som hände\n" in out and "\n## What you can do\n" in out


def test_explain_format_json_is_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "explain", "502", "--format", "json") == run(
        capsys, "explain", "502", "--json"
    )


def test_explain_with_a_catalogue_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    extra = tmp_path / "ours.toml"
    extra.write_text('[524]\nsummary = "The report builder took too long."\n')
    _, out, _ = run(capsys, "explain", "524", "--catalogue", str(extra))
    assert "The report builder took too long." in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(
            ["list"], ["100  Continue", "524  A Timeout Occurred  (unofficial)"], id="all"
        ),
        pytest.param(["list", "5xx"], ["500  Internal Server Error", "599  "], id="class"),
        pytest.param(
            ["list", "520-522,404"], ["404  Not Found", "522  Connection Timed Out"], id="mixed"
        ),
    ],
)
def test_list(capsys: pytest.CaptureFixture[str], argv: list[str], expected: list[str]) -> None:
    code, out, _ = run(capsys, *argv)
    assert code == 0
    for line in expected:
        assert line in out


def test_list_filters_by_class(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "list", "4xx")
    codes = [int(line.split()[0]) for line in out.splitlines()]
    assert codes and all(400 <= c < 500 for c in codes)
    _, out, _ = run(capsys, "list", "520-522")
    assert [int(line.split()[0]) for line in out.splitlines()] == [520, 521, 522]


def test_list_missing_for_one_language(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "list", "--missing", "--locale", "sv", "--catalogue", str(DATA / "sv.toml")
    )
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("sv: ") and "fall back to English" in lines[0]
    assert lines[1].startswith("  [labels]  what_you_can_do, app_said, ")
    assert "error" not in out.split("[1xx]")[0].split(","), "sv.toml gives 'error'"
    assert "  [503]     description, causes, visitor_fixes, developer_fixes\n" in out
    assert "  [502]     title, summary, description, " in out
    assert all(len(line) <= 80 for line in lines)


def test_list_missing_for_every_language(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "503,5xx", "--missing")
    assert code == 0
    for locale in Catalogue.default().locales[1:]:
        # Every built-in language translates the page's words, 503 and the 5xx class.
        assert f"{locale}: nothing falls back to English" in out
    _, out, _ = run(capsys, "list", "418", "--missing", "--locale", "ja")
    assert out == "ja: 1 tables fall back to English, in whole or in part\n" + (
        "  [418]     title, summary, description, causes, visitor_fixes, developer_fixes,\n"
        "            other_meanings\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["explain", "5x4"], "'5x4' is not a status code", id="not-a-number"),
        pytest.param(["explain", "1000"], "'1000' is not a status code", id="too-big"),
        pytest.param(["explain", "99"], "'99' is not a status code", id="too-small"),
        pytest.param(["list", "530-520"], "'530-520' is an empty range", id="empty-range"),
        pytest.param(["list", "abc"], "'abc' is not a status code", id="bad-filter"),
        pytest.param(
            ["explain", "524", "--catalogue", "/nonexistent.toml"],
            "/nonexistent.toml: cannot read file",
            id="missing-catalogue",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err == f"friendly-errors: error: {message}\n" or err.startswith(
        f"friendly-errors: error: {message}"
    )
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["explain"],
        ["explain", "524", "--bogus"],
        ["explain", "524", "--format", "pdf"],
        ["explain", "524", "--json", "--format", "markdown"],
        ["frobnicate"],
        [],
    ],
    ids=str,
)
def test_argument_errors_exit_2_without_traceback(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as exc_info:
        main(argv)
    assert exc_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: friendly-errors" in err
    assert "Traceback" not in err


def test_console_script_and_module_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "friendly_errors", "explain", "522"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("522 Connection Timed Out")
    bad = subprocess.run(
        [sys.executable, "-m", "friendly_errors", "explain", "52x"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert (
        bad.stderr
        == "friendly-errors: error: '52x' is not a status code (expected a number from 100 to 999)\n"
    )


def test_a_closed_pipe_is_not_a_traceback() -> None:
    """`friendly-errors list | head -1` must end quietly."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "friendly_errors", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 0
    assert first.startswith(b"100")
    assert b"Traceback" not in err


def test_python_dash_m_runs_the_same_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["friendly_errors", "explain", "504"])
    with pytest.raises(SystemExit) as exc_info:
        runpy.run_module("friendly_errors", run_name="__main__")
    assert exc_info.value.code == 0
    assert capsys.readouterr().out.startswith("504 Gateway Timeout")
