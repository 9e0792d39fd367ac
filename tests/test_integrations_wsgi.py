"""The Flask and Django helpers: what they install, what they refuse, and life without the framework."""

from __future__ import annotations

import io
import subprocess
import sys
import types
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import django.conf
import django.core.asgi
import django.core.wsgi
import pytest
from flask import Flask

from friendly_errors.asgi import FriendlyErrorsMiddleware
from friendly_errors.integrations import django as django_integration
from friendly_errors.integrations.flask import init_app
from friendly_errors.wsgi import FriendlyErrorsWSGIMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from friendly_errors._types import Receive, Scope, Send


# -- Flask ---------------------------------------------------------------------------------------


def test_init_app_wraps_wsgi_app_and_keeps_the_flask_object() -> None:
    app = Flask("helpers")
    original = app.wsgi_app
    middleware = init_app(app, intercept=["5xx"])
    assert app.wsgi_app is middleware
    assert middleware.app == original
    assert middleware.handler.intercepts(503)

    @app.route("/")
    def index() -> tuple[str, int]:
        return "busy", 503

    response = app.test_client().get("/", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.json is not None
    assert response.json["status"] == 503


def test_init_app_checks_options_before_touching_the_app() -> None:
    app = Flask("helpers")
    original = app.wsgi_app
    with pytest.raises(TypeError, match="debug must be True or False"):
        init_app(app, debug="no")
    assert app.wsgi_app == original


def test_init_app_refuses_what_is_not_a_flask_app() -> None:
    def bare(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return []

    with pytest.raises(TypeError, match="FriendlyErrorsWSGIMiddleware"):
        init_app(bare)  # type: ignore[arg-type]


def test_init_app_without_flask_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "flask", None)
    with pytest.raises(ImportError, match=r"friendly-http-errors\[flask\]"):
        init_app(object())  # type: ignore[arg-type]


# -- Django --------------------------------------------------------------------------------------


def test_get_wsgi_application_wraps_djangos_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return []

    monkeypatch.setattr(django.core.wsgi, "get_wsgi_application", lambda: handler)
    application = django_integration.get_wsgi_application(intercept=[502])
    assert isinstance(application, FriendlyErrorsWSGIMiddleware)
    assert application.app is handler
    assert application.handler.intercepts(502)
    assert not application.handler.intercepts(500)


def test_get_wsgi_application_without_django_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "django.core.wsgi", None)
    with pytest.raises(ImportError, match=r"friendly-http-errors\[django\]"):
        django_integration.get_wsgi_application()


def test_get_asgi_application_wraps_djangos_asgi_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    monkeypatch.setattr(django.core.asgi, "get_asgi_application", lambda: handler)
    application = django_integration.get_asgi_application(intercept=[502], site_name="Shop")
    assert isinstance(application, FriendlyErrorsMiddleware)
    assert application.app is handler
    assert application.handler.intercepts(502)
    assert not application.handler.intercepts(500)


def test_get_asgi_application_checks_its_options(monkeypatch: pytest.MonkeyPatch) -> None:
    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    monkeypatch.setattr(django.core.asgi, "get_asgi_application", lambda: handler)
    with pytest.raises(TypeError, match="debug must be True or False"):
        django_integration.get_asgi_application(debug="no")


def test_get_asgi_application_without_django_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "django.core.asgi", None)
    with pytest.raises(ImportError, match=r"friendly-http-errors\[django\]"):
        django_integration.get_asgi_application()


# -- optional stays optional ---------------------------------------------------------------------


def test_importing_the_helpers_imports_no_framework() -> None:
    code = (
        "import sys, friendly_errors.wsgi, friendly_errors.integrations.flask, "
        "friendly_errors.integrations.django; "
        "print(sorted(m for m in ('flask', 'django', 'werkzeug') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


# -- exceptions in tests and debuggers (#11) -----------------------------------------------------


def _crashing_flask(**config: Any) -> Flask:
    app = Flask("crashing")
    app.config.update(config)

    @app.get("/boom")
    def boom() -> str:
        raise LookupError("from the view")

    @app.get("/busy")
    def busy() -> tuple[str, int]:
        return "Back soon", 503

    return app


@pytest.mark.parametrize(
    ("config", "propagates"),
    [
        ({}, False),
        ({"TESTING": True}, True),
        ({"DEBUG": True}, True),
        ({"TESTING": True, "PROPAGATE_EXCEPTIONS": False}, False),
        ({"PROPAGATE_EXCEPTIONS": True}, True),
    ],
    ids=["production", "testing", "debug", "testing-but-not-propagating", "propagating"],
)
def test_flask_test_client_sees_the_exception_when_flask_would_propagate_it(
    config: dict[str, Any], propagates: bool
) -> None:
    """Flask's test client raises the view's exception in the test when TESTING is on; the
    middleware keeps that (#11), and still replaces returned 5xx responses."""
    app = _crashing_flask(**config)
    init_app(app)
    client = app.test_client()
    if propagates:
        with pytest.raises(LookupError, match="from the view"):
            client.get("/boom")
    else:
        response = client.get("/boom", headers={"Accept": "application/json"})
        assert response.status_code == 500
        assert response.json is not None and response.json["title"] == "Internal Server Error"
    busy = client.get("/busy", headers={"Accept": "application/json"})
    assert busy.status_code == 503
    assert busy.json is not None and busy.json["title"] == "Service Unavailable"


def test_an_explicit_propagate_exceptions_wins_over_flasks() -> None:
    app = _crashing_flask(TESTING=True)
    init_app(app, propagate_exceptions=False)
    assert app.test_client().get("/boom").status_code == 500


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_propagate_exceptions_is_checked_when_built(value: Any) -> None:
    with pytest.raises(TypeError, match="propagate_exceptions"):
        FriendlyErrorsWSGIMiddleware(lambda e, s: [], propagate_exceptions=value)


@pytest.mark.parametrize("propagate", [False, True])
def test_django_debug_propagate_exceptions_lets_them_out(
    monkeypatch: pytest.MonkeyPatch, propagate: bool
) -> None:
    def handler(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        raise LookupError("from Django's handler")

    monkeypatch.setattr(django.core.wsgi, "get_wsgi_application", lambda: handler)
    # Django's settings are process-wide: stand-in settings keep other tests' Django setups intact.
    monkeypatch.setattr(
        django.conf, "settings", types.SimpleNamespace(DEBUG_PROPAGATE_EXCEPTIONS=propagate)
    )
    application = django_integration.get_wsgi_application()
    environ: WSGIEnvironment = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "wsgi.input": io.BytesIO(),
    }
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        statuses.append(status)
        return lambda data: None

    if propagate:
        with pytest.raises(LookupError):
            application(environ, start_response)
    else:
        application(environ, start_response)
        assert statuses == ["500 Internal Server Error"]
