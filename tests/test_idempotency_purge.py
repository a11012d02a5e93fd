"""Idempotency keys are kept 7 days, then purged by the writes themselves (no separate
service). The purge interval is lowered through a setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from ipcp_api.common.idempotency import purge_expired
from ipcp_api.models import IdempotencyKey

URL = "/api/v1/frameworks"


def _key(user_id: int, key: str, age: timedelta) -> IdempotencyKey:
    return IdempotencyKey(
        user_id=user_id,
        route="POST /api/v1/frameworks",
        key=key,
        request_hash="0" * 64,
        status_code=201,
        headers={},
        body=b"{}",
        created_at=datetime.now(UTC) - age,
    )


async def _keys(session: Any, user_id: int) -> set[str]:
    rows = await session.scalars(
        select(IdempotencyKey.key).where(IdempotencyKey.user_id == user_id)
    )
    return set(rows)


async def test_keys_older_than_7_days_go_and_younger_stay(
    client: httpx.AsyncClient, session
) -> None:
    user_id = client.user.id  # type: ignore[attr-defined]
    session.add_all(
        [
            _key(user_id, "eight-days", timedelta(days=8)),
            _key(user_id, "seven-days-and-a-minute", timedelta(days=7, minutes=1)),
            _key(user_id, "six-days", timedelta(days=6, hours=23)),
        ]
    )
    await session.flush()
    assert await purge_expired(session) >= 2
    assert await _keys(session, user_id) == {"six-days"}


async def test_a_write_with_a_key_purges_now_and_then(
    client: httpx.AsyncClient, session, app
) -> None:
    user_id = client.user.id  # type: ignore[attr-defined]
    session.add(_key(user_id, "stale", timedelta(days=30)))
    await session.flush()
    every = app.state.settings.idempotency_purge_every
    app.state.settings = app.state.settings.model_copy(update={"idempotency_purge_every": 1})
    try:
        response = await client.post(
            URL, json={"code": "PURGE1", "name": "p"}, headers={"Idempotency-Key": "fresh"}
        )
    finally:
        app.state.settings = app.state.settings.model_copy(
            update={"idempotency_purge_every": every}
        )
    assert response.status_code == 201, response.text
    assert await _keys(session, user_id) == {"fresh"}
    # and the fresh key still replays
    again = await client.post(
        URL, json={"code": "PURGE1", "name": "p"}, headers={"Idempotency-Key": "fresh"}
    )
    assert again.headers["idempotent-replayed"] == "true"
