"""Flask behind FriendlyErrorsWSGIMiddleware: every 5xx becomes a friendly, negotiated error.

Run from the repository root with either of::

    python examples/flask_app.py
    flask --app examples/flask_app.py run

then open http://127.0.0.1:5000/ and follow the links, or ask for JSON::

    curl -i -H 'Accept: application/json' http://127.0.0.1:5000/maintenance

Set FRIENDLY_ERRORS_DEBUG=1 to see tracebacks on the pages: debug is chosen when the app starts,
never by anything in a request.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask, Response, abort, jsonify

from friendly_errors.catalogue import Catalogue
from friendly_errors.core import ErrorEvent
from friendly_errors.integrations.flask import init_app

HERE = Path(__file__).resolve().parent
log = logging.getLogger("examples.flask")


def notify(event: ErrorEvent) -> None:
    """The on_error hook: one line per friendly page served, tied to the visitor's request ID."""
    log.warning(
        "error page %s served for %s (request ID %s)",
        event.status,
        event.request.path,
        event.request_id,
    )


INDEX = """<!doctype html><html lang="en"><meta charset="utf-8"><title>friendly_errors + Flask</title>
<h1>friendly_errors + Flask</h1><ul>
<li><a href="/bad-gateway">502 Bad Gateway</a></li>
<li><a href="/maintenance">503 Service Unavailable, with Retry-After</a></li>
<li><a href="/gateway-timeout">504 Gateway Timeout</a></li>
<li><a href="/slow-report">524 A Timeout Occurred (custom template and catalogue text)</a></li>
<li><a href="/report-engine">590 Report Engine Offline (a code from catalogue.toml)</a></li>
<li><a href="/crash">an unhandled exception</a></li>
</ul></html>"""

app = Flask(__name__)


@app.route("/")
def index() -> str:
    return INDEX


@app.route("/bad-gateway")
def bad_gateway() -> Response:
    # Werkzeug's own 502 page, with its "502 BAD GATEWAY" status line, is what gets replaced.
    abort(502)


@app.route("/maintenance")
def maintenance() -> Response:
    return Response(
        "Down for maintenance until 14:00 UTC.",
        503,
        {"Retry-After": "120"},
        mimetype="text/plain",
    )


@app.route("/gateway-timeout")
def gateway_timeout() -> Response:
    return Response(status=504)


@app.route("/slow-report")
def slow_report() -> Response:
    return Response(status=524)


@app.route("/report-engine")
def report_engine() -> tuple[Response, int]:
    return jsonify(detail="The report engine is being upgraded."), 590


@app.route("/crash")
def crash() -> str:
    raise RuntimeError("the example crashed on purpose")


init_app(
    app,
    catalogue=Catalogue.default().extend(HERE / "catalogue.toml"),
    template_dirs=[HERE / "templates"],
    site_name="Example Shop",
    home_url="/",
    debug=os.environ.get("FRIENDLY_ERRORS_DEBUG") == "1",
    on_error=notify,
)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    app.run(host="127.0.0.1", port=5000)
