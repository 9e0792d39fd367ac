"""The project's ``asgi.py``: Django's ASGI handler with friendly errors around it."""

from __future__ import annotations

import os

from friendly_errors.integrations.django import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compat.apps.django_project.settings")
application = get_asgi_application(site_name="Example Shop")
