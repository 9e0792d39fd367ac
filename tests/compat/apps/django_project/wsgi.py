"""The project's ``wsgi.py``: Django's WSGI handler with friendly errors around it."""

from __future__ import annotations

import os

from friendly_errors.integrations.django import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compat.apps.django_project.settings")
application = get_wsgi_application(site_name="Example Shop")
