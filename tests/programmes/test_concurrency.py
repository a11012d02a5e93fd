"""Two writers with the same If-Match: exactly one wins, the other gets 412.

This needs two real connections and real commits, which the rolled-back ``connection``
fixture cannot give: the app here uses the session-scoped engine directly, and everything
it creates is deleted at the end so other tests stay isolated.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from ipcp_api.app import create_app
from ipcp_api.auth.security import hash_password
from ipcp_api.config import Settings
from ipcp_api.db.session import bind_database
from ipcp_api.models import AuditEvent, Partner, Programme, User

URL = "/api/v1/programmes"
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def committing_client(
    settings: Settings, engine: AsyncEngine
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    app = create_app(settings)
    bind_database(app.state, engine)
    app.state.shutting_down = False
    tag = uuid.uuid4().hex[:8].upper()
    created: dict[str, Any] = {"programmes": []}
    async with app.state.sessionmaker() as session:
        user = User(
            username=f"conc{tag.lower()}",
            password_hash=hash_password(PASSWORD),
            role="staff",
            partner_id=None,
            active=True,
        )
        partner = Partner(kind="organisation", code=f"C-{tag}", name=f"Concurrency {tag}")
        session.add_all([user, partner])
        await session.commit()
        created |= {"user_id": user.id, "partner_id": partner.id, "tag": tag}
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            token = await client.post(
                "/api/v1/auth/token", data={"username": user.username, "password": PASSWORD}
            )
            assert token.status_code == 200, token.text
            client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            yield client, created
    finally:
        async with app.state.sessionmaker() as session:
            ids = created["programmes"]
            if ids:
                await session.execute(delete(Programme).where(Programme.id.in_(ids)))
                await session.execute(
                    delete(AuditEvent).where(
                        AuditEvent.entity == "programmes", AuditEvent.entity_id.in_(ids)
                    )
                )
            await session.execute(delete(User).where(User.id == created["user_id"]))
            await session.execute(delete(Partner).where(Partner.id == created["partner_id"]))
            await session.commit()


async def test_two_patches_with_the_same_if_match(
    committing_client: tuple[httpx.AsyncClient, dict[str, Any]],
) -> None:
    client, created = committing_client
    response = await client.post(
        URL,
        json={
            "partner_id": created["partner_id"],
            "code": f"CONC-{created['tag']}",
            "title": "Concurrency",
            "starts_on": "2016-06-01",
            "ends_on": "2018-06-30",
        },
    )
    assert response.status_code == 201, response.text
    programme_id = response.json()["id"]
    created["programmes"].append(programme_id)
    url = f"{URL}/{programme_id}"

    for round_ in range(3):
        version = (await client.get(url)).json()["version"]
        tag = f'"{version}"'
        first, second = await asyncio.gather(
            client.patch(url, json={"title": f"A{round_}"}, headers={"If-Match": tag}),
            client.patch(url, json={"title": f"B{round_}"}, headers={"If-Match": tag}),
        )
        codes = sorted([first.status_code, second.status_code])
        assert codes == [200, 412], (first.text, second.text)
        winner = first if first.status_code == 200 else second
        now = (await client.get(url)).json()
        assert now["version"] == version + 1
        assert now["title"] == winner.json()["title"]

    # the same race on a workflow step: one submits, the other is refused
    version = (await client.get(url)).json()["version"]
    tag = f'"{version}"'
    first, second = await asyncio.gather(
        client.patch(url, json={"status": "submitted"}, headers={"If-Match": tag}),
        client.patch(url, json={"status": "cancelled"}, headers={"If-Match": tag}),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 412]
    assert (await client.get(url)).json()["version"] == version + 1

    deleted = await client.delete(url)
    assert deleted.status_code == 204
