"""Many clients writing the same programme's projects at once, with real commits.

The rolled-back ``connection`` fixture cannot show races (one connection, one transaction),
so the app here runs on the session-scoped engine and commits for real; everything it
creates is deleted at the end. Each test checks the outcome three ways: the HTTP answers,
the rows, and the audit trail (exactly one record per committed change).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ipcp_api.app import create_app
from ipcp_api.auth.security import create_token
from ipcp_api.config import Settings
from ipcp_api.db.session import bind_database
from ipcp_api.models import (
    AuditEvent,
    IdempotencyKey,
    Partner,
    Pillar,
    Programme,
    Project,
    User,
)

PROJECTS = "/api/v1/projects"
CLIENTS = 10  # concurrent requests per burst (the engine's pool is 10 + 5 overflow)


@dataclass
class World:
    app: Any
    client: httpx.AsyncClient
    tag: str
    user_id: int
    partner_id: int
    programme_id: int
    pillar_id: int
    projects: list[int] = field(default_factory=list)

    def body(self, code: str, **extra: Any) -> dict[str, Any]:
        return {
            "programme_id": self.programme_id,
            "pillar_id": self.pillar_id,
            "code": code,
            "title": f"Project {code}",
            "starts_on": "2016-06-01",
            "ends_on": "2018-06-30",
            "status": "planned",
            **extra,
        }

    async def create(self, code: str) -> dict[str, Any]:
        response = await self.client.post(PROJECTS, json=self.body(code))
        assert response.status_code == 201, response.text
        self.projects.append(response.json()["id"])
        return dict(response.json())

    async def audit(self, project_id: int) -> list[str]:
        async with self.app.state.sessionmaker() as session:
            rows = await session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.entity == "projects", AuditEvent.entity_id == project_id)
                .order_by(AuditEvent.id)
            )
            return list(rows)

    async def project_ids(self, code: str) -> list[int]:
        async with self.app.state.sessionmaker() as session:
            rows = await session.scalars(
                select(Project.id).where(
                    Project.programme_id == self.programme_id, Project.code == code
                )
            )
            ids = list(rows)
        self.projects.extend(i for i in ids if i not in self.projects)
        return ids


@pytest.fixture
async def world(settings: Settings, engine: AsyncEngine) -> AsyncIterator[World]:
    app = create_app(settings)
    bind_database(app.state, engine)
    app.state.shutting_down = False
    tag = uuid.uuid4().hex[:8].upper()
    async with app.state.sessionmaker() as session:
        user = User(
            username=f"race{tag.lower()}", password_hash="unused", role="staff", active=True
        )
        partner = Partner(kind="organisation", code=f"R-{tag}", name=f"Race {tag}")
        session.add_all([user, partner])
        await session.flush()
        programme = Programme(
            partner_id=partner.id,
            code=f"RACE-{tag}",
            title="Races",
            kind="IPCP",
            status="draft",
            starts_on=date(2016, 1, 1),
            ends_on=date(2018, 12, 31),
        )
        session.add(programme)
        pillar_id = await session.scalar(select(Pillar.id).where(Pillar.position == 1))
        await session.commit()
    assert pillar_id is not None
    token = create_token(app.state.secret_key, user_id=user.id, expires_in=600)
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(
        transport=transport,
        base_url="http://test",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    w = World(
        app=app,
        client=client,
        tag=tag,
        user_id=user.id,
        partner_id=partner.id,
        programme_id=programme.id,
        pillar_id=pillar_id,
    )
    try:
        yield w
    finally:
        await client.aclose()
        async with app.state.sessionmaker() as session:
            all_projects = list(
                await session.scalars(
                    select(Project.id).where(Project.programme_id == programme.id)
                )
            )
            await session.execute(delete(Project).where(Project.programme_id == programme.id))
            await session.execute(delete(Programme).where(Programme.id == programme.id))
            await session.execute(delete(Partner).where(Partner.id == partner.id))
            await session.execute(delete(User).where(User.id == user.id))
            await session.execute(
                delete(AuditEvent).where(
                    AuditEvent.entity == "projects",
                    AuditEvent.entity_id.in_(set(all_projects) | set(w.projects)),
                )
            )
            await session.execute(delete(AuditEvent).where(AuditEvent.user_id == user.id))
            await session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == user.id))
            await session.commit()


async def test_if_match_races_have_exactly_one_winner_per_version(world: World) -> None:
    """Five clients per project, two projects, all with the same If-Match at once: per
    project and per version exactly one 200, the others 412; nothing is lost or doubled."""
    projects = [await world.create(f"IFM-{i}") for i in range(2)]
    rounds = 3
    for round_ in range(rounds):
        versions = {
            p["id"]: (await world.client.get(f"{PROJECTS}/{p['id']}")).json()["version"]
            for p in projects
        }
        calls = [
            (p["id"], n, f"r{round_} client {n}")
            for p in projects
            for n in range(CLIENTS // len(projects))
        ]
        responses = await asyncio.gather(
            *(
                world.client.patch(
                    f"{PROJECTS}/{pid}",
                    json={"title": title},
                    headers={"If-Match": f'"{versions[pid]}"'},
                )
                for pid, _, title in calls
            )
        )
        by_project: dict[int, Counter[int]] = {p["id"]: Counter() for p in projects}
        winners: dict[int, str] = {}
        for (pid, _, title), response in zip(calls, responses, strict=True):
            by_project[pid][response.status_code] += 1
            if response.status_code == 200:
                winners[pid] = title
                assert response.json()["version"] == versions[pid] + 1
        for pid, counts in by_project.items():
            assert counts == Counter({200: 1, 412: CLIENTS // len(projects) - 1}), counts
            now = (await world.client.get(f"{PROJECTS}/{pid}")).json()
            assert now["version"] == versions[pid] + 1
            assert now["title"] == winners[pid]
    for p in projects:
        assert await world.audit(p["id"]) == ["create"] + ["update"] * rounds


async def test_edits_without_if_match_are_serialised_not_lost(world: World) -> None:
    """Concurrent patches of different fields of one project, no If-Match: the row lock
    serialises them, every one succeeds and every change is in the final state."""
    project = await world.create("SERIAL")
    url = f"{PROJECTS}/{project['id']}"
    patches = [
        {"title": "New title"},
        {"description": "New description"},
        {"lead": "Ministry of Interior"},
        {"areas": ["counter-terrorism"]},
        {"status": "in_progress"},
        {"starts_on": "2016-07-01"},
        {"ends_on": "2018-05-31"},
    ]
    responses = await asyncio.gather(*(world.client.patch(url, json=p) for p in patches))
    assert [r.status_code for r in responses] == [200] * len(patches), [r.text for r in responses]
    assert sorted(r.json()["version"] for r in responses) == list(range(2, 2 + len(patches)))
    final = (await world.client.get(url)).json()
    for patch in patches:
        for name, value in patch.items():
            assert final[name] == value, name
    assert final["version"] == 1 + len(patches)
    assert await world.audit(project["id"]) == ["create"] + ["update"] * len(patches)


async def test_retried_posts_with_one_idempotency_key_create_one_row(world: World) -> None:
    body = world.body("IDEM")
    headers = {"Idempotency-Key": f"retry-{world.tag}"}
    responses = await asyncio.gather(
        *(world.client.post(PROJECTS, json=body, headers=headers) for _ in range(CLIENTS))
    )
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, [r.text for r in responses]
    originals = [
        r for r in responses if r.status_code == 201 and "idempotent-replayed" not in r.headers
    ]
    replays = [r for r in responses if r.headers.get("idempotent-replayed") == "true"]
    assert len(originals) == 1
    assert len(replays) == statuses[201] - 1
    first = originals[0]
    for replay in replays:
        assert replay.json() == first.json()
        assert replay.headers["location"] == first.headers["location"]
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.headers["content-type"] == "application/problem+json"
        assert "in progress" in refused.json()["detail"]
        assert refused.json()["type"] == "/problems/conflict-in-flight"
    # exactly one row, one audit record, one stored key
    ids = await world.project_ids("IDEM")
    assert ids == [first.json()["id"]]
    assert await world.audit(ids[0]) == ["create"]
    async with world.app.state.sessionmaker() as session:
        keys = await session.scalar(
            select(func.count())
            .select_from(IdempotencyKey)
            .where(IdempotencyKey.user_id == world.user_id)
        )
    assert keys == 1
    # a later retry (the first has long committed) replays; it never creates
    late = await world.client.post(PROJECTS, json=body, headers=headers)
    assert late.status_code == 201
    assert late.headers["idempotent-replayed"] == "true"
    assert late.json() == first.json()
    assert await world.project_ids("IDEM") == ids


async def test_simultaneous_creates_of_one_code(world: World) -> None:
    """Unique (programme_id, code): one 201, the rest 409 — whoever wins the race."""
    responses = await asyncio.gather(
        *(
            world.client.post(PROJECTS, json=world.body("SAME", title=f"Attempt {n}"))
            for n in range(CLIENTS)
        )
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == Counter({201: 1, 409: CLIENTS - 1}), [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["errors"][0]["loc"] == ["body", "code"]
        assert refused.json()["type"] == "/problems/conflict-unique"
    winner = next(r for r in responses if r.status_code == 201)
    ids = await world.project_ids("SAME")
    assert ids == [winner.json()["id"]]
    assert (await world.client.get(f"{PROJECTS}/{ids[0]}")).json()["title"] == winner.json()[
        "title"
    ]
    assert await world.audit(ids[0]) == ["create"]


async def test_simultaneous_deletes(world: World) -> None:
    project = await world.create("GONE")
    url = f"{PROJECTS}/{project['id']}"
    responses = await asyncio.gather(*(world.client.delete(url) for _ in range(CLIENTS)))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == Counter({204: 1, 404: CLIENTS - 1}), [r.text for r in responses]
    assert (await world.client.get(url)).status_code == 404
    assert await world.audit(project["id"]) == ["create", "delete"]


async def test_a_mixed_crowd_on_one_programme(world: World) -> None:
    """Creates, patches with and without If-Match, and deletes on one programme at once:
    the audit trail tells exactly the committed story, and every answer is 2xx, 404, 409 or
    412 — never 500 or 503."""
    projects = [await world.create(f"MIX-{i}") for i in range(3)]
    calls = [world.client.post(PROJECTS, json=world.body(f"MIX-NEW-{n % 2}")) for n in range(4)]
    calls += [
        world.client.patch(
            f"{PROJECTS}/{projects[0]['id']}", json={"title": f"A{n}"}, headers={"If-Match": '"1"'}
        )
        for n in range(3)
    ]
    calls += [
        world.client.patch(f"{PROJECTS}/{projects[1]['id']}", json={"lead": f"Lead {n}"})
        for n in range(2)
    ]
    calls += [world.client.delete(f"{PROJECTS}/{projects[2]['id']}") for _ in range(2)]
    responses = await asyncio.gather(*calls)
    assert {r.status_code for r in responses} <= {200, 201, 204, 404, 409, 412}, [
        r.text for r in responses
    ]
    created = [r for r in responses[:4] if r.status_code == 201]
    assert len(created) == 2  # one per code
    patched_a = [r for r in responses[4:7] if r.status_code == 200]
    assert len(patched_a) == 1
    assert [r.status_code for r in responses[7:9]] == [200, 200]
    assert sorted(r.status_code for r in responses[9:]) == [204, 404]
    assert await world.audit(projects[0]["id"]) == ["create", "update"]
    assert await world.audit(projects[1]["id"]) == ["create", "update", "update"]
    assert await world.audit(projects[2]["id"]) == ["create", "delete"]
    for response in created:
        assert await world.audit(response.json()["id"]) == ["create"]
        world.projects.append(response.json()["id"])
