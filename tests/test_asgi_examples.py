"""The ASGI examples run, and each of their routes shows what the docs say it shows."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


pytestmark = pytest.mark.anyio


def load(name: str) -> Any:
    """Import an example by path, as ``uvicorn examples.<name>:app`` would from the repository root."""
    spec = importlib.util.spec_from_file_location(f"_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


@pytest.fixture(params=["fastapi_app", "starlette_app"])
def app(request: pytest.FixtureRequest) -> Any:
    return load(request.param)


async def fetch(app: Any, path: str, accept: str = "text/html") -> httpx.Response:
    # An exception goes on to the server after the page; the client sees what a browser would.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://example.test") as client:
        return await client.get(path, headers={"Accept": accept, "Origin": "http://localhost:3000"})


@pytest.mark.parametrize(
    ("path", "status", "shows"),
    [
        pytest.param("/bad-gateway", 502, "Bad Gateway", id="502"),
        pytest.param("/maintenance", 503, "Down for maintenance until 14:00 UTC.", id="503"),
        pytest.param("/gateway-timeout", 504, "Gateway Timeout", id="504"),
        pytest.param("/slow-report", 524, "no need to ask for it again", id="524-template"),
        pytest.param("/report-engine", 590, "Report Engine Offline", id="590-catalogue"),
        pytest.param("/crash", 500, "Internal Server Error", id="exception"),
    ],
)
async def test_every_error_route_shows_a_friendly_page(
    app: Any, path: str, status: int, shows: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    response = await fetch(app, path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert shows in response.text
    assert "Example Shop" in response.text
    # CORS is outside the middleware, so even an exception's page is readable cross-origin.
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert response.headers["x-request-id"] in caplog.text  # the on_error hook ran


async def test_the_503_keeps_the_apps_retry_after_and_detail(app: Any) -> None:
    response = await fetch(app, "/maintenance", "application/json")
    assert response.headers["retry-after"] == "120"
    assert response.json()["detail"] == "Down for maintenance until 14:00 UTC."
    assert response.json()["retry_after"] == 120


async def test_the_custom_code_uses_the_custom_catalogue(app: Any) -> None:
    response = await fetch(app, "/report-engine", "application/json")
    problem = response.json()
    assert problem["title"] == "Report Engine Offline"
    assert problem["detail"] == "The report engine is being upgraded."
    # The catalogue's Retry-After hint, as the app gave none.
    assert response.headers["retry-after"] == "300"


async def test_the_custom_524_text_comes_from_the_catalogue(app: Any) -> None:
    response = await fetch(app, "/slow-report")
    assert "longer to build than our CDN is willing to wait" in response.text


async def test_the_index_passes_through(app: Any) -> None:
    response = await fetch(app, "/")
    assert response.status_code == 200
    assert "x-request-id" not in response.headers
    assert response.text.count('<a href="/') >= 6


async def test_the_fastapi_json_api_route() -> None:
    response = await fetch(load("fastapi_app"), "/api/items", "application/json")
    assert response.status_code == 503
    assert response.json()["detail"] == "The inventory database is unreachable."
