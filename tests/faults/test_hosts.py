"""Several database hosts: libpq's comma-separated ``DATABASE_URL``, and every way the driver
fails while no host accepts writes answered 503 with ``Retry-After`` (never 500).

The failover itself, with a real primary and standby, is tests/failover/test_failover.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from ipcp_api.app import create_app
from ipcp_api.auth.security import create_token
from ipcp_api.config import Settings, SettingsError, load_settings

FRAMEWORKS = "/api/v1/frameworks"
NOBODY_TCP = "127.0.0.1:18499"  # in this suite's port range; nothing listens there
NOBODY_SOCKET = "/nonexistent-ipcp-socket-dir:5432"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "postgresql://user@db1:5432,db2:5432/ipcp",
            "postgresql+asyncpg://user@/ipcp?host=db1%3A5432&host=db2%3A5432"
            "&target_session_attrs=read-write",
        ),
        (
            "postgres://u:p%40ss@db1,db2:5433/ipcp?target_session_attrs=primary",
            "postgresql+asyncpg://u:p%40ss@/ipcp?host=db1%3A5432&host=db2%3A5433"
            "&target_session_attrs=primary",
        ),
        ("postgresql://u@one:5432/ipcp", "postgresql+asyncpg://u@one:5432/ipcp"),
    ],
)
def test_a_host_list_becomes_repeated_host_parameters(given: str, expected: str) -> None:
    url = load_settings(database_url=given).database_url
    assert url == expected
    parsed = make_url(url)
    assert parsed.database == "ipcp"


def test_the_parsed_host_list_is_what_asyncpg_gets() -> None:
    url = make_url(load_settings(database_url="postgresql://u@db1:5432,db2:6432/ipcp").database_url)
    assert url.query["host"] == ("db1:5432", "db2:6432")
    assert url.query["target_session_attrs"] == "read-write"


@pytest.mark.parametrize(
    "bad", ["postgresql://u@db1,,db2/ipcp", "postgresql://u@db1,:5432/ipcp", "postgresql://u@a,b"]
)
def test_a_broken_host_list_names_the_setting(bad: str) -> None:
    with pytest.raises(SettingsError, match=r"^invalid setting DATABASE_URL: "):
        load_settings(database_url=bad)


def _hosts(database_url: str, *hosts: str, attrs: str) -> str:
    """The test database's URL with this host list; ``real`` stands for the test server and
    ``nobody`` for an address where nothing listens."""
    url = make_url(database_url)
    real = url.query.get("host") or f"{url.host}"
    assert isinstance(real, str)
    real = f"{real}:{url.port or 5432}"  # a list needs every port (a socket's too)
    nobody = NOBODY_SOCKET if real.startswith("/") else NOBODY_TCP
    chosen = tuple({"real": real, "nobody": nobody}[h] for h in hosts)
    query = {**url.query, "host": chosen, "target_session_attrs": attrs}
    return url.set(host=None, port=None, query=query).render_as_string(hide_password=False)


@asynccontextmanager
async def running(settings: Settings, url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app on ``url``, its lifespan running; the client's token names user 1 (the
    requests below never get as far as reading it, or only need /readyz)."""
    app: Any = create_app(settings.model_copy(update={"database_url": url}))
    async with app.router.lifespan_context(app):
        token = create_token(app.state.secret_key, user_id=1, expires_in=600)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://test",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            yield client


async def _all_unavailable(client: httpx.AsyncClient) -> None:
    for request in (
        client.get(FRAMEWORKS),
        client.post(FRAMEWORKS, json={"code": "NOPE", "name": "No primary"}),
        client.get("/readyz"),
    ):
        response = await request
        assert response.status_code == 503, response.text
        assert int(response.headers["retry-after"]) > 0
        assert response.headers["content-type"] == "application/problem+json"


async def test_no_host_accepting_writes_is_503(settings: Settings, database_url: str) -> None:
    """Every host answers, none is what the URL asks for: asyncpg raises
    TargetServerAttributeNotMatched (no SQLSTATE), which used to fall through to a 500."""
    async with running(settings, _hosts(database_url, "real", "real", attrs="standby")) as client:
        await _all_unavailable(client)


async def test_only_refusing_hosts_is_503(settings: Settings, database_url: str) -> None:
    url = _hosts(database_url, "nobody", "nobody", attrs="read-write")
    async with running(settings, url) as client:
        await _all_unavailable(client)


async def test_a_host_that_refuses_is_skipped(settings: Settings, database_url: str) -> None:
    """The first host refuses connections; the service uses the next, which accepts writes."""
    url = _hosts(database_url, "nobody", "real", attrs="read-write")
    async with running(settings, url) as client:
        assert (await client.get("/readyz")).status_code == 200
