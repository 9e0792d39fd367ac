"""Flask: wrap ``app.wsgi_app`` so Flask keeps its app object, its CLI and its test client.

Wrapping ``app.wsgi_app`` instead of ``app`` is the documented place for WSGI middleware in Flask:
``flask run``, ``app.test_client()`` and extensions all keep working with the same object.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from friendly_errors.wsgi import FriendlyErrorsWSGIMiddleware

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["init_app"]


def init_app(app: Flask, **options: Any) -> FriendlyErrorsWSGIMiddleware:
    """Install the middleware on a Flask app and return it, for tests or later inspection.

    ``options`` are the middleware's, validated now so a typo fails at start-up. Unless given,
    ``propagate_exceptions`` follows Flask's ``PROPAGATE_EXCEPTIONS`` (on when testing or
    debugging), so ``app.test_client()`` and the debugger still see the app's exceptions, as
    without the middleware; returned 5xx responses are replaced either way.
    """
    try:
        from flask import Flask
    except ImportError as exc:
        raise ImportError(
            "friendly_errors.integrations.flask needs Flask: "
            "pip install 'friendly-http-errors[flask]'"
        ) from exc
    if not isinstance(app, Flask):
        raise TypeError(
            f"init_app() expects a Flask application, not {type(app).__name__}; wrap any other "
            "WSGI application with FriendlyErrorsWSGIMiddleware(app) instead"
        )

    def propagates() -> bool:
        # Flask's own rule (Flask.handle_exception): tests and the debugger get the exception.
        propagate = app.config.get("PROPAGATE_EXCEPTIONS")
        return bool(app.testing or app.debug) if propagate is None else bool(propagate)

    options.setdefault("propagate_exceptions", propagates)
    middleware = FriendlyErrorsWSGIMiddleware(app.wsgi_app, **options)
    # Flask documents assigning to wsgi_app; mypy sees a method being replaced.
    app.wsgi_app = middleware  # type: ignore[method-assign]
    return middleware
