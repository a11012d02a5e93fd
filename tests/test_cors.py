"""Front-end apps on other origins (API.md, Operations): ``IPCP_CORS_ORIGINS``.

Through the ASGI app here; tests/browser/test_cors.py checks the same with a real browser.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ipcp_api.app import create_app
from ipcp_api.auth.security import create_token
from ipcp_api.config import Settings, SettingsError, load_settings, parse_origins

ALLOWED = "http://127.0.0.1:18290"
OTHER = "http://127.0.0.1:18291"
METHODS = "GET, POST, PATCH, DELETE"
HEADERS = (
    "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, Accept-Language,"
    " X-Request-ID"
)
EXPOSED = (
    "ETag, Link, Location, X-Request-ID, Content-Disposition, Content-Language, Retry-After,"
    " Idempotent-Replayed"
)


@pytest.fixture
async def cors_client(
    settings: Settings,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    factory: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"cors_origins": f"{ALLOWED},https://b.example"}))
    app.state.engine = engine
    app.state.sessionmaker = app.state.read_sessionmaker = sessionmaker
    user = await factory.user(role="admin")
    token = create_token(app.state.secret_key, user_id=user.id, expires_in=600)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


async def test_a_preflight_from_a_listed_origin_is_answered(
    cors_client: httpx.AsyncClient,
) -> None:
    response = await cors_client.options(
        "/api/v1/programmes/1",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type, if-match",
        },
    )
    assert response.status_code == 200
    assert cors_headers(response) == {
        "access-control-allow-origin": ALLOWED,
        "access-control-allow-methods": METHODS,
        "access-control-allow-headers": HEADERS,
        "access-control-max-age": "600",
    }


@pytest.mark.parametrize(
    ("method", "headers"),
    [("PUT", "authorization"), ("PATCH", "authorization, x-secret")],
)
async def test_a_preflight_for_what_is_not_allowed_is_refused(
    cors_client: httpx.AsyncClient, method: str, headers: str
) -> None:
    response = await cors_client.options(
        "/api/v1/programmes/1",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )
    assert response.status_code == 400


async def test_a_listed_origin_reads_the_exposed_headers(
    cors_client: httpx.AsyncClient, factory: Any
) -> None:
    framework = await factory.framework()
    response = await cors_client.get(
        f"/api/v1/frameworks/{framework.id}", headers={"Origin": ALLOWED}
    )
    assert response.status_code == 200
    assert cors_headers(response) == {
        "access-control-allow-origin": ALLOWED,
        "access-control-expose-headers": EXPOSED,
    }
    assert "Origin" in response.headers["vary"]
    # errors too: a front end reads the problem
    missing = await cors_client.get("/api/v1/frameworks/999999", headers={"Origin": ALLOWED})
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == ALLOWED


async def test_any_other_origin_gets_no_cors_header(cors_client: httpx.AsyncClient) -> None:
    for origin in (OTHER, "https://b.example:8443", "null", "http://evil.test"):
        preflight = await cors_client.options(
            "/api/v1/programmes",
            headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
        )
        assert preflight.status_code == 405, origin  # a plain OPTIONS, as without CORS
        assert cors_headers(preflight) == {}, origin
        simple = await cors_client.get("/api/v1/programmes", headers={"Origin": origin})
        assert simple.status_code == 200
        assert cors_headers(simple) == {}, origin
    assert (await cors_client.get("/api/v1/programmes")).status_code == 200


async def test_without_the_setting_no_origin_is_allowed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/programmes", headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert cors_headers(response) == {}


def test_origins_are_parsed_as_a_browser_sends_them() -> None:
    assert parse_origins("") == []
    assert parse_origins(" https://App.Example.org , http://127.0.0.1:5173,https://x.org:443") == [
        "https://app.example.org",
        "http://127.0.0.1:5173",
        "https://x.org",
    ]


@pytest.mark.parametrize(
    "value",
    [
        "*",
        "app.example.org",
        "https://app.example.org/",
        "https://a.org/path",
        "ftp://a.org",
        "https://a.org:99999",
    ],
)
def test_a_bad_origin_stops_the_program_naming_the_setting(value: str) -> None:
    with pytest.raises(SettingsError, match="IPCP_CORS_ORIGINS"):
        load_settings(secret_key="cors-" + "x" * 40, cors_origins=value)
