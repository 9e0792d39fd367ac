"""Static export: the files, the snippets, the HAProxy framing and the all-or-nothing write."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from friendly_errors.catalogue import Catalogue
from friendly_errors.cli import main
from friendly_errors.export import (
    HAPROXY_LIMIT,
    STATIC_REQUEST_ID,
    ExportError,
    ExportResult,
    export,
)
from friendly_errors.negotiation import Format

ALL_FORMATS = (Format.HTML, Format.JSON, Format.TEXT, Format.XML, Format.MARKDOWN)


@pytest.fixture
def french() -> Catalogue:
    return Catalogue.default().extend(
        {502: {"title": "Mauvaise passerelle"}, 504: {"title": "Délai dépassé"}}, locale="fr"
    )


def leftovers(parent: Path) -> list[str]:
    """Temporary directories an export left beside its target."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


# -- what is written -----------------------------------------------------------------------------


def test_every_code_format_and_language_is_written(tmp_path: Path, french: Catalogue) -> None:
    target = tmp_path / "errors"
    result = export(
        target,
        codes=[502, 504, 404, 520],
        formats=ALL_FORMATS,
        locales=["en", "fr"],
        catalogue=french,
    )
    assert isinstance(result, ExportResult)
    assert result.directory == target
    assert result.pages == 4 * 5 * 2
    assert result.warnings == ()
    for locale in ("en", "fr"):
        for code in (404, 502, 504, 520):
            for ext in ("html", "json", "txt", "xml", "md"):
                assert (target / "pages" / locale / f"{code}.{ext}").is_file()
    assert json.loads((target / "pages/en/520.json").read_text())["status"] == 520
    assert "Mauvaise passerelle" in (target / "pages/fr/502.txt").read_text()
    assert "Bad Gateway" in (target / "pages/en/502.txt").read_text()
    assert (target / "pages/fr/502.md").read_text().startswith("# 502 Mauvaise passerelle\n")
    for name in result.files:
        assert (target / name).is_file()
    assert leftovers(tmp_path) == []


def test_pages_carry_placeholders_not_request_data(tmp_path: Path) -> None:
    export(tmp_path / "out", codes=[502])
    html = (tmp_path / "out/pages/en/502.html").read_text()
    assert f"Request ID: {STATIC_REQUEST_ID}" in html
    assert "Time (UTC): 1970-01-01T00:00:00Z" in html
    assert json.loads((tmp_path / "out/pages/en/502.json").read_text())["request_id"] == (
        STATIC_REQUEST_ID
    )


def test_markdown_pages_carry_the_placeholders_where_nginx_finds_them(tmp_path: Path) -> None:
    export(tmp_path / "out", codes=[502], formats=[Format.MARKDOWN])
    page = (tmp_path / "out/pages/en/502.md").read_text()
    assert f"- Request ID: `{STATIC_REQUEST_ID}`\n" in page
    assert "- Time (UTC): `1970-01-01T00:00:00Z`\n" in page


def test_options_shape_the_pages(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "5xx.html").write_text(
        '{% extends "friendly_errors/error.html" %}{% block title %}Ours {{ status }}{% endblock %}'
    )
    export(
        tmp_path / "out",
        codes=[503],
        formats=[Format.HTML, Format.JSON],
        template_dirs=[tmp_path / "templates"],
        site_name="Acme Reports",
    )
    html = (tmp_path / "out/pages/en/503.html").read_text()
    assert "<title>Ours 503</title>" in html
    assert "Acme Reports" in html


def test_text_pages_with_html_only_templates(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "5xx.html").write_text('{% extends "friendly_errors/error.html" %}')
    export(tmp_path / "out", codes=[503], template_dirs=[tmp_path / "templates"])
    assert "503 Service Unavailable" in (tmp_path / "out/pages/en/503.txt").read_text()


def test_files_are_readable_by_a_web_server(tmp_path: Path) -> None:
    export(tmp_path / "out", codes=[502])
    for path in (tmp_path / "out", tmp_path / "out/pages/en", tmp_path / "out/pages/en/502.html"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o004, f"{path} is not world-readable: {oct(mode)}"


# -- HAProxy -------------------------------------------------------------------------------------


def read_raw(path: Path) -> tuple[str, dict[str, str], bytes]:
    raw = path.read_bytes()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return status_line, headers, body


def test_haproxy_files_are_complete_small_responses(tmp_path: Path) -> None:
    export(tmp_path / "out", codes=[404, 500, 502, 503, 504, 520])
    names = sorted(p.name for p in (tmp_path / "out/haproxy").iterdir())
    # HAProxy has no errorfile for 520: it cannot produce the code itself.
    assert names == ["404.http", "500.http", "502.http", "503.http", "504.http"]
    for name in names:
        path = tmp_path / "out/haproxy" / name
        status_line, headers, body = read_raw(path)
        assert status_line.startswith(f"HTTP/1.1 {name[:3]} ")
        assert int(headers["Content-Length"]) == len(body)
        assert headers["Connection"] == "close"
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert "Vary" not in headers
        assert path.stat().st_size <= HAPROXY_LIMIT
        assert b"\n" not in path.read_bytes().partition(b"\r\n\r\n")[0].replace(b"\r\n", b"")
    assert read_raw(tmp_path / "out/haproxy/502.http")[0] == "HTTP/1.1 502 Bad Gateway"
    config = (tmp_path / "out/haproxy.cfg").read_text()
    assert f'errorfile 502 "{tmp_path}/out/haproxy/502.http"' in config
    assert "errorfile 520" not in config


# About 4 KB of catalogue text: the HTML page, with its stylesheet, grows past HAProxy's buffer, while
# the plain-text page stays well under it.
LONG: dict[int | str, dict[str, str]] = {502: {"description": "The upstream went away. " * 170}}


@pytest.mark.parametrize(
    ("entries", "templates", "written", "warning"),
    [
        pytest.param(LONG, {}, "text/plain", "wrote the plain-text page instead", id="text"),
        pytest.param(
            {},
            {"5xx.html": "x" * 20000, "5xx.txt": "y" * 20000},
            None,
            "not written, the response would be 20",
            id="skipped",
        ),
    ],
)
def test_haproxy_pages_over_the_buffer_are_replaced_or_skipped(
    tmp_path: Path,
    entries: dict[int | str, dict[str, str]],
    templates: dict[str, str],
    written: str | None,
    warning: str,
) -> None:
    (tmp_path / "templates").mkdir()
    for name, text in templates.items():
        (tmp_path / "templates" / name).write_text(text)
    result = export(
        tmp_path / "out",
        codes=[502],
        catalogue=Catalogue.default().extend(entries),
        template_dirs=[tmp_path / "templates"] if templates else [],
    )
    assert len(result.warnings) == 1 and warning in result.warnings[0]
    path = tmp_path / "out/haproxy/502.http"
    if written is None:
        assert not path.exists()
        assert "errorfile 502" not in (tmp_path / "out/haproxy.cfg").read_text()
    else:
        assert read_raw(path)[1]["Content-Type"].startswith(written)
        assert path.stat().st_size <= HAPROXY_LIMIT


def test_haproxy_uses_the_first_format_without_html(tmp_path: Path) -> None:
    export(tmp_path / "out", codes=[503], formats=[Format.JSON, Format.TEXT])
    headers = read_raw(tmp_path / "out/haproxy/503.http")[1]
    assert headers["Content-Type"] == "application/problem+json; charset=utf-8"


# -- snippets ------------------------------------------------------------------------------------


def test_nginx_snippets(tmp_path: Path, french: Catalogue) -> None:
    export(
        tmp_path / "out",
        codes=[502, 504],
        formats=[Format.HTML, Format.JSON],
        locales=["en", "fr"],
        catalogue=french,
    )
    http = (tmp_path / "out/nginx/http.conf").read_text()
    server = (tmp_path / "out/nginx/server.conf").read_text()
    assert '"~*text/html" html;' in http and '"~*json" json;' in http
    assert "txt;" not in http
    assert '"~*^fr" fr;' in http
    assert "/__friendly_errors/fr/504.html \"default-src 'none'" in http
    assert "error_page 502 /__friendly_errors/$friendly_errors_lang/502.$friendly_errors_ext;" in (
        server
    )
    assert f'alias "{tmp_path}/out/pages/";' in server
    assert "charset_types application/problem+json;" in server
    assert f'sub_filter "{STATIC_REQUEST_ID}" $request_id;' in server


def test_nginx_gives_markdown_to_the_clients_that_name_it(tmp_path: Path) -> None:
    export(tmp_path / "out", codes=[502], formats=[Format.HTML, Format.TEXT, Format.MARKDOWN])
    http = (tmp_path / "out/nginx/http.conf").read_text()
    # nginx takes the first regex that matches: agents list text/markdown, often before text/html.
    assert http.index('"~*text/markdown" md;') < http.index('"~*text/html" html;')
    server = (tmp_path / "out/nginx/server.conf").read_text()
    assert "text/markdown md;" in server
    assert "charset_types text/plain text/markdown;" in server
    apache = (tmp_path / "out/apache.conf").read_text()
    assert "AddType text/markdown .md" in apache and "AddCharset utf-8" in apache
    assert ".md" in apache.split("AddCharset utf-8")[1].split("\n")[0]


def test_nginx_without_html_defaults_to_the_first_format(tmp_path: Path) -> None:
    export(tmp_path / "out", codes=[502], formats=[Format.TEXT])
    http = (tmp_path / "out/nginx/http.conf").read_text()
    assert "default txt;" in http
    assert "charset_types text/plain;" in (tmp_path / "out/nginx/server.conf").read_text()
    export(tmp_path / "html", codes=[502], formats=[Format.HTML])
    assert "charset_types" not in (tmp_path / "html/nginx/server.conf").read_text()


def test_apache_snippet(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    # A template with its own style gives its page a policy of its own.
    (tmp_path / "templates" / "503.html").write_text(
        '{% extends "friendly_errors/error.html" %}'
        "{% block style %}{{ super() }}<style>h1 { color: red }</style>{% endblock %}"
    )
    export(
        tmp_path / "out",
        codes=[502, 503, 504, 520],
        formats=[Format.HTML],
        template_dirs=[tmp_path / "templates"],
    )
    apache = (tmp_path / "out/apache.conf").read_text()
    assert f'Alias /__friendly_errors/ "{tmp_path}/out/pages/en/"' in apache
    assert "ErrorDocument 502 /__friendly_errors/502.html" in apache
    assert "ErrorDocument 520" not in apache
    assert "no reason phrase for: 520" in apache
    assert apache.count("Header always set Content-Security-Policy") == 2
    assert '<Files "503.html">' in apache
    # The media types are named, not left to mime.types; only the exported formats'.
    assert "AddType text/html .html" in apache
    assert "AddType application/problem+json" not in apache
    assert 'Header always set Content-Language "en"' in apache
    # Served only as an ErrorDocument: asked for by its address, a page is not found.
    assert '<If "-z %{ENV:REDIRECT_STATUS}">\n        Redirect 404\n    </If>' in apache


def test_caddy_and_traefik_snippets(tmp_path: Path) -> None:
    export(
        tmp_path / "out",
        codes=[404, 502, 503, 504, 520],
        error_page_server="http://errors.internal:8080",
    )
    caddy = (tmp_path / "out/Caddyfile").read_text()
    assert "handle_errors 404 502 503 504 520 {" in caddy
    assert "rewrite * /{err.status_code}.{friendly_errors_ext}" in caddy
    assert "~(?i)json json" in caddy
    traefik = (tmp_path / "out/traefik.yml").read_text()
    assert '- "404"\n          - "502-504"\n          - "520"' in traefik
    assert 'query: "/{status}"' in traefik
    assert 'url: "http://errors.internal:8080"' in traefik


def test_readme_explains_the_placeholders(tmp_path: Path) -> None:
    export(tmp_path / "out", codes=[502])
    readme = (tmp_path / "out/README.txt").read_text()
    assert STATIC_REQUEST_ID in readme and "nginx" in readme


# -- all or nothing ------------------------------------------------------------------------------


def test_an_earlier_export_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "out"
    export(target, codes=[502, 503])
    export(target, codes=[504])
    assert sorted(p.name for p in (target / "pages/en").iterdir()) == [
        "504.html",
        "504.json",
        "504.txt",
    ]
    assert leftovers(tmp_path) == []


def test_an_empty_directory_is_used(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    export(tmp_path / "out", codes=[502])
    assert (tmp_path / "out/pages/en/502.html").is_file()


def test_a_directory_of_other_files_is_refused_untouched(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "index.html").write_text("mine")
    with pytest.raises(ExportError, match="is not empty and does not hold an earlier export"):
        export(tmp_path / "out", codes=[502])
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["index.html"]
    assert leftovers(tmp_path) == []


def test_a_broken_template_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    # Valid syntax, so the renderer accepts it at start-up; it fails only when rendered.
    (tmp_path / "templates" / "504.html").write_text("{{ no_such_value }}")
    source = logging.getLogger("friendly_errors")
    with pytest.raises(ExportError, match=r"504.*UndefinedError: 'no_such_value' is undefined"):
        export(
            tmp_path / "out",
            codes=[502, 504],
            formats=[Format.HTML, Format.JSON],
            template_dirs=[tmp_path / "templates"],
        )
    assert not (tmp_path / "out").exists()
    assert leftovers(tmp_path) == []
    assert source.propagate is True
    assert not any(type(h).__name__ == "_Collector" for h in source.handlers)


def test_a_failed_write_leaves_the_earlier_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out"
    export(target, codes=[502])
    before = (target / "pages/en/502.html").read_bytes()
    calls = 0
    real = Path.write_bytes

    def flaky(self: Path, data: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError(28, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", flaky)
    with pytest.raises(ExportError, match=f"cannot write to {target}: No space left on device"):
        export(target, codes=[503])
    monkeypatch.undo()
    assert (target / "pages/en/502.html").read_bytes() == before
    assert not (target / "pages/en/503.html").exists()
    assert leftovers(tmp_path) == []


def test_a_failed_swap_puts_the_earlier_export_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out"
    export(target, codes=[502])
    real = os.replace
    calls: list[tuple[str, str]] = []

    def failing_second(src: Any, dst: Any) -> None:
        calls.append((os.fspath(src), os.fspath(dst)))
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(os, "replace", failing_second)
    with pytest.raises(ExportError, match="Input/output error"):
        export(target, codes=[503])
    monkeypatch.undo()
    assert (target / "pages/en/502.html").is_file()
    assert leftovers(tmp_path) == []


def test_an_interrupted_export_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: Path, data: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_bytes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export(tmp_path / "out", codes=[502])
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# -- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"codes": [200]}, "200 is not an error status", id="200"),
        pytest.param({"codes": [600]}, "600 is not an error status", id="600"),
        pytest.param({"codes": [True]}, "True is not an error status", id="bool"),
        pytest.param({"codes": []}, "no status codes to export", id="no-codes"),
        pytest.param({"codes": [502], "formats": []}, "formats must name", id="no-formats"),
        pytest.param({"codes": [502], "formats": ["html"]}, "formats must name", id="str-format"),
        pytest.param({"codes": [502], "locales": ["sv"]}, "no entries in 'sv'", id="locale"),
        pytest.param({"codes": [502], "locales": []}, "no languages to export", id="no-locales"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ExportError, match=message):
        export(tmp_path / "out", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_locales_are_normalised_and_deduplicated(tmp_path: Path, french: Catalogue) -> None:
    result = export(tmp_path / "out", codes=[502], locales=["FR", "fr", "en"], catalogue=french)
    assert result.pages == 6
    assert "default fr;" in (tmp_path / "out/nginx/http.conf").read_text()


def test_locales_are_spelled_as_the_catalogue_spells_them(tmp_path: Path) -> None:
    result = export(tmp_path / "out", codes=[503], locales=["pt_br", "zh-hans", "ar"])
    assert result.pages == 9
    assert sorted(p.name for p in (tmp_path / "out/pages").iterdir()) == ["ar", "pt-BR", "zh-Hans"]
    page = (tmp_path / "out/pages/ar/503.html").read_text(encoding="utf-8")
    assert '<html lang="ar" dir="rtl">' in page


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param('we"ird', "cannot be written into a web server", id="quote"),
        pytest.param("cost$", "cannot be written into a web server", id="dollar"),
        pytest.param("a{b}", "cannot be written into a web server", id="brace"),
    ],
)
def test_paths_that_configuration_cannot_quote(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(ExportError, match=message):
        export(tmp_path / name, codes=[502])


@pytest.mark.parametrize(
    ("make_target", "message"),
    [
        pytest.param(lambda p: p / "file", "exists and is not a directory", id="a-file"),
        pytest.param(lambda p: p / "file" / "out", "does not exist", id="under-a-file"),
        pytest.param(lambda p: p / "missing" / "out", "does not exist", id="no-parent"),
        pytest.param(lambda p: Path("/proc/friendly-errors-export"), "cannot write", id="proc"),
    ],
)
def test_unwritable_targets(tmp_path: Path, make_target: Any, message: str) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match=message):
        export(make_target(tmp_path), codes=[502])


# -- the command ---------------------------------------------------------------------------------


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_export_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run_cli(
        capsys, "export", str(tmp_path / "out"), "--codes", "5xx,404", "--site-name", "Acme"
    )
    assert code == 0, err
    assert err == ""
    catalogue = Catalogue.default()
    expected = [c for c in catalogue.codes() if 500 <= c <= 599] + [404]
    assert out == (
        f"Wrote {len(expected) * 3} pages and configuration for nginx, Apache, Caddy, HAProxy and "
        f"Traefik to {tmp_path / 'out'} (see README.txt there).\n"
    )
    assert (tmp_path / "out/pages/en/524.json").is_file()
    # A class means the catalogue's codes, not all hundred numbers.
    assert not (tmp_path / "out/pages/en/537.html").exists()
    assert "Acme" in (tmp_path / "out/pages/en/502.txt").read_text()


@pytest.mark.parametrize("name", ["md", "markdown"])
def test_export_command_writes_markdown(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    code, out, err = run_cli(
        capsys,
        "export",
        str(tmp_path / "out"),
        "--codes",
        "502",
        "--formats",
        f"html,json,txt,{name}",
    )
    assert code == 0, err
    assert out.startswith("Wrote 4 pages")
    assert (tmp_path / "out/pages/en/502.md").read_text().startswith("# 502 Bad Gateway\n")


def test_export_command_options(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    catalogue = tmp_path / "fr.toml"
    catalogue.write_text('locale = "fr"\n[502]\ntitle = "Mauvaise passerelle"\n')
    code, _, err = run_cli(
        capsys,
        "export",
        str(tmp_path / "out"),
        "--codes",
        "502-504",
        "--formats",
        "text,XML",
        "--locales",
        "en, fr",
        "--catalogue",
        str(catalogue),
        "--error-page-server",
        "http://errors:9000",
    )
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out/pages/fr").iterdir()) == [
        "502.txt",
        "502.xml",
        "503.txt",
        "503.xml",
        "504.txt",
        "504.xml",
    ]
    assert "http://errors:9000" in (tmp_path / "out/traefik.yml").read_text()


def test_export_command_template_and_links(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "error.html").write_text(
        '{% extends "friendly_errors/error.html" %}{% block title %}Ours{% endblock %}'
    )
    code, _, err = run_cli(
        capsys,
        "export",
        str(tmp_path / "out"),
        "--codes",
        "503",
        "--template-dir",
        str(tmp_path / "templates"),
        "--home-url",
        "https://example.com/",
        "--contact-url",
        "mailto:help@example.com",
    )
    assert code == 0, err
    html = (tmp_path / "out/pages/en/503.html").read_text()
    assert "<title>Ours</title>" in html
    assert 'href="mailto:help@example.com"' in html
    assert "https://example.com/" in (tmp_path / "out/pages/en/503.txt").read_text()


def test_export_command_prints_warnings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    catalogue = tmp_path / "long.toml"
    catalogue.write_text(f'[502]\ndescription = "{LONG[502]["description"]}"\n')
    code, _, err = run_cli(
        capsys, "export", str(tmp_path / "out"), "--codes", "502", "--catalogue", str(catalogue)
    )
    assert code == 0
    assert err.startswith("friendly-errors: warning: haproxy/502.http: the ")
    assert err.endswith("wrote the plain-text page instead\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--codes", "5x4"], "'5x4' is not a status code", id="codes-5x4"),
        pytest.param(["--codes", "2xx"], "--codes: 200 is not an error status", id="codes-2xx"),
        pytest.param(["--codes", "1000"], "'1000' is not a status code", id="codes-1000"),
        pytest.param(["--codes", ","], "--codes: ',' names no status code", id="codes-empty"),
        pytest.param(["--codes", "9xx"], "--codes: '9xx' names no status code", id="codes-9xx"),
        pytest.param(["--codes", "504-502"], "'504-502' is an empty range", id="codes-range"),
        pytest.param(["--formats", "pdf"], "--formats: 'pdf' is not a format", id="formats"),
        pytest.param(["--formats", ","], "--formats: name at least one format", id="no-formats"),
        pytest.param(["--locales", "sv"], "the catalogue has no entries in 'sv'", id="locales"),
        pytest.param(
            ["--template-dir", "/nonexistent"], "--template-dir: '/nonexistent' is not", id="tdir"
        ),
        pytest.param(["--contact-url", "ftp://x"], "contact_url must be", id="contact-url"),
        pytest.param(["--catalogue", "/nonexistent.toml"], "/nonexistent.toml", id="catalogue"),
    ],
)
def test_export_command_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    code, out, err = run_cli(capsys, "export", str(tmp_path / "out"), *argv)
    assert code == 2
    assert out == ""
    assert err.startswith(f"friendly-errors: error: {message}")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [] or argv[0] == "--template-dir"


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("/proc/friendly-errors-export", id="proc"),
        pytest.param("{tmp}/file/out", id="under-a-file"),
        pytest.param("{tmp}", id="not-empty"),
    ],
)
def test_export_command_unwritable_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, target: str
) -> None:
    (tmp_path / "file").write_text("x")
    code, out, err = run_cli(capsys, "export", target.format(tmp=tmp_path), "--codes", "502")
    assert code == 2
    assert out == ""
    assert err.startswith("friendly-errors: error: ")
    assert err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_a_quiet_logger_does_not_let_a_fallback_page_reach_the_disk(tmp_path: Path) -> None:
    """The failure is seen in the response itself, not only in the log, which may be switched off."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "error.html").write_text("{{ info.nope.deeper }}")
    source = logging.getLogger("friendly_errors")
    level = source.level
    source.setLevel(logging.CRITICAL)  # setLevel, not the attribute: it clears logging's cache
    try:
        target = tmp_path / "out"
        with pytest.raises(ExportError, match=r"could not be rendered"):
            export(target, codes=[502], formats=[Format.HTML], template_dirs=[templates])
    finally:
        source.setLevel(level)
    assert not target.exists()


def test_an_interrupted_swap_puts_the_earlier_export_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out"
    export(target, codes=[502], formats=[Format.HTML])
    before = sorted(p.relative_to(target) for p in target.rglob("*"))
    real_replace = os.replace
    calls: list[object] = []

    def interrupted(src: object, dst: object) -> None:
        calls.append(src)
        if len(calls) == 2:  # the new export moving in
            raise KeyboardInterrupt
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export(target, codes=[502, 504], formats=[Format.HTML])
    monkeypatch.setattr(os, "replace", real_replace)
    assert sorted(p.relative_to(target) for p in target.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"], "no staging or old directory left"


def test_a_failed_move_aside_leaves_no_empty_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out"
    export(target, codes=[502], formats=[Format.HTML])

    def refuse(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ExportError, match="Permission denied"):
        export(target, codes=[502], formats=[Format.HTML])
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
