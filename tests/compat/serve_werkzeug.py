"""Serve a WSGI app on Werkzeug's development server: ``python -m compat.serve_werkzeug MOD:APP HOST PORT``.

``run_simple`` is the server behind ``flask run``; threaded, as ``flask run`` runs it.
"""

from __future__ import annotations

import importlib
import sys

from werkzeug.serving import run_simple


def main(target: str, host: str, port: str) -> None:
    module, _, attribute = target.partition(":")
    app = getattr(importlib.import_module(module), attribute)
    run_simple(host, int(port), app, threaded=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
