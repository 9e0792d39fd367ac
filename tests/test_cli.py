from __future__ import annotations

import itertools
import json
import os
import runpy
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from friendly_errors import Catalogue, _wrap
from friendly_errors.cli import main
from friendly_errors.maintenance import MaintenanceFile

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
    assert all(_wrap.columns(line) <= 80 or "https://" in line for line in out.splitlines())


@pytest.mark.parametrize(
    ("locale", "route", "spec"),
    [
        ("en", "Where it failed: At the server.", "Defined in RFC 9110, Section 15.6.4:"),
        (
            "fr",
            "Où se situe l'échec\u00a0: Au niveau du serveur.",
            "Défini dans RFC 9110, Section 15.6.4\u00a0:",
        ),
        ("ja", "障害の発生箇所：サーバーの問題です。", "定義元 RFC 9110, Section 15.6.4："),  # noqa: RUF001
    ],
    ids=["en", "fr", "ja"],
)
def test_explain_puts_the_languages_colon_after_a_label(
    capsys: pytest.CaptureFixture[str], locale: str, route: str, spec: str
) -> None:
    _, out, _ = run(capsys, "explain", "503", "--locale", locale)
    lines = out.splitlines()
    assert any(line.startswith(route) for line in lines)
    # The URL does not fit after it, so the colon ends the line, without its space.
    assert spec in lines
    assert [line for line in lines if line != line.rstrip()] == []


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


def test_list_missing_for_some_codes_keeps_the_labels(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(
        capsys, "list", "503", "--missing", "--locale", "sv", "--catalogue", str(DATA / "sv.toml")
    )
    tables = [line.split("]")[0].strip() + "]" for line in out.splitlines() if "  [" in line]
    assert tables == ["[labels]", "[503]"]


@pytest.mark.parametrize(
    ("argv", "present", "absent"),
    [
        # No entry, no class: a title only, so no summary and no defining document.
        (["explain", "650"], ["650 Unknown status\n", "Where it failed: At the server."],
         ["Defined in"]),
        # Nothing failed: no retry advice at all.
        (["explain", "290", "--catalogue", "ours.toml"], ["290 Odd\n", "Nothing failed"],
         ["Trying again", "temporary"]),
    ],
    ids=["unknown-code", "not-an-error"],
)  # fmt: skip
def test_explain_leaves_out_what_an_entry_does_not_say(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    present: list[str],
    absent: list[str],
) -> None:
    (tmp_path / "ours.toml").write_text('[290]\ntitle = "Odd"\nfault = "none"\n')
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert all(text in out for text in present), out
    assert not any(text in out for text in absent), out


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


# -- down and up (#13) --------------------------------------------------------------------------


def test_down_writes_the_state_and_says_what_it_did(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "maintenance.json"
    code, out, err = run(
        capsys,
        "down",
        str(target),
        "--message",
        "Upgrading the database.",
        "--retry-after",
        "1800",
        "--allow",
        "/health",
        "/api/status*",
        "--secret",
        "a-long-enough-secret-42",
    )
    assert (code, err) == (0, "")
    assert json.loads(target.read_text()) == {
        "message": "Upgrading the database.",
        "retry_after": 1800,
        "allow_paths": ["/health", "/api/status*"],
        "secret": "a-long-enough-secret-42",
    }
    assert out.startswith(f"Maintenance is on: wrote {target}\n")
    assert "  message:     Upgrading the database.\n" in out
    assert "  retry after: 1800 seconds\n" in out
    assert "  let through: /health, /api/status*\n" in out
    assert "  bypass path: /a-long-enough-secret-42\n" in out
    assert "password" in out
    # The middleware reads back what the command wrote.
    state = MaintenanceFile(target).current()
    assert state is not None and state.problems == () and state.retry_after == 1800


def test_down_with_a_random_secret_prints_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "m.json"
    run(capsys, "down", str(target), "--with-secret")
    first = json.loads(target.read_text())["secret"]
    _, out, _ = run(capsys, "down", str(target), "--with-secret")
    second = json.loads(target.read_text())["secret"]
    assert len(first) >= 32 and first != second
    assert f"bypass path: /{second}\n" in out
    # Not world-writable, and readable by the app's user: the umask's permissions, not mkstemp's.
    mode = target.stat().st_mode & 0o777
    assert mode & 0o044 == 0o044 or mode == 0o666 & ~_umask()
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temporary file left behind


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@pytest.mark.parametrize(
    ("until", "expected"),
    [
        pytest.param("2999-12-31T23:30Z", "2999-12-31T23:30:00Z", id="iso-z"),
        pytest.param("2999-12-31 23:30", "2999-12-31T23:30:00Z", id="naive-is-utc"),
        pytest.param("2999-12-31T23:30+01:00", "2999-12-31T22:30:00Z", id="offset"),
    ],
)
def test_down_until_a_time(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, until: str, expected: str
) -> None:
    target = tmp_path / "m.json"
    code, out, _ = run(capsys, "down", str(target), "--until", until)
    assert code == 0
    assert json.loads(target.read_text()) == {"retry_after": expected}
    assert f"  until:       {expected[:10]} {expected[11:16]} UTC (in about " in out


def test_down_until_a_clock_time_means_the_next_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "m.json"
    now = datetime.now(timezone.utc)
    soon = (now + timedelta(minutes=2)).strftime("%H:%M")
    earlier = (now - timedelta(minutes=2)).strftime("%H:%M")
    for clock, at_most in ((soon, timedelta(minutes=3)), (earlier, timedelta(days=1))):
        run(capsys, "down", str(target), "--until", clock)
        until = datetime.fromisoformat(
            json.loads(target.read_text())["retry_after"].replace("Z", "+00:00")
        )
        assert now < until <= now + at_most
        assert until.strftime("%H:%M") == clock


def test_up_removes_the_file_and_is_idempotent(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "m.json"
    run(capsys, "down", str(target))
    assert json.loads(target.read_text()) == {}
    code, out, _ = run(capsys, "up", str(target))
    assert code == 0 and not target.exists()
    assert out == f"Maintenance is off: removed {target}; requests reach the app within a second.\n"
    code, out, _ = run(capsys, "up", str(target))
    assert code == 0
    assert out == f"Maintenance was already off: {target} does not exist.\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--retry-after", "ten"], "--retry-after: 'ten' is not a number", id="words"),
        pytest.param(["--retry-after", "-5"], "--retry-after: '-5' is not a number", id="negative"),
        pytest.param(["--until", "tomorrow"], "--until: 'tomorrow' is not a time", id="until-words"),
        pytest.param(["--until", "25:00"], "--until: '25:00' is not a time of day", id="until-25h"),
        pytest.param(["--until", "2001-01-01T00:00Z"], "is in the past", id="until-past"),
        pytest.param(["--allow", "health"], "--allow: 'health' is not a path", id="relative"),
        pytest.param(["--secret", "short"], "at least 16 characters", id="short-secret"),
        pytest.param(
            ["--secret", "has a space in it, quite long"], "letters, digits", id="secret-space"
        ),
        pytest.param(
            ["--retry-after", "60", "--until", "10:00"],
            "give --retry-after or --until, not both",
            id="retry-after-and-until",
        ),
        pytest.param(
            ["--secret", "a-long-enough-secret-42", "--with-secret"],
            "give --secret or --with-secret, not both",
            id="two-secrets",
        ),
    ],
)  # fmt: skip
def test_down_with_a_bad_argument_is_one_line_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    target = tmp_path / "m.json"
    code, out, err = run(capsys, "down", str(target), *argv)
    assert (code, out) == (2, "")
    assert err.startswith("friendly-errors: error: ") and message in err
    assert err.count("\n") == 1
    assert not target.exists()


@pytest.mark.parametrize(("command", "verb"), [("down", "write"), ("up", "remove")])
def test_an_unwritable_place_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, verb: str
) -> None:
    # A path through a regular file fails for root too, where permissions would not.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    target = blocker / "m.json"
    code, out, err = run(capsys, command, str(target))
    assert (code, out) == (1, "")
    assert err == f"friendly-errors: error: cannot {verb} {target}: Not a directory\n"


def test_up_on_a_directory_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "m.json"
    target.mkdir()
    code, out, err = run(capsys, "up", str(target))
    assert (code, out) == (1, "")
    assert err.startswith(f"friendly-errors: error: cannot remove {target}: ")
    assert err.count("\n") == 1


def test_a_failed_down_leaves_no_temporary_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "m.json"
    target.mkdir()  # the rename over it fails, after the temporary file was written
    code, _, err = run(capsys, "down", str(target), "--message", "x")
    assert code == 1
    assert err == f"friendly-errors: error: cannot write {target}: Is a directory\n"
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]
