"""The ``friendly-errors`` command: the catalogue in a terminal.

Every failure a user can cause (a bad code, an unknown flag, an unreadable catalogue file) ends with one
line on stderr and a non-zero exit, never a traceback: this is a tool people run while something else is
already broken.

``demo``, ``export`` and ``serve`` import what they need when they run, so ``explain`` stays quick and
works without the ``server`` extra. ``down`` and ``up`` switch the maintenance mode of every middleware
that points at the same file (#13).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import re
import secrets
import shutil
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from friendly_errors import _text
from friendly_errors._wrap import Wrapper, columns
from friendly_errors.catalogue import DEFAULT_LOCALE, Catalogue, CatalogueError, StatusInfo

if TYPE_CHECKING:
    from friendly_errors.maintenance import MaintenanceState

__all__ = ["main"]


class UsageError(Exception):
    """A mistake in what the user typed; reported as one line with exit status 2."""


class CommandError(Exception):
    """What the user asked for could not be done (a file not writable); one line, exit status 1."""


def parse_code(value: str) -> int:
    text = value.strip()
    if not text.isdigit() or not 100 <= int(text) <= 999:
        raise UsageError(f"{value!r} is not a status code (expected a number from 100 to 999)")
    return int(text)


def parse_codes(value: str) -> list[int]:
    """``5xx,404,520-527`` to a sorted list of codes."""
    codes: set[int] = set()
    for part in (p.strip().lower() for p in value.split(",")):
        if len(part) == 3 and part[0] in "123456789" and part[1:] == "xx":
            base = int(part[0]) * 100
            codes.update(range(base, base + 100))
        elif "-" in part:
            low, _, high = part.partition("-")
            start, end = parse_code(low), parse_code(high)
            if start > end:
                raise UsageError(f"{part!r} is an empty range")
            codes.update(range(start, end + 1))
        else:
            codes.add(parse_code(part))
    return sorted(codes)


def _load_catalogue(args: argparse.Namespace) -> Catalogue:
    catalogue = Catalogue.default(plugins=args.plugins)
    for path in args.catalogue or ():
        catalogue = catalogue.extend(path)
    return catalogue


def _wrap(text: str, width: int, indent: str = "", first: str | None = None) -> str:
    # URLs and header names must survive wrapping whole, or they cannot be copied.
    wrapper = Wrapper(width, indent if first is None else first, indent, break_long_words=False)
    return wrapper.fill(text)


def _heading(text: str, rule: str) -> list[str]:
    return [text, rule * min(80, columns(text))]


def format_entry(info: StatusInfo, labels: Mapping[str, str], width: int = 80) -> str:
    """The entry as a terminal page in the words of ``labels``: the facts first, then what to do.

    The same words as the error pages in that language (issue #12), so ``explain 503 --locale ja``
    reads as a Japanese visitor's page does.
    """
    lines = [*_heading(f"{info.code} {info.title}", "="), ""]
    if info.summary:
        lines += [_wrap(info.summary, width), ""]
    colon = labels["colon"]
    lines.append(_wrap(labels["route"] + colon + _text.fault_caption(info.fault, labels), width))
    retry = _text.retry_advice(info, None, labels)
    if retry:
        lines.append(_wrap(retry, width))
    if info.spec:
        link = colon + info.spec_url if info.spec_url else ""
        lines.append(_wrap(f"{labels['defined_in']} {info.spec}{link}", width))
    sections = [
        (labels["what_happened"], (info.description,), False),
        (labels["what_you_can_do"], info.visitor_fixes, True),
        (labels["causes"], info.causes, True),
        (labels["developer_fixes"], info.developer_fixes, True),
        (labels["other_meanings"], info.other_meanings, True),
    ]
    for heading, items, bulleted in sections:
        if not any(items):
            continue
        lines += ["", *_heading(heading, "-")]
        for item in items:
            lines.append(_wrap(item, width, "    ", "  - ") if bulleted else _wrap(item, width))
    return "\n".join(lines)


def format_missing(
    catalogue: Catalogue, locale: str, wanted: set[int] | None, width: int = 80
) -> str:
    """What ``locale`` still shows in English, one table of a catalogue file per line."""
    missing = catalogue.untranslated(locale)
    if wanted is not None:
        missing = {key: fields for key, fields in missing.items() if _table_wanted(key, wanted)}
    if not missing:
        return f"{locale}: nothing falls back to English"
    lines = [f"{locale}: {len(missing)} tables fall back to English, in whole or in part"]
    for key, fields in missing.items():
        lines.append(_wrap(", ".join(fields), width, " " * 12, f"  [{key}]".ljust(12)))
    return "\n".join(lines)


def _table_wanted(key: str, wanted: set[int]) -> bool:
    if key.isdigit():
        return int(key) in wanted
    if key.endswith("xx"):
        base = int(key[0]) * 100
        return set(range(base, base + 100)) <= wanted
    return True  # the labels: every page shows them


def _cmd_explain(args: argparse.Namespace) -> int:
    catalogue = _load_catalogue(args)
    code = parse_code(args.code)
    locale = args.locale or DEFAULT_LOCALE
    info = catalogue.get(code, locale)
    fmt = "json" if args.json else _EXPLAIN_FORMATS[args.format]
    if fmt == "json":
        data = dataclasses.asdict(info)
        data["fault"] = info.fault.value
        print(json.dumps(data, indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        from friendly_errors.rendering import markdown_entry

        # The words and layout an agent gets in a Markdown error response, without the request.
        print(markdown_entry(catalogue, code, locale), end="")
    else:
        print(format_entry(info, _text.words(catalogue.labels(info.locale)), _width()))
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    catalogue = _load_catalogue(args)
    wanted = set(parse_codes(args.codes)) if args.codes else None
    if args.missing:
        locales = [args.locale] if args.locale else list(catalogue.locales[1:])
        print("\n\n".join(format_missing(catalogue, loc, wanted, _width()) for loc in locales))
        return 0
    locale = args.locale or DEFAULT_LOCALE
    for code in catalogue.codes(locale):
        if wanted is not None and code not in wanted:
            continue
        info = catalogue.get(code, locale)
        flag = "" if info.official else "  (unofficial)"
        print(f"{code}  {info.title}{flag}")
    return 0


def parse_port(value: str) -> int:
    text = value.strip()
    if not text.isdigit() or int(text) > 65535:
        raise UsageError(
            f"--port: {value!r} is not a port number (expected 1 to 65535, or 0 for any)"
        )
    return int(text)


_FORMAT_NAMES = {
    "html": "html",
    "json": "json",
    "txt": "text",
    "text": "text",
    "xml": "xml",
    "md": "markdown",
    "markdown": "markdown",
}
_EXPLAIN_FORMATS = {"text": "text", "json": "json", "markdown": "markdown", "md": "markdown"}


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _export_codes(value: str, catalogue: Catalogue) -> list[int]:
    """``--codes``: a class means the catalogue's codes in it, a code or range means exactly that.

    Expanding ``5xx`` to all hundred numbers would write pages for codes nobody sends; the catalogue
    knows which ones exist.
    """
    known = catalogue.codes()
    codes: set[int] = set()
    for part in _split(value):
        if len(part) == 3 and part[0] in "123456789" and part[1:].lower() == "xx":
            codes.update(c for c in known if c // 100 == int(part[0]))
        else:
            codes.update(parse_codes(part))
    for code in sorted(codes):
        if not 400 <= code <= 599:
            raise UsageError(f"--codes: {code} is not an error status (export writes 400 to 599)")
    if not codes:
        raise UsageError(f"--codes: {value!r} names no status code")
    return sorted(codes)


def _page_options(args: argparse.Namespace) -> dict[str, Any]:
    """The middleware options that shape a page, from the flags, checked the way the middleware does."""
    from friendly_errors.core import ErrorHandler

    for directory in args.template_dirs or ():
        if not os.path.isdir(directory):
            raise UsageError(f"--template-dir: {directory!r} is not a directory")
    options: dict[str, Any] = {
        "catalogue": _load_catalogue(args),
        "template_dirs": list(args.template_dirs or ()),
        "site_name": args.site_name,
        "home_url": args.home_url,
        "contact_url": args.contact_url,
    }
    try:
        ErrorHandler(**options)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    return options


def _cmd_demo(args: argparse.Namespace) -> int:
    from friendly_errors.demo import run_demo
    from friendly_errors.server import ServeError

    port = parse_port(args.port)
    try:
        run_demo(host=args.host, port=port)
    except ServeError as exc:
        raise UsageError(str(exc)) from None
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from friendly_errors.server import ErrorPageApp, ServeError, run_app

    port = parse_port(args.port)
    app = ErrorPageApp(**_page_options(args))
    # The app's log line per page carries ingress-nginx's context; without a handler it would be lost.
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    try:
        run_app(
            app,
            host=args.host,
            port=port,
            banner="friendly-errors serve: error pages on {url}/<code>, health on {url}/healthz "
            "(Ctrl+C stops it)",
        )
    except ServeError as exc:
        raise UsageError(str(exc)) from None
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from friendly_errors.export import ExportError, export
    from friendly_errors.negotiation import Format

    formats = []
    for name in _split(args.formats):
        if name.lower() not in _FORMAT_NAMES:
            raise UsageError(
                f"--formats: {name!r} is not a format (choose from html, json, txt, xml, md)"
            )
        formats.append(Format(_FORMAT_NAMES[name.lower()]))
    if not formats:
        raise UsageError("--formats: name at least one format")
    options = _page_options(args)
    codes = _export_codes(args.codes, options["catalogue"])
    try:
        result = export(
            args.directory,
            codes=codes,
            formats=formats,
            locales=_split(args.locales),
            error_page_server=args.error_page_server,
            **options,
        )
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    for warning in result.warnings:
        print(f"friendly-errors: warning: {warning}", file=sys.stderr)
    print(
        f"Wrote {result.pages} pages and configuration for nginx, Apache, Caddy, HAProxy and "
        f"Traefik to {result.directory} (see README.txt there)."
    )
    return 0


#: The shortest secret ``--secret`` takes: the bypass path is a password, and a short one is guessed.
MIN_SECRET = 16


def _cmd_down(args: argparse.Namespace) -> int:
    from friendly_errors.maintenance import MaintenanceFile, MaintenanceState

    if args.retry_after is not None and args.until is not None:
        raise UsageError("give --retry-after or --until, not both")
    if args.secret is not None and args.with_secret:
        raise UsageError("give --secret or --with-secret, not both")
    now = datetime.now(timezone.utc)
    until = _parse_until(args.until, now) if args.until is not None else None
    retry_after = None
    if args.retry_after is not None:
        text = args.retry_after.strip()
        if not text.isdigit() or len(text) > 9:
            raise UsageError(f"--retry-after: {args.retry_after!r} is not a number of seconds")
        retry_after = int(text)
    for path in args.allow or ():
        if not path.startswith("/") or any(char.isspace() for char in path) or "?" in path:
            raise UsageError(f"--allow: {path!r} is not a path (it must start with /)")
    secret = _secret(args)
    state = MaintenanceState(
        message=args.message.strip() or None if args.message is not None else None,
        retry_after=retry_after,
        until=until,
        allow_paths=tuple(args.allow or ()),
        secret=secret,
    )
    target = MaintenanceFile(args.file)
    try:
        target.write(state)
    except OSError as exc:
        raise CommandError(f"cannot write {args.file}: {exc.strerror or exc}") from None
    print(f"Maintenance is on: wrote {args.file}")
    for line in _describe(state, now):
        print(f"  {line}")
    print("Every middleware with this maintenance_file shows the maintenance page within a second;")
    print(f"`friendly-errors up {args.file}` opens the site again.")
    return 0


def _cmd_up(args: argparse.Namespace) -> int:
    from friendly_errors.maintenance import MaintenanceFile

    try:
        removed = MaintenanceFile(args.file).remove()
    except OSError as exc:
        raise CommandError(f"cannot remove {args.file}: {exc.strerror or exc}") from None
    if removed:
        print(f"Maintenance is off: removed {args.file}; requests reach the app within a second.")
    else:
        print(f"Maintenance was already off: {args.file} does not exist.")
    return 0


def _parse_until(value: str, now: datetime) -> datetime:
    """``--until``: ``HH:MM`` (the next such time in UTC) or a date and time (UTC unless it says)."""
    from friendly_errors.maintenance import parse_time

    text = value.strip()
    parts = text.split(":")
    if len(parts) == 2 and all(p.isdigit() and len(p) == 2 for p in parts):
        hour, minute = int(parts[0]), int(parts[1])
        if hour > 23 or minute > 59:
            raise UsageError(f"--until: {value!r} is not a time of day")
        until = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return until if until > now else until + timedelta(days=1)
    try:
        until = parse_time(text)
    except ValueError:
        raise UsageError(
            f"--until: {value!r} is not a time (give HH:MM in UTC, or a date and time such as "
            "2026-05-09T14:30Z)"
        ) from None
    if until <= now:
        raise UsageError(f"--until: {value!r} is in the past")
    return until


def _secret(args: argparse.Namespace) -> str | None:
    if args.with_secret:
        return secrets.token_urlsafe(24)
    if args.secret is None:
        return None
    if not re.fullmatch(r"[A-Za-z0-9._~-]+", args.secret):
        raise UsageError("--secret: use letters, digits and - . _ ~ only (it becomes a path)")
    if len(args.secret) < MIN_SECRET:
        raise UsageError(
            f"--secret: use at least {MIN_SECRET} characters, or --with-secret for a random one"
        )
    return str(args.secret)


def _describe(state: MaintenanceState, now: datetime) -> list[str]:
    """What ``down`` did, a line per setting, for the operator to check at a glance."""
    from friendly_errors._text import duration

    lines = [f"message:     {state.message or '(none)'}"]
    if state.until is not None:
        left = duration(int((state.until - now).total_seconds()))
        lines.append(f"until:       {state.until:%Y-%m-%d %H:%M} UTC (in {left})")
    elif state.retry_after is not None:
        lines.append(f"retry after: {state.retry_after} seconds")
    else:
        lines.append("retry after: not given (clients are asked to wait the 503 default, 120 s)")
    lines.append(f"let through: {', '.join(state.allow_paths) or '(none)'}")
    if state.secret is not None:
        lines.append(f"bypass path: /{state.secret}")
        lines.append("             (open it on the site to let that browser through; it is a")
        lines.append("             password: keep it private, and run `down` again to change it)")
    return lines


def _width() -> int:
    return max(40, min(80, shutil.get_terminal_size((80, 24)).columns))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="friendly-errors",
        description="Explain HTTP status codes, and serve friendly error pages for them.",
    )
    catalogue = argparse.ArgumentParser(add_help=False)
    catalogue.add_argument(
        "--catalogue",
        action="append",
        metavar="FILE",
        help="a TOML or JSON catalogue file layered on the built-in one (repeatable)",
    )
    catalogue.add_argument(
        "--plugins", action="store_true", help="layer installed catalogue plugins on top"
    )
    common = argparse.ArgumentParser(add_help=False, parents=[catalogue])
    common.add_argument("--locale", help="language of the text, e.g. ja or pt-BR (default: en)")
    # The middleware options that shape a page, for the commands that render pages.
    pages = argparse.ArgumentParser(add_help=False, parents=[catalogue])
    pages.add_argument(
        "--template-dir",
        action="append",
        dest="template_dirs",
        metavar="DIR",
        help="a directory of your own templates, searched before the built-in page (repeatable)",
    )
    pages.add_argument("--site-name", help="the site's name, shown on every page")
    pages.add_argument("--home-url", help="a link to the home page, shown on every page")
    pages.add_argument("--contact-url", help="a link to support, shown on every page")
    # Ports are read as text and checked by the handler, so a bad one is one line, not a usage dump.
    listen = argparse.ArgumentParser(add_help=False)
    listen.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    explain = sub.add_parser("explain", parents=[common], help="explain one status code")
    explain.add_argument("code", help="the status code, e.g. 524")
    shape = explain.add_mutually_exclusive_group()
    shape.add_argument(
        "--format",
        default="text",
        choices=list(_EXPLAIN_FORMATS),
        help="text for the terminal (default), json, or markdown (the words of a Markdown error "
        "response)",
    )
    shape.add_argument("--json", action="store_true", help="the same as --format json")
    explain.set_defaults(handler=_cmd_explain)

    listing = sub.add_parser("list", parents=[common], help="list the codes the catalogue knows")
    listing.add_argument(
        "codes", nargs="?", help="only these codes: a class, a range or a list, e.g. 5xx,404"
    )
    listing.add_argument(
        "--missing",
        action="store_true",
        help="instead, list what each language (or --locale's) still shows in English: the "
        "page's words and each entry's text fields, by the table of a catalogue file",
    )
    listing.set_defaults(handler=_cmd_list)

    demo = sub.add_parser(
        "demo",
        parents=[listen],
        help="run a small app that fails on purpose, to see the pages in a browser",
        description="Run a demo app wrapped in the middleware; its index page links to live "
        "examples of every kind of error. Needs the server extra: "
        "pip install 'friendly-http-errors[server]'.",
    )
    demo.add_argument("--port", default="8000", help="the port to listen on (default: 8000)")
    demo.set_defaults(handler=_cmd_demo)

    export = sub.add_parser(
        "export",
        parents=[pages],
        help="write the pages as static files, with nginx, Apache, Caddy, HAProxy and Traefik "
        "configuration",
        description="Render error pages to static files for a proxy to serve when the app is down, "
        "with ready-to-include configuration. DIR must be new, empty or an earlier export.",
    )
    export.add_argument("directory", metavar="DIR", help="where to write; replaced atomically")
    export.add_argument(
        "--codes",
        default="5xx,404",
        help="codes to export: classes, ranges or codes, e.g. 5xx,404 (default: 5xx,404; a "
        "class means the codes the catalogue knows in it)",
    )
    export.add_argument(
        "--formats",
        default="html,json,txt",
        help="formats to export, from html, json, txt, xml, md (default: html,json,txt)",
    )
    export.add_argument(
        "--locales", default="en", help="languages to export, e.g. en,fr (default: en)"
    )
    export.add_argument(
        "--error-page-server",
        default="http://127.0.0.1:8080",
        metavar="URL",
        help="where the Traefik snippet finds `friendly-errors serve` (default: "
        "http://127.0.0.1:8080)",
    )
    export.set_defaults(handler=_cmd_export)

    serve = sub.add_parser(
        "serve",
        parents=[pages, listen],
        help="run an error-page backend for Traefik's errors middleware and ingress-nginx",
        description="Answer /CODE and ingress-nginx's X-Code requests with the error page, with "
        "the real status, in the format the client asked for. Needs the server extra: "
        "pip install 'friendly-http-errors[server]'.",
    )
    serve.add_argument("--port", default="8080", help="the port to listen on (default: 8080)")
    serve.set_defaults(handler=_cmd_serve)

    down = sub.add_parser(
        "down",
        # Written out, because the pairs that exclude each other are checked by the handler, to
        # fail with one line like every other bad argument.
        usage="friendly-errors down FILE [--message TEXT] [--retry-after SECONDS | --until TIME] "
        "[--allow PATH ...] [--secret VALUE | --with-secret]",
        help="switch maintenance mode on: write the file the middlewares' maintenance_file names",
        description="Write FILE atomically; every middleware with maintenance_file=FILE answers "
        "with the maintenance page (503, Retry-After) within a second, in every worker.",
    )
    down.add_argument("file", metavar="FILE", help="the maintenance_file of the middlewares")
    down.add_argument("--message", metavar="TEXT", help="shown to visitors on the page")
    down.add_argument(
        "--retry-after", metavar="SECONDS", help="how long clients should wait (Retry-After)"
    )
    down.add_argument(
        "--until",
        metavar="TIME",
        help="when the work should end: HH:MM in UTC, or a date and time such as 2026-05-09T14:30Z",
    )
    down.add_argument(
        "--allow",
        action="extend",
        nargs="+",
        metavar="PATH",
        help="paths that still reach the app, such as /health; /api/* for a prefix",
    )
    down.add_argument(
        "--secret",
        metavar="VALUE",
        help=f"a bypass: /VALUE lets a browser through (at least {MIN_SECRET} characters)",
    )
    down.add_argument(
        "--with-secret", action="store_true", help="a bypass with a random secret, printed"
    )
    down.set_defaults(handler=_cmd_down)

    up = sub.add_parser("up", help="switch maintenance mode off: remove the file")
    up.add_argument("file", metavar="FILE", help="the maintenance_file of the middlewares")
    up.set_defaults(handler=_cmd_up)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args)
    except (UsageError, CatalogueError) as exc:
        print(f"friendly-errors: error: {exc}", file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"friendly-errors: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `friendly-errors list | head` closed the pipe: not an error worth a traceback. Point stdout
        # at devnull so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return result


if __name__ == "__main__":  # pragma: no cover - exercised through the console script
    sys.exit(main())
