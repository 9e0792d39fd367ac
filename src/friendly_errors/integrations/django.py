"""Django: the entry points of a project's ``wsgi.py`` and ``asgi.py``, with friendly errors around.

Django turns unhandled exceptions into 500 responses itself (logged on ``django.request``), so the
middleware sees and replaces those responses; an exception leaves Django's handler only when
``DEBUG_PROPAGATE_EXCEPTIONS`` is on, and then goes on untouched.
"""

from __future__ import annotations

from typing import Any

from friendly_errors.asgi import FriendlyErrorsMiddleware
from friendly_errors.wsgi import FriendlyErrorsWSGIMiddleware

__all__ = ["get_asgi_application", "get_wsgi_application"]

_MISSING = (
    "friendly_errors.integrations.django needs Django: pip install 'friendly-http-errors[django]'"
)


def get_wsgi_application(**options: Any) -> FriendlyErrorsWSGIMiddleware:
    """``django.core.wsgi.get_wsgi_application()`` wrapped in the middleware.

    Django's handler sets Django up when it is built, as the plain ``wsgi.py`` does, so a project
    swaps one import and keeps its start-up order. Unless given, ``propagate_exceptions`` follows
    ``DEBUG_PROPAGATE_EXCEPTIONS``.
    """
    try:
        from django.core.wsgi import get_wsgi_application as django_application
    except ImportError as exc:
        raise ImportError(_MISSING) from exc
    handler = django_application()
    from django.conf import settings

    # With DEBUG_PROPAGATE_EXCEPTIONS, Django lets exceptions out of its handler on purpose.
    options.setdefault("propagate_exceptions", lambda: bool(settings.DEBUG_PROPAGATE_EXCEPTIONS))
    return FriendlyErrorsWSGIMiddleware(handler, **options)


def get_asgi_application(**options: Any) -> FriendlyErrorsMiddleware:
    """``django.core.asgi.get_asgi_application()`` wrapped in the ASGI middleware.

    The same swap of one import in ``asgi.py``; Django's handler sets Django up when it is built.
    """
    try:
        from django.core.asgi import get_asgi_application as django_application
    except ImportError as exc:
        raise ImportError(_MISSING) from exc
    return FriendlyErrorsMiddleware(django_application(), **options)
