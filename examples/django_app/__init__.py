"""A one-page Django project behind FriendlyErrorsWSGIMiddleware.

Run from the repository root with either of::

    python -m django runserver --settings=django_app.settings --pythonpath=examples
    gunicorn --chdir examples django_app.wsgi

then open http://127.0.0.1:8000/ and follow the links. ``runserver`` serves ``WSGI_APPLICATION``,
so it shows the friendly pages too. Set FRIENDLY_ERRORS_DEBUG=1 to see tracebacks on the pages.
"""
