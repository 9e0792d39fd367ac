"""The WSGI examples run, and each of their routes shows what the docs say it shows."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest
from werkzeug.test import Client
from werkzeug.test import TestResponse as WerkzeugResponse

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_flask() -> Any:
    """Import the example by path, as ``flask --app examples/flask_app.py`` would."""
    spec = importlib.util.spec_from_file_location("_example_flask_app", EXAMPLES / "flask_app.py")
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def load_django() -> Any:
    """Import the project as ``runserver --pythonpath=examples`` or ``gunicorn --chdir`` would.

    Django's settings are process-wide: the first import configures them for the whole session.
    """
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.settings")
    return importlib.import_module("django_app.wsgi").application


@pytest.fixture(params=["flask", "django"])
def app(request: pytest.FixtureRequest) -> Iterator[WSGIApplication]:
    # Django's LOGGING adds a handler to the root logger; take it away again after the test.
    before = list(logging.getLogger().handlers)
    yield load_flask() if request.param == "flask" else load_django()
    logging.getLogger().handlers[:] = before


def fetch(app: WSGIApplication, path: str, accept: str = "text/html") -> WerkzeugResponse:
    response = Client(app).get(path, headers={"Accept": accept})
    response.get_data()
    response.close()
    return response


@pytest.mark.parametrize(
    ("path", "status", "shows"),
    [
        pytest.param("/bad-gateway", 502, "Bad Gateway", id="502"),
        pytest.param("/maintenance", 503, "Down for maintenance until 14:00 UTC.", id="503"),
        pytest.param("/gateway-timeout", 504, "Gateway Timeout", id="504"),
        pytest.param("/slow-report", 524, "no need to ask for it again", id="524-template"),
        pytest.param("/report-engine", 590, "Report Engine Offline", id="590-catalogue"),
        pytest.param("/crash", 500, "Internal Server Error", id="exception"),
    ],
)
def test_every_error_route_shows_a_friendly_page(
    app: WSGIApplication, path: str, status: int, shows: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    response = fetch(app, path)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert shows in response.text
    assert "Example Shop" in response.text
    assert response.headers["X-Request-ID"] in caplog.text  # the on_error hook ran


def test_the_crash_is_logged_once_with_its_traceback(
    app: WSGIApplication, caplog: pytest.LogCaptureFixture
) -> None:
    fetch(app, "/crash")
    traced = [r for r in caplog.records if r.exc_info]
    assert len(traced) == 1
    assert "the example crashed on purpose" in caplog.text


def test_the_503_keeps_the_apps_retry_after_and_detail(app: WSGIApplication) -> None:
    response = fetch(app, "/maintenance", "application/json")
    assert response.headers["Retry-After"] == "120"
    assert response.json is not None
    assert response.json["detail"] == "Down for maintenance until 14:00 UTC."
    assert response.json["retry_after"] == 120


def test_the_custom_code_uses_the_custom_catalogue(app: WSGIApplication) -> None:
    response = fetch(app, "/report-engine", "application/json")
    problem = response.json
    assert problem is not None
    assert problem["title"] == "Report Engine Offline"
    assert problem["detail"] == "The report engine is being upgraded."
    # The catalogue's Retry-After hint, as the app gave none.
    assert response.headers["Retry-After"] == "300"


def test_the_custom_524_text_comes_from_the_catalogue(app: WSGIApplication) -> None:
    response = fetch(app, "/slow-report")
    assert "longer to build than our CDN is willing to wait" in response.text


def test_the_index_passes_through(app: WSGIApplication) -> None:
    response = fetch(app, "/")
    assert response.status_code == 200
    assert "X-Request-ID" not in response.headers
    assert response.text.count('<a href="/') >= 6
