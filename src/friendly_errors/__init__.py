"""Friendly HTTP error pages and RFC 9457 problem details for ASGI and WSGI apps."""

from friendly_errors.asgi import FriendlyErrorsMiddleware
from friendly_errors.catalogue import Catalogue, CatalogueError, CatalogueSource, Fault, StatusInfo
from friendly_errors.core import ErrorEvent, ErrorHandler
from friendly_errors.negotiation import Format, FormatChoice, negotiate_format, negotiate_language
from friendly_errors.rendering import RenderedError, Renderer, RequestInfo
from friendly_errors.wsgi import FriendlyErrorsWSGIMiddleware

__all__ = [
    "Catalogue",
    "CatalogueError",
    "CatalogueSource",
    "ErrorEvent",
    "ErrorHandler",
    "Fault",
    "Format",
    "FormatChoice",
    "FriendlyErrorsMiddleware",
    "FriendlyErrorsWSGIMiddleware",
    "RenderedError",
    "Renderer",
    "RequestInfo",
    "StatusInfo",
    "negotiate_format",
    "negotiate_language",
]
__version__ = "0.1.0"
