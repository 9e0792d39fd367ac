"""Just enough settings for a project with no database, no templates and no installed apps."""

from __future__ import annotations

SECRET_KEY = "compat-tests-only-never-use-this-key"  # a test project, never a deployment
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "compat.apps.django_project.urls"
INSTALLED_APPS: list[str] = []
# GZip runs inside ours, as every Django middleware does: see docs/frameworks.md.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.common.CommonMiddleware",
]
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
