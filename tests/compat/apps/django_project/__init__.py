"""A Django project with no database: settings, views, URLs and both entry points."""
