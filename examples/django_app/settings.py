"""Just enough settings for a project with no database, no templates and no installed apps."""

from __future__ import annotations

SECRET_KEY = "example-only-never-use-this-key"  # an example, never a deployment
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "django_app.urls"
# runserver serves this too, so the friendly pages show in development as in production.
WSGI_APPLICATION = "django_app.wsgi.application"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
# Django's default logging prints nothing while DEBUG is off; the example shows its log lines.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}
