"""What FriendlyErrorsMiddleware costs: on a 200 it passes through, and on the error path (#10).

Run ``python benchmarks/bench_asgi.py`` (in process, under a minute) or with ``--http`` (uvicorn
subprocesses on 127.0.0.1 and the load generator in ``_load.py``, a few minutes). Every figure is a
ratio between contenders measured side by side in one run: interleaved rounds, the median of the
per-round ratios (``_timing.py``).

In process, each contender is driven directly: the apps never suspend, so one ``coroutine.send(None)``
runs a whole request with no event loop in the way, and what is timed is the middleware's own work.

* Pass-through on a 200: the total time per request through FriendlyErrorsMiddleware against a no-op
  middleware that only wraps ``send`` (at most 1.15x), and against Starlette's
  ``ServerErrorMiddleware`` (no slower); and the same with ``maintenance_file`` set and the file
  absent, against the no-op wrapper and against ours without the option (#13).
* The error path: the app answers 503 and the middleware replaces it with the built-in HTML page. A
  repeated error (the same path each time) and an error on a path never seen before are each timed
  against a bare ``Template.render`` of the same built-in page with the same values (at most 0.3x),
  and against each other (the never-seen path at most 1.3x the repeated one). The problem+json
  answer to the same 503 is timed against ``json.dumps`` of the same document (at most 2x). Floor
  middlewares (``LeastErrorMiddleware``) send the same responses with the least work any design
  must do, so a missed target can be told from one that sits at its floor.

Over HTTP (uvicorn, httptools): pass-through throughput against the no-op wrapper (at least 97%),
with two identical no-op servers as a control of the noise; and, with no target, the HTML error page
against a bare app's plain 500, for a repeated path and for a new path on every request.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import html
import itertools
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from _load import BROWSER_ACCEPT, Load, pin, throughput
from _servers import HOST, serving
from _timing import Measure, Target, interleave, print_times, ratio
from starlette.middleware.errors import ServerErrorMiddleware

from friendly_errors import _problem
from friendly_errors._memo import PageMemo
from friendly_errors.asgi import FriendlyErrorsMiddleware
from friendly_errors.negotiation import Format

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Any], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

HERE = Path(__file__).resolve().parent

# -- the apps (also imported by the uvicorn subprocesses in --http mode) -------------------------


def _response(status: int, content_type: bytes, body: bytes) -> tuple[Message, Message]:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    return (
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    )


OK = _response(200, b"text/plain", b"hello")
#: What a FastAPI app sends for ``HTTPException(503, DETAIL)``: the page quotes the detail.
DETAIL = "Orders are paused for maintenance"
BUSY = _response(503, b"application/json", json.dumps({"detail": DETAIL}).encode())
PLAIN_500 = _response(500, b"text/plain", b"Internal Server Error")


async def bare(scope: Scope, receive: Receive, send: Send) -> None:
    """The app every contender wraps: ``/`` is a 200, ``/503...`` a 503, ``/500...`` a plain 500."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    start, body = OK if path == "/" else BUSY if path.startswith("/503") else PLAIN_500
    await send(start)
    await send(body)


class NoOpMiddleware:
    """The floor: wraps ``send`` in a closure, as any response-watching middleware must."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            await send(message)

        await self.app(scope, receive, wrapped)


class _FloorResponder:
    """The least a responder object can be: what it wraps and a flag, nothing for the slow path."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self.server_receive = receive
        self.server_send = send
        self.passing = False

    def receive(self) -> Awaitable[Message]:
        # Ours watches receive for a client that hangs up; here only the call is paid for.
        return self.server_receive()

    def send(self, message: Message) -> Awaitable[None]:
        if self.passing:
            return self.server_send(message)
        if message["type"] == "http.response.start" and message["status"] not in _INTERCEPTED:
            self.passing = True
            return self.server_send(message)
        raise NotImplementedError("the floor only passes responses through")


_INTERCEPTED = frozenset(range(500, 600))


class ResponderFloor:
    """A floor for the pass-through: one responder object per request, with an ``__init__``, as #10
    asks of ours, handing the app its ``receive`` and ``send`` as ours does, and the one status
    check. Not a usable middleware: it cannot replace anything, nor see an exception or a client
    that hangs up; it shows what that structure costs at the least."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        responder = _FloorResponder(receive, send)
        await self.app(scope, responder.receive, responder.send)


class LeastErrorMiddleware:
    """A floor for the error path: the least any middleware does to send our response to the 503.

    It holds the app's 503, reads the app's JSON body for its detail, makes a request ID as ours
    does (``secrets.token_hex(16)``) and sends our response with that ID and that detail in it,
    spliced into our page (or problem document) cut in advance where the two go; or, given
    ``document``, by copying our problem document and dumping it, as a design that builds the
    document per request must. No negotiation, no header rules, no time, no path; not a usable
    middleware, only the cost no such design avoids. ``tests/test_benchmarks.py`` checks it sends
    what FriendlyErrorsMiddleware sends, the ID aside.
    """

    def __init__(
        self, app: App, prepared: tuple[Message, Message], document: dict[str, Any] | None = None
    ) -> None:
        self.app = app
        start, body = prepared
        headers = dict(start["headers"])
        request_id = headers.pop(b"x-request-id")
        self.headers = list(headers.items())
        self.json = dict(headers)[b"content-type"].startswith(b"application/")
        page = body["body"].replace(request_id, b"\0").replace(DETAIL.encode(), b"\1")
        self.pieces = [piece.split(b"\1") for piece in page.split(b"\0")]
        self.document = document

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        held: list[bytes] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                if message["status"] != 503:
                    raise NotImplementedError("the floor only answers the benchmark's 503")
            else:
                held.append(message["body"])

        await self.app(scope, receive, watch)
        detail = json.loads(b"".join(held))["detail"]
        request_id = secrets.token_hex(16)
        if self.document is not None:
            document = self.document.copy()
            document["detail"] = detail
            document["request_id"] = request_id
            body = json.dumps(document).encode()
        else:
            shown = (json.dumps(detail)[1:-1] if self.json else html.escape(detail)).encode()
            body = request_id.encode().join(shown.join(parts) for parts in self.pieces)
        headers = [*self.headers, (b"x-request-id", request_id.encode())]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})


noop = NoOpMiddleware(bare)
starlette_errors = ServerErrorMiddleware(bare)
responder_floor = ResponderFloor(bare)
ours = FriendlyErrorsMiddleware(bare)
# A maintenance file that is never created: what the option costs a site that is up (#13).
_MAINTENANCE_DIR = tempfile.mkdtemp(prefix="friendly-errors-bench-")
atexit.register(shutil.rmtree, _MAINTENANCE_DIR, True)
ours_maintenance = FriendlyErrorsMiddleware(
    bare, maintenance_file=os.path.join(_MAINTENANCE_DIR, "maintenance.json")
)

# -- driving an app in process -------------------------------------------------------------------


def scope_for(path: str, accept: str = BROWSER_ACCEPT) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), (b"accept", accept.encode())],
        "client": (HOST, 50000),
        "server": (HOST, 8000),
    }


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _discard(message: Message) -> None:
    return None


def serve(app: App, scope: Scope, send: Send = _discard) -> None:
    """One request, run to completion in a single ``send(None)``."""
    coroutine = app(scope, receive, send)
    try:
        coroutine.send(None)  # type: ignore[attr-defined]
    except StopIteration:
        return
    raise RuntimeError("the app suspended; the in-process bench needs one that does not")


def sent(app: App, scope: Scope) -> list[Message]:
    """The messages ``app`` sends for ``scope``."""
    messages: list[Message] = []

    async def keep(message: Message) -> None:
        messages.append(message)

    serve(app, scope, keep)
    return messages


def same_scope(app: App, scope: Scope) -> Measure:
    """Seconds per request, with one scope for all: nothing on the pass-through path changes it."""

    def measure(n: int) -> float:
        started = time.thread_time()
        for _ in range(n):
            serve(app, scope)
        return (time.thread_time() - started) / n

    return measure


_NUMBERS = itertools.count()


def new_scopes(app: App, path: str, accept: str, *, unique: bool) -> Measure:
    """Seconds per request, each with a scope of its own (the middleware marks a scope it answered).

    With ``unique``, each path is one this process has never served. The scopes are made before the
    clock starts, the same way for every contender.
    """
    template = scope_for(path, accept)

    def measure(n: int) -> float:
        if unique:
            scopes = [{**template, "path": f"{path}/{next(_NUMBERS)}"} for _ in range(n)]
        else:
            scopes = [{**template} for _ in range(n)]
        started = time.thread_time()
        for scope in scopes:
            serve(app, scope)
        return (time.thread_time() - started) / n

    return measure


def repeat(function: Callable[[], object]) -> Measure:
    def measure(n: int) -> float:
        started = time.thread_time()
        for _ in range(n):
            function()
        return (time.thread_time() - started) / n

    return measure


# -- the baselines of the error path --------------------------------------------------------------


def template_baseline() -> tuple[Any, dict[str, Any]]:
    """The built-in page's template and the very values it gets for our 503, rendered in full.

    Captured from a twin middleware serving the same request, whose renderer is told that no page
    can be cut, so it renders the page in full with the request's own values (docs/templates.md's
    context, the app's detail, the request ID, the time).
    """
    twin = FriendlyErrorsMiddleware(bare)
    renderer = twin.handler.renderer
    setattr(renderer, "_cut", lambda *args, **kwargs: None)  # noqa: B010 - shadowed on one instance
    template, builtin = renderer._template(503, Format.HTML)
    assert template is not None and builtin
    seen: list[dict[str, Any]] = []
    render = template.render

    def spy(context: dict[str, Any]) -> str:
        seen.append(context)
        return render(context)

    setattr(template, "render", spy)  # noqa: B010 - mypy forbids assigning to a method
    try:
        sent(twin, scope_for("/503"))
    finally:
        delattr(template, "render")
    (context,) = seen
    return template, context


def problem_baseline() -> dict[str, Any]:
    """The problem document our problem+json answer to the 503 is made from, taken from a twin
    whose memo is off, so that it builds the document."""
    seen: list[dict[str, Any]] = []
    json_text = _problem.json_text

    def spy(problem: Mapping[str, Any]) -> str:
        seen.append(dict(problem))
        return json_text(problem)

    twin = FriendlyErrorsMiddleware(bare)
    twin.handler.renderer.memo = PageMemo(max_entries=0)
    _problem.json_text = spy
    try:
        sent(twin, scope_for("/503", "application/json"))
    finally:
        _problem.json_text = json_text
    (problem,) = seen
    return problem


# -- in process ----------------------------------------------------------------------------------

RESPONDER_FLOOR = "floor: one responder object, status check"
PASS_THROUGH = {
    "bare app": same_scope(bare, scope_for("/")),
    "no-op send wrapper": same_scope(noop, scope_for("/")),
    "Starlette ServerErrorMiddleware": same_scope(starlette_errors, scope_for("/")),
    RESPONDER_FLOOR: same_scope(responder_floor, scope_for("/")),
    "FriendlyErrorsMiddleware": same_scope(ours, scope_for("/")),
    "ours, maintenance_file set (absent)": same_scope(ours_maintenance, scope_for("/")),
}
PASS_THROUGH_TARGETS = (
    Target("200 through ours / through the no-op wrapper", "FriendlyErrorsMiddleware",
           "no-op send wrapper", 1.15),
    Target("200 through ours / through ServerErrorMiddleware", "FriendlyErrorsMiddleware",
           "Starlette ServerErrorMiddleware", 1.0),
    Target("200, maintenance_file set / through the no-op wrapper",
           "ours, maintenance_file set (absent)", "no-op send wrapper", 1.15),
)  # fmt: skip
#: No target of its own beyond the one above: what the option adds, side by side (#13).
MAINTENANCE_COST = (
    "200, maintenance_file set / ours without it",
    "ours, maintenance_file set (absent)",
    "FriendlyErrorsMiddleware",
)

#: How far the structure #10 asks for sits from each target's baseline, and ours from it.
PASS_THROUGH_FLOORS = (
    ("floor: one responder object / the no-op wrapper", RESPONDER_FLOOR, "no-op send wrapper"),
    ("floor: one responder object / ServerErrorMiddleware", RESPONDER_FLOOR,
     "Starlette ServerErrorMiddleware"),
    ("200 through ours / floor: one responder object", "FriendlyErrorsMiddleware",
     RESPONDER_FLOOR),
)  # fmt: skip

LEAST_HTML = "floor: the same HTML response spliced"
LEAST_JSON = "floor: the same problem+json spliced"
DUMPED_JSON = "floor: the same problem+json, document dumped"
REPEATED = "HTML 503, repeated path"
UNIQUE = "HTML 503, a never-seen path each time"
TEMPLATE = "bare Template.render of the same page"
JSON_503 = "problem+json 503"
DUMPS = "json.dumps of the same document"
ERROR_TARGETS = (
    Target("repeated error / Template.render", REPEATED, TEMPLATE, 0.3),
    Target("never-seen path / Template.render", UNIQUE, TEMPLATE, 0.3),
    Target("never-seen path / repeated error (no cliff)", UNIQUE, REPEATED, 1.3),
    Target("problem+json / json.dumps", JSON_503, DUMPS, 2.0),
)
FLOORS = (
    ("floor for HTML / Template.render", LEAST_HTML, TEMPLATE),
    ("repeated error / floor for HTML", REPEATED, LEAST_HTML),
    ("floor for problem+json, spliced / json.dumps", LEAST_JSON, DUMPS),
    ("floor for problem+json, dumped / json.dumps", DUMPED_JSON, DUMPS),
    ("problem+json / floor for problem+json, dumped", JSON_503, DUMPED_JSON),
)


def floors() -> dict[str, LeastErrorMiddleware]:
    """The floor middlewares, prepared from what ours sends for the same two requests."""
    page = sent(ours, scope_for("/503"))
    document = sent(ours, scope_for("/503", "application/json"))
    return {
        LEAST_HTML: LeastErrorMiddleware(bare, (page[0], page[1])),
        LEAST_JSON: LeastErrorMiddleware(bare, (document[0], document[1])),
        DUMPED_JSON: LeastErrorMiddleware(bare, (document[0], document[1]), problem_baseline()),
    }


def error_path() -> dict[str, Measure]:
    template, context = template_baseline()
    problem = problem_baseline()
    least = floors()
    return {
        LEAST_HTML: new_scopes(least[LEAST_HTML], "/503", BROWSER_ACCEPT, unique=False),
        LEAST_JSON: new_scopes(least[LEAST_JSON], "/503", "application/json", unique=False),
        DUMPED_JSON: new_scopes(least[DUMPED_JSON], "/503", "application/json", unique=False),
        REPEATED: new_scopes(ours, "/503", BROWSER_ACCEPT, unique=False),
        UNIQUE: new_scopes(ours, "/503", BROWSER_ACCEPT, unique=True),
        TEMPLATE: repeat(lambda: template.render(context)),
        JSON_503: new_scopes(ours, "/503", "application/json", unique=False),
        DUMPS: repeat(lambda: json.dumps(problem)),
    }


def in_process(rounds: int, scale: float) -> bool:
    print(f"In process: {rounds} interleaved rounds, median per request\n")
    samples = interleave(PASS_THROUGH, rounds, int(100_000 * scale))
    print("Pass-through, a 200")
    print_times(samples, "ns")
    passing = [target.line(samples) for target in PASS_THROUGH_TARGETS]
    label, contender, baseline = MAINTENANCE_COST
    passing.append(f"  {label:<58}{ratio(samples, contender, baseline):>8.3f}x")
    for label, contender, baseline in PASS_THROUGH_FLOORS:
        passing.append(f"  {label:<58}{ratio(samples, contender, baseline):>8.3f}x")
    met = all(target.check(samples)[1] for target in PASS_THROUGH_TARGETS)
    samples = interleave(error_path(), rounds, int(1_000 * scale))
    print("\nThe error path, a 503 replaced by the built-in page (a browser's Accept)")
    print_times(samples, "us")
    errors = [target.line(samples) for target in ERROR_TARGETS]
    met = met and all(target.check(samples)[1] for target in ERROR_TARGETS)
    print("\nRatios (median of per-round ratios)")
    print("\n".join(passing + errors))
    print("\nThe floors (no target: what any middleware pays, and how far above it we are)")
    for label, contender, baseline in FLOORS:
        print(f"  {label:<58}{ratio(samples, contender, baseline):>8.3f}x")
    return met


# -- over HTTP -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _server(app_name: str) -> Iterator[int]:
    """One uvicorn process serving ``bench_asgi:<app_name>``; stopped by its PID, always."""

    def command(port: int) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", f"bench_asgi:{app_name}", "--app-dir", str(HERE),
            "--host", HOST, "--port", str(port), "--http", "httptools", "--loop", "asyncio",
            "--no-access-log", "--log-level", "warning", "--lifespan", "off",
        ]  # fmt: skip

    with serving(command) as port:
        yield port


OK_ROOT = Load("/")
PAIRS: dict[str, tuple[tuple[str, Load], tuple[str, Load], float | None]] = {
    # name: (contender, baseline, lowest ratio wanted); each side is (server, what to send)
    "pass-through 200: ours / no-op wrapper": (("ours", OK_ROOT), ("noop", OK_ROOT), 0.97),
    # The same with maintenance_file set and the file absent (#13).
    "pass-through 200, maintenance_file set / no-op wrapper": (
        ("ours-maintenance", OK_ROOT),
        ("noop", OK_ROOT),
        0.97,
    ),
    "control: no-op / an identical no-op": (("noop-twin", OK_ROOT), ("noop", OK_ROOT), None),
    "HTML 503 page / bare plain 500, repeated path": (
        ("ours", Load("/503", status=503)),
        ("bare", Load("/500", status=500)),
        None,
    ),
    "HTML 503 page / bare plain 500, a new path each time": (
        ("ours", Load("/503", unique=True, status=503)),
        ("bare", Load("/500", unique=True, status=500)),
        None,
    ),
}


def over_http(seconds: float, rounds: int, connections: int, depth: int) -> bool:
    print(
        f"Over HTTP: uvicorn (httptools, asyncio, one process per app), {connections} keep-alive "
        f"connections x {depth} pipelined requests, {seconds:g} s per run, {rounds} rounds; each "
        "round runs a contender and its baseline back to back, alternating which goes first\n"
    )
    pin(1)  # the servers inherit CPU 1 ...
    with contextlib.ExitStack() as stack:
        ports = {
            name: stack.enter_context(_server(app))
            for name, app in (("bare", "bare"), ("noop", "noop"), ("noop-twin", "noop"),
                              ("ours", "ours"), ("ours-maintenance", "ours_maintenance"))
        }  # fmt: skip
        pin(0)  # ... and the load generator moves to CPU 0

        def measure(side: tuple[str, Load], length: float) -> float:
            server, load = side
            return throughput(
                ports[server], load, seconds=length, connections=connections, depth=depth
            )

        for contender, baseline, _ in PAIRS.values():  # warm up every route
            measure(contender, 0.3)
            measure(baseline, 0.3)
        samples: dict[str, list[float]] = {}
        for round_number in range(rounds):
            for name, (contender, baseline, _) in PAIRS.items():
                if round_number % 2:
                    base = measure(baseline, seconds)
                    ours_rate = measure(contender, seconds)
                else:
                    ours_rate = measure(contender, seconds)
                    base = measure(baseline, seconds)
                samples.setdefault(f"{name} [c]", []).append(ours_rate)
                samples.setdefault(f"{name} [b]", []).append(base)
    print(f"  {'comparison':<56}{'contender':>11}{'baseline':>11}{'ratio':>8}  target")
    met = True
    for name, (_, _, wanted) in PAIRS.items():
        measured = ratio(samples, f"{name} [c]", f"{name} [b]")
        contender_rate = sorted(samples[f"{name} [c]"])[rounds // 2]
        baseline_rate = sorted(samples[f"{name} [b]"])[rounds // 2]
        verdict = "-"
        if wanted is not None:
            verdict = f">= {wanted:.0%} {'met' if measured >= wanted else 'MISSED'}"
            met = met and measured >= wanted
        print(
            f"  {name:<56}{contender_rate:>9,.0f}/s{baseline_rate:>9,.0f}/s{measured:>8.1%}  "
            f"{verdict}"
        )
    print("\n  ratio: median over rounds of contender / baseline within the round; the control")
    print("  shows how far apart two identical servers measure on this machine right now.")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--http", action="store_true", help="measure over HTTP with uvicorn")
    parser.add_argument("--rounds", type=int, default=21, help="interleaved rounds")
    parser.add_argument("--scale", type=float, default=1.0, help="requests per sample, scaled")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one HTTP run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--depth", type=int, default=8, help="pipelined requests per connection")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    print(f"Python {sys.version.split()[0]} on {sys.platform}, {os.cpu_count()} CPUs, load "
          f"average {os.getloadavg()[0]:.2f} at the start")  # fmt: skip
    if args.http:
        met = over_http(args.seconds, args.rounds, args.connections, args.depth)
    else:
        met = in_process(args.rounds, args.scale)
    print(f"\nLoad average {os.getloadavg()[0]:.2f} at the end")
    return 0 if met or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
