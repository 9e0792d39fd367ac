"""One small app per framework, written the way that framework's documentation writes apps.

Every app answers the same five routes, so one table of checks runs against all of them:

* ``GET /hello``: a 200 of the framework's own making;
* ``GET /unavailable``: a 503 with ``Retry-After: 120`` and the framework's idiomatic error body,
  saying "Orders are paused for maintenance.";
* ``GET /boom``: raises ``RuntimeError("compat-secret-6d1f")``;
* ``GET /stream``: a 200 streamed in three chunks (``chunk-1`` to ``chunk-3``), 0.3 s apart;
* ``/echo``: a websocket that sends every text message back, where the framework has websockets.

Any other path gets the framework's own 404. docs/frameworks.md quotes these files, and
tests/compat/test_docs.py keeps the quotes identical to them.
"""
