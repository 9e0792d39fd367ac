"""The project's WSGI entry point: Django's application, with friendly errors around it."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from friendly_errors.catalogue import Catalogue
from friendly_errors.core import ErrorEvent
from friendly_errors.integrations.django import get_wsgi_application

EXAMPLES = Path(__file__).resolve().parent.parent
log = logging.getLogger("examples.django")

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.settings")


def notify(event: ErrorEvent) -> None:
    """The on_error hook: one line per friendly page served, tied to the visitor's request ID."""
    log.warning(
        "error page %s served for %s (request ID %s)",
        event.status,
        event.request.path,
        event.request_id,
    )


application = get_wsgi_application(
    catalogue=Catalogue.default().extend(EXAMPLES / "catalogue.toml"),
    template_dirs=[EXAMPLES / "templates"],
    site_name="Example Shop",
    home_url="/",
    debug=os.environ.get("FRIENDLY_ERRORS_DEBUG") == "1",
    on_error=notify,
)
