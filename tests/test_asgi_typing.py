"""Every framework's ASGI app can be wrapped as it is, under ``mypy --strict`` and at run time.

Litestar and Quart type their apps with TypedDicts, Falcon and Django with dicts; each app below is
wrapped with no cast and no ``type: ignore``, so mypy (which checks this module with the rest of
``tests``) fails if the middleware's ``app`` parameter becomes narrower than one of them again. The
tests then show that each wrapped app answers its 503 with our page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import falcon
import falcon.asgi
import httpx
import pytest
from litestar import Litestar
from litestar import Response as LitestarResponse
from litestar import get as litestar_get
from quart import Quart

from friendly_errors.asgi import FriendlyErrorsMiddleware

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SITE = "Typed Shop"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


pytestmark = pytest.mark.anyio


@litestar_get("/maintenance")
async def litestar_maintenance() -> LitestarResponse[str]:
    return LitestarResponse(
        "Down for maintenance.", status_code=503, headers={"Retry-After": "120"}
    )


def litestar() -> FriendlyErrorsMiddleware:
    return FriendlyErrorsMiddleware(Litestar(route_handlers=[litestar_maintenance]), site_name=SITE)


def quart() -> FriendlyErrorsMiddleware:
    app = Quart(__name__)

    @app.get("/maintenance")
    async def maintenance() -> tuple[str, int, dict[str, str]]:
        return "Down for maintenance.", 503, {"Retry-After": "120"}

    return FriendlyErrorsMiddleware(app, site_name=SITE)


class FalconMaintenance:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        raise falcon.HTTPServiceUnavailable(description="Down for maintenance.", retry_after=120)


def falcon_asgi() -> FriendlyErrorsMiddleware:
    app = falcon.asgi.App()
    app.add_route("/maintenance", FalconMaintenance())
    return FriendlyErrorsMiddleware(app, site_name=SITE)


def django() -> FriendlyErrorsMiddleware:
    """The example project's handler, whose ``/maintenance`` answers 503 as the others do."""
    from django.core.asgi import get_asgi_application

    return FriendlyErrorsMiddleware(get_asgi_application(), site_name=SITE)


@pytest.fixture
def django_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The example project's settings, which test_wsgi_examples.py configures as well.

    Django's settings are process-wide and configured once: whichever module comes first, both
    find the same project. Its LOGGING adds a handler to the root logger, taken away again here.
    """
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "django_app.settings")
    before = list(logging.getLogger().handlers)
    yield
    logging.getLogger().handlers[:] = before


async def shows_our_page(app: FriendlyErrorsMiddleware) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/maintenance", headers={"Accept": "text/html"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "120"
    assert response.text.startswith("<!doctype html>")
    assert SITE in response.text


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(litestar, id="litestar"),
        pytest.param(quart, id="quart"),
        pytest.param(falcon_asgi, id="falcon"),
    ],
)
async def test_the_wrapped_app_answers_with_our_page(
    wrap: Callable[[], FriendlyErrorsMiddleware],
) -> None:
    await shows_our_page(wrap())


@pytest.mark.usefixtures("django_settings")
async def test_djangos_wrapped_handler_answers_with_our_page() -> None:
    await shows_our_page(django())
