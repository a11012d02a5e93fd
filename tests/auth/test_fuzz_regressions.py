"""What contract fuzzing (.ci/fuzz.sh) found at the token endpoint, kept fixed."""

from __future__ import annotations

import httpx

TOKEN = "/api/v1/auth/token"


async def test_a_username_with_nul_is_wrong_credentials(anon: httpx.AsyncClient) -> None:
    """It reached the database, which cannot compare text with NUL: a vague 422 about a
    "value missing, too long or out of range". No such user can exist: 401 like any other."""
    nul = await anon.post(TOKEN, data={"username": "demo\x00admin", "password": "x" * 12})
    unknown = await anon.post(TOKEN, data={"username": "nobody.here", "password": "x" * 12})
    assert nul.status_code == 401, nul.text
    assert nul.headers["www-authenticate"] == "Bearer"
    assert nul.json() == unknown.json()
