"""Django: the WSGI entry point of a project's ``wsgi.py``, with friendly errors around it.

Django turns unhandled exceptions into 500 responses itself (logged on ``django.request``), so the
middleware sees and replaces those responses; it sees the exception itself only when
``DEBUG_PROPAGATE_EXCEPTIONS`` is on.
"""

from __future__ import annotations

from typing import Any

from friendly_errors.wsgi import FriendlyErrorsWSGIMiddleware

__all__ = ["get_wsgi_application"]


def get_wsgi_application(**options: Any) -> FriendlyErrorsWSGIMiddleware:
    """``django.core.wsgi.get_wsgi_application()`` wrapped in the middleware.

    Django's handler sets Django up when it is built, as the plain ``wsgi.py`` does, so a project
    swaps one import and keeps its start-up order.
    """
    try:
        from django.core.wsgi import get_wsgi_application as django_application
    except ImportError as exc:
        raise ImportError(
            "friendly_errors.integrations.django needs Django: "
            "pip install 'friendly-http-errors[django]'"
        ) from exc
    return FriendlyErrorsWSGIMiddleware(django_application(), **options)
