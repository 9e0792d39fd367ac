"""The Litestar app of ``litestar_app``, with friendly errors in its ``middleware`` list."""

from __future__ import annotations

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig
from litestar.middleware import DefineMiddleware

from compat.apps.litestar_app import route_handlers
from friendly_errors import FriendlyErrorsMiddleware

# CORS runs outside the middleware list, so it decorates our pages; compression runs inside it.
app = Litestar(
    route_handlers=route_handlers,
    middleware=[DefineMiddleware(FriendlyErrorsMiddleware, site_name="Example Shop")],
    cors_config=CORSConfig(allow_origins=["https://app.example"]),
    compression_config=CompressionConfig(backend="gzip"),
)
