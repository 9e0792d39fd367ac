"""The ``friendly-errors`` command: the catalogue in a terminal.

Every failure a user can cause (a bad code, an unknown flag, an unreadable catalogue file) ends with one
line on stderr and a non-zero exit, never a traceback: this is a tool people run while something else is
already broken.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import textwrap
from collections.abc import Sequence

from friendly_errors.catalogue import Catalogue, CatalogueError, Fault, StatusInfo

__all__ = ["main"]

_FAULT_LABELS = {
    Fault.NONE: "nobody (not an error)",
    Fault.CLIENT: "the client (the request must change)",
    Fault.SERVER: "the server (the origin failed)",
    Fault.INTERMEDIARY: "an intermediary (a CDN, proxy or gateway could not get an answer from the origin)",
}


class UsageError(Exception):
    """A mistake in what the user typed; reported as one line with exit status 2."""


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


def _wrap(text: str, width: int, indent: str = "") -> str:
    # URLs and header names must survive wrapping whole, or they cannot be copied.
    return textwrap.fill(
        text,
        width,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def format_entry(info: StatusInfo, width: int = 80) -> str:
    """The entry as a terminal page: the facts first, then what to do."""
    kind = "official" if info.official else "unofficial"
    lines = [f"{info.code} {info.title}", "=" * min(width, len(f"{info.code} {info.title}")), ""]
    lines.append(_wrap(info.summary, width))
    lines.append("")
    lines.append(_wrap(f"Whose fault: {_FAULT_LABELS[info.fault]}", width))
    lines.append(_wrap(f"Retrying: {'may help' if info.retryable else 'will not help'}", width))
    lines.append(_wrap(f"Defined by: {info.spec} ({kind}) {info.spec_url}", width))
    if info.headers:
        lines.append(_wrap("Headers that matter: " + ", ".join(info.headers), width))
    sections = [
        ("What it means", (info.description,), False),
        ("Other meanings", info.other_meanings, True),
        ("Common causes", info.causes, True),
        ("What a visitor can do", info.visitor_fixes, True),
        ("What developers and admins can do", info.developer_fixes, True),
    ]
    for heading, items, bulleted in sections:
        if not items:
            continue
        lines += ["", heading, "-" * len(heading)]
        for item in items:
            if bulleted:
                lines.append(
                    textwrap.fill(
                        item,
                        width,
                        initial_indent="  - ",
                        subsequent_indent="    ",
                        break_long_words=False,
                        break_on_hyphens=False,
                    )
                )
            else:
                lines.append(_wrap(item, width))
    return "\n".join(lines)


def _cmd_explain(args: argparse.Namespace) -> int:
    info = _load_catalogue(args).get(parse_code(args.code), args.locale)
    if args.json:
        data = dataclasses.asdict(info)
        data["fault"] = info.fault.value
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(format_entry(info, _width()))
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    catalogue = _load_catalogue(args)
    wanted = set(parse_codes(args.codes)) if args.codes else None
    for code in catalogue.codes(args.locale):
        if wanted is not None and code not in wanted:
            continue
        info = catalogue.get(code, args.locale)
        flag = "" if info.official else "  (unofficial)"
        print(f"{code}  {info.title}{flag}")
    return 0


def _width() -> int:
    return max(40, min(80, shutil.get_terminal_size((80, 24)).columns))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="friendly-errors",
        description="Explain HTTP status codes, and serve friendly error pages for them.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--locale", default="en", help="language of the text (default: en)")
    common.add_argument(
        "--catalogue",
        action="append",
        metavar="FILE",
        help="a TOML or JSON catalogue file layered on the built-in one (repeatable)",
    )
    common.add_argument(
        "--plugins", action="store_true", help="layer installed catalogue plugins on top"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    explain = sub.add_parser("explain", parents=[common], help="explain one status code")
    explain.add_argument("code", help="the status code, e.g. 524")
    explain.add_argument("--json", action="store_true", help="print the entry as JSON")
    explain.set_defaults(handler=_cmd_explain)

    listing = sub.add_parser("list", parents=[common], help="list the codes the catalogue knows")
    listing.add_argument(
        "codes", nargs="?", help="only these codes: a class, a range or a list, e.g. 5xx,404"
    )
    listing.set_defaults(handler=_cmd_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args)
    except (UsageError, CatalogueError) as exc:
        print(f"friendly-errors: error: {exc}", file=sys.stderr)
        return 2
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
