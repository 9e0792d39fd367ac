"""What error trackers and tracing record of a crash, with and without the middleware (#11).

A team that adds this package must not silently stop hearing about crashes: with every documented
setup, Sentry records the exception exactly once with its traceback, and an OpenTelemetry server
span records what it records without us (error status, exception event). Each scenario runs in a
subprocess of its own, since sentry-sdk and the instrumentations patch frameworks for the whole
process; it prints what was recorded as JSON, and the test compares the run with the middleware to
the run without it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

SENTRY = """
import sentry_sdk
from sentry_sdk.transport import Transport

envelopes = []


class Recorder(Transport):
    # Keeps what would be sent, in memory: nothing leaves the machine.
    def capture_envelope(self, envelope):
        envelopes.append(envelope)


sentry_sdk.init(dsn="https://key@o0.ingest.example.invalid/0", transport=Recorder)


def recorded():
    sentry_sdk.flush()
    events = [i.payload.json for e in envelopes for i in e.items if i.type == "event"]
    return [
        {
            "types": [v["type"] for v in event["exception"]["values"]],
            "frames": len(event["exception"]["values"][-1]["stacktrace"]["frames"]) > 0,
        }
        for event in events
    ]
"""

OTEL = """
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)


def recorded():
    spans = [s for s in exporter.get_finished_spans() if s.kind == trace.SpanKind.SERVER]
    return [
        {
            "status": s.status.status_code.name,
            "exceptions": [e.attributes.get("exception.type") for e in s.events
                           if e.name == "exception"],
        }
        for s in spans
    ]
"""

ASGI_CLIENT = """
import asyncio, httpx


def fetch(app):
    async def go():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.get("/boom", headers={"accept": "text/html"})
    response = asyncio.run(go())
    return response.status_code, response.text
"""

WSGI_CLIENT = """
from werkzeug.test import Client


def fetch(app):
    try:
        response = Client(app).get("/boom", headers={"accept": "text/html"})
    except RuntimeError:
        return 500, ""  # what a WSGI server answers to an exception that reaches it
    return response.status_code, response.get_data(as_text=True)
"""

STARLETTE_APP = """
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from friendly_errors import FriendlyErrorsMiddleware


def boom(request):
    raise RuntimeError("tracked")
"""

SCENARIOS: dict[str, str] = {
    # The README's FastAPI setup.
    "sentry-fastapi": SENTRY
    + ASGI_CLIENT
    + """
from fastapi import FastAPI
from friendly_errors import FriendlyErrorsMiddleware

app = FastAPI()


@app.get("/boom")
def boom():
    raise RuntimeError("tracked")


if OURS:
    app.add_middleware(FriendlyErrorsMiddleware)
""",
    "sentry-starlette": SENTRY
    + ASGI_CLIENT
    + STARLETTE_APP
    + """
middleware = [Middleware(FriendlyErrorsMiddleware)] if OURS else []
app = Starlette(routes=[Route("/boom", boom)], middleware=middleware)
""",
    # The README's "wrap any ASGI app" form.
    "sentry-starlette-wrapped": SENTRY
    + ASGI_CLIENT
    + STARLETTE_APP
    + """
app = Starlette(routes=[Route("/boom", boom)])
if OURS:
    app = FriendlyErrorsMiddleware(app)
""",
    "sentry-flask": SENTRY
    + WSGI_CLIENT
    + """
from flask import Flask
from friendly_errors.integrations.flask import init_app

app = Flask("tracked")


@app.get("/boom")
def boom():
    raise RuntimeError("tracked")


if OURS:
    init_app(app)
""",
    "sentry-django": SENTRY
    + WSGI_CLIENT
    + """
import django
from django.conf import settings
from django.urls import path

settings.configure(
    DEBUG=False, ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__, SECRET_KEY="test", MIDDLEWARE=[],
    LOGGING_CONFIG=None,
)


def boom(request):
    raise RuntimeError("tracked")


urlpatterns = [path("boom", boom)]
if OURS:
    from friendly_errors.integrations.django import get_wsgi_application
else:
    from django.core.wsgi import get_wsgi_application
app = get_wsgi_application()
""",
    # Tracing wraps the whole app, outside the middleware.
    "otel-asgi": OTEL
    + ASGI_CLIENT
    + STARLETTE_APP
    + """
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

middleware = [Middleware(FriendlyErrorsMiddleware)] if OURS else []
app = OpenTelemetryMiddleware(Starlette(routes=[Route("/boom", boom)], middleware=middleware))
""",
    # WSGI: tracing goes inside the middleware (docs/wsgi.md), where the exception still passes.
    "otel-wsgi": OTEL
    + WSGI_CLIENT
    + """
from flask import Flask
from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware
from friendly_errors.integrations.flask import init_app

app = Flask("traced")
app.config["PROPAGATE_EXCEPTIONS"] = True  # so that the exception reaches the WSGI layers


@app.get("/boom")
def boom():
    raise RuntimeError("tracked")


app.wsgi_app = OpenTelemetryMiddleware(app.wsgi_app)
if OURS:
    init_app(app, propagate_exceptions=False)
""",
}

RUN = """
status, body = fetch(app)
ours = '<body class="fault-' in body
print(json.dumps({"status": status, "ours": ours, "recorded": recorded()}))
"""


def _run(scenario: str, ours: bool, tmp_path: Path) -> dict[str, Any]:
    script = tmp_path / f"{scenario}-{ours}.py"
    script.write_text(
        f"import json\nOURS = {ours}\n" + textwrap.dedent(SCENARIOS[scenario]) + RUN,
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_crash_is_recorded_as_it_is_without_the_middleware(scenario: str, tmp_path: Path) -> None:
    bare = _run(scenario, False, tmp_path)
    ours = _run(scenario, True, tmp_path)
    assert bare["status"] == ours["status"] == 500
    assert ours["ours"] and not bare["ours"]
    assert ours["recorded"] == bare["recorded"]
    if scenario.startswith("sentry"):
        # Exactly once, with its traceback.
        assert ours["recorded"] == [{"types": ["RuntimeError"], "frames": True}]
    else:
        (span,) = ours["recorded"]
        assert span["status"] == "ERROR"
