"""The compatibility matrix as data: the frameworks, the servers, and the limitations that are theirs.

tests/compat/test_matrix.py runs every check for every framework on every server of its kind, and
scripts/compat_table.py writes docs/compatibility.md from a run's results, so the table, the footnotes
and the tests all read this one module.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Interface = Literal["asgi", "wsgi"]

#: The directory the servers run in: ``compat.apps...`` is importable from it.
TESTS_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Framework:
    #: The name in test ids and in the table: "litestar-middleware", "django".
    name: str
    #: What a reader calls it: "Litestar, in `middleware=[...]`".
    title: str
    interface: Interface
    #: The ``module:attribute`` a server is given.
    target: str
    #: Distributions that must be installed; the first one's version is the one reported.
    packages: tuple[str, ...]
    websocket: bool
    #: Whether the app sets up the framework's own CORS, so our 503 must carry its headers.
    cors: bool

    @property
    def module_path(self) -> Path:
        module = self.target.partition(":")[0]
        return TESTS_DIR / (module.replace(".", "/") + ".py")


@dataclass(frozen=True)
class Server:
    #: The name in test ids and in the table: "hypercorn-h2c".
    name: str
    title: str
    interface: Interface
    #: The command line; ``{app}``, ``{host}`` and ``{port}`` are filled in.
    argv: tuple[str, ...]
    packages: tuple[str, ...]
    #: How the client talks to it: HTTP/1.1, or HTTP/2 over cleartext with prior knowledge.
    protocol: Literal["http/1.1", "h2c"] = "http/1.1"
    websocket: bool = True


@dataclass(frozen=True)
class Limitation:
    """Something a framework or server does of its own accord, which a check asserts as it is."""

    key: str
    check: str
    frameworks: frozenset[str]
    servers: frozenset[str] = field(default_factory=frozenset)
    #: The sentence of the footnote.
    text: str = ""
    #: The upstream issue, where one was found.
    link: str = ""
    #: For HEAD refused on a GET-only route: the status the framework answers with.
    refusal: int = 0

    def applies(self, framework: Framework, server: Server) -> bool:
        return framework.name in self.frameworks and (
            not self.servers or server.name in self.servers
        )


def _python(*args: str) -> tuple[str, ...]:
    return (sys.executable, *args)


ASGI_FRAMEWORKS = (
    Framework(
        "fastapi", "FastAPI", "asgi", "compat.apps.fastapi_app:app", ("fastapi",), True, True
    ),
    Framework(
        "starlette",
        "Starlette",
        "asgi",
        "compat.apps.starlette_app:app",
        ("starlette",),
        True,
        True,
    ),
    Framework(
        "litestar",
        "Litestar, the app wrapped",
        "asgi",
        "compat.apps.litestar_app:app",
        ("litestar",),
        True,
        True,
    ),
    Framework(
        "litestar-middleware",
        "Litestar, in `middleware=[...]`",
        "asgi",
        "compat.apps.litestar_middleware_app:app",
        ("litestar",),
        True,
        True,
    ),
    Framework("quart", "Quart", "asgi", "compat.apps.quart_app:app", ("quart",), True, False),
    Framework(
        "django",
        "Django",
        "asgi",
        "compat.apps.django_project.asgi:application",
        ("django",),
        False,
        False,
    ),
    Framework(
        "falcon", "Falcon", "asgi", "compat.apps.falcon_asgi_app:app", ("falcon",), True, True
    ),
    Framework(
        "blacksheep",
        "BlackSheep",
        "asgi",
        "compat.apps.blacksheep_app:app",
        ("blacksheep",),
        True,
        True,
    ),
)

WSGI_FRAMEWORKS = (
    Framework("flask", "Flask", "wsgi", "compat.apps.flask_app:app", ("flask",), False, False),
    Framework(
        "django",
        "Django",
        "wsgi",
        "compat.apps.django_project.wsgi:application",
        ("django",),
        False,
        False,
    ),
    Framework(
        "falcon", "Falcon", "wsgi", "compat.apps.falcon_wsgi_app:app", ("falcon",), False, True
    ),
    Framework("bottle", "Bottle", "wsgi", "compat.apps.bottle_app:app", ("bottle",), False, False),
    Framework(
        "pyramid", "Pyramid", "wsgi", "compat.apps.pyramid_app:app", ("pyramid",), False, False
    ),
)

_UVICORN = _python("-m", "uvicorn", "{app}", "--host", "{host}", "--port", "{port}")
_HYPERCORN = _python("-m", "hypercorn", "{app}", "--bind", "{host}:{port}")
_GRANIAN = (str(BIN / "granian"), "--host", "{host}", "--port", "{port}", "--interface")
# --die-on-term: uWSGI takes SIGTERM for "reload" otherwise; --need-app: fail when the import fails.
_UWSGI = (
    str(BIN / "uwsgi"), "--master", "--die-on-term", "--need-app", "--http", "{host}:{port}",
    "--module", "{app}", "--home", sys.prefix,
)  # fmt: skip
_GUNICORN = _python("-m", "gunicorn", "--bind", "{host}:{port}", "--workers", "1")

ASGI_SERVERS = (
    Server(
        "uvicorn-h11", "uvicorn (h11)", "asgi", (*_UVICORN, "--http", "h11"), ("uvicorn", "h11")
    ),
    Server(
        "uvicorn-httptools",
        "uvicorn (httptools)",
        "asgi",
        (*_UVICORN, "--http", "httptools"),
        ("uvicorn", "httptools"),
    ),
    Server("hypercorn", "Hypercorn (HTTP/1.1)", "asgi", _HYPERCORN, ("hypercorn",)),
    Server(
        "hypercorn-h2c",
        "Hypercorn (h2c)",
        "asgi",
        _HYPERCORN,
        ("hypercorn", "h2"),
        protocol="h2c",
        # The websockets client speaks HTTP/1.1 only; RFC 8441 websockets over h2 go untested.
        websocket=False,
    ),
    Server(
        "daphne",
        "Daphne",
        "asgi",
        _python("-m", "daphne", "-b", "{host}", "-p", "{port}", "{app}"),
        ("daphne",),
    ),
    Server("granian", "Granian (ASGI)", "asgi", (*_GRANIAN, "asgi", "{app}"), ("granian",)),
)

WSGI_SERVERS = (
    Server("gunicorn-sync", "gunicorn (sync)", "wsgi", (*_GUNICORN, "{app}"), ("gunicorn",)),
    Server(
        "gunicorn-gthread",
        "gunicorn (gthread)",
        "wsgi",
        (*_GUNICORN, "--worker-class", "gthread", "--threads", "4", "{app}"),
        ("gunicorn",),
    ),
    Server(
        "waitress",
        "waitress",
        "wsgi",
        _python("-m", "waitress", "--listen={host}:{port}", "{app}"),
        ("waitress",),
    ),
    Server("granian-wsgi", "Granian (WSGI)", "wsgi", (*_GRANIAN, "wsgi", "{app}"), ("granian",)),
    Server("uwsgi", "uWSGI", "wsgi", _UWSGI, ("uWSGI",)),
    Server(
        "werkzeug",
        "Werkzeug's development server",
        "wsgi",
        _python("-m", "compat.serve_werkzeug", "{app}", "{host}", "{port}"),
        ("werkzeug",),
    ),
)

FRAMEWORKS = ASGI_FRAMEWORKS + WSGI_FRAMEWORKS
SERVERS = ASGI_SERVERS + WSGI_SERVERS

#: The checks, in the order they run for each pair, with the table's column headings.
CHECKS = {
    "error_page": "503 page",
    "exception": "exception",
    "pass_through": "200 and 404 untouched",
    "streaming": "streamed 200",
    "head": "HEAD",
    "websocket": "websocket",
    "server_log": "server log",
}

_HEAD_REFUSED = (
    "{framework} answers HEAD with {status} unless the route lists HEAD (the test apps list it for "
    "the 503); the test asserts the {status} on `/hello`, which lists GET only, with and without "
    "friendly_errors."
)

LIMITATIONS = (
    Limitation(
        "fastapi-head",
        "head",
        frozenset({"fastapi"}),
        text=_HEAD_REFUSED.format(framework="FastAPI", status="405 Method Not Allowed"),
        link="https://github.com/fastapi/fastapi/issues/1773",
        refusal=405,
    ),
    Limitation(
        "litestar-head",
        "head",
        frozenset({"litestar", "litestar-middleware"}),
        text=_HEAD_REFUSED.format(framework="Litestar", status="405 Method Not Allowed"),
        refusal=405,
    ),
    Limitation(
        "falcon-head",
        "head",
        frozenset({"falcon"}),
        text=_HEAD_REFUSED.format(framework="Falcon", status="405 Method Not Allowed")
        + " A resource gets HEAD with `on_head = on_get`.",
        refusal=405,
    ),
    Limitation(
        "blacksheep-head",
        "head",
        frozenset({"blacksheep"}),
        text=_HEAD_REFUSED.format(framework="BlackSheep", status="404 Not Found")
        + " A route gets HEAD with a `@head` decorator beside `@get`.",
        refusal=404,
    ),
    Limitation(
        "quart-daphne-websocket",
        "websocket",
        frozenset({"quart"}),
        frozenset({"daphne"}),
        text="Quart's websocket routes fail on Daphne with `KeyError: 'scheme'`: Daphne leaves out "
        "the websocket scope's optional `scheme` key, which Quart reads. The test asserts the "
        "failed handshake and the KeyError in the log, with and without friendly_errors.",
        link="https://github.com/django/daphne/issues/538",
    ),
)


def limitations(check: str, framework: Framework, server: Server) -> dict[str, Limitation]:
    """The limitations a check of this pair meets, by key."""
    return {
        known.key: known
        for known in LIMITATIONS
        if known.check == check and known.applies(framework, server)
    }


@dataclass(frozen=True)
class Pair:
    framework: Framework
    server: Server

    @property
    def id(self) -> str:
        return f"{self.framework.name}-{self.server.name}"


PAIRS = tuple(
    Pair(framework, server)
    for framework in FRAMEWORKS
    for server in SERVERS
    if framework.interface == server.interface
)
