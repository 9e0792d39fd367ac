"""Friendly HTTP error pages and RFC 9457 problem details for ASGI and WSGI apps."""

from friendly_errors.catalogue import Catalogue, CatalogueError, CatalogueSource, Fault, StatusInfo

__all__ = [
    "Catalogue",
    "CatalogueError",
    "CatalogueSource",
    "Fault",
    "StatusInfo",
]
__version__ = "0.1.0"
