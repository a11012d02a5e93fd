"""Baselines through the API: the copy, its survival, the conventions, who may do what."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from sqlalchemy import select

from ipcp_api.models import AuditEvent, Baseline

P = "/api/v1/programmes"
B = "/api/v1/baselines"


async def plan_of(factory: Any) -> dict[str, Any]:
    """A submitted programme with two projects (one cancelled) and three milestones."""
    programme = await factory.programme(status="submitted")
    a = await factory.project(programme_id=programme.id, code="A", title="Alpha")
    c = await factory.project(programme_id=programme.id, code="C", status="cancelled")
    m1 = await factory.milestone(
        project_id=a.id,
        title="M1",
        due_on=date(2016, 12, 31),
        weight=3,
        translations={"ar": {"title": "م١"}},
    )
    m2 = await factory.milestone(
        project_id=a.id,
        title="M2",
        due_on=date(2017, 3, 1),
        state="done",
        completed_on=date(2017, 2, 1),
    )
    m3 = await factory.milestone(project_id=c.id, title="M3", state="cancelled")
    return {"programme": programme, "a": a, "c": c, "m": [m1, m2, m3]}


async def approve(client: httpx.AsyncClient, programme_id: int) -> dict[str, Any]:
    response = await client.patch(f"{P}/{programme_id}", json={"status": "approved"})
    assert response.status_code == 200, response.text
    page = (await client.get(f"{P}/{programme_id}/baselines")).json()
    assert page["total"] == 1
    return dict(page["items"][0])


async def test_approval_takes_the_approval_baseline_with_its_copy(
    client: httpx.AsyncClient, factory: Any, session: Any
) -> None:
    world = await plan_of(factory)
    programme = world["programme"]
    baseline = await approve(client, programme.id)
    assert baseline["kind"] == "approval"
    assert baseline["name"] == "As approved"
    assert baseline["note"] is None
    assert baseline["programme_id"] == programme.id
    assert (baseline["projects"], baseline["milestones"]) == (2, 3)
    assert baseline["version"] == 1
    assert isinstance(baseline["taken_by"], int)

    # the copy survives changes and deletions of the live plan
    m1, m2, m3 = world["m"]
    assert (
        await client.patch(f"/api/v1/milestones/{m1.id}", json={"due_on": "2017-09-30"})
    ).status_code == 200
    for milestone in (m2, m3):
        assert (await client.delete(f"/api/v1/milestones/{milestone.id}")).status_code == 204
    assert (await client.delete(f"/api/v1/projects/{world['c'].id}")).status_code == 204

    read = await client.get(f"{B}/{baseline['id']}", params={"include": "plan"})
    assert read.status_code == 200, read.text
    plan = read.json()["plan"]
    assert [p["code"] for p in plan["projects"]] == ["A", "C"]
    alpha, cancelled = plan["projects"]
    assert alpha["project_id"] == world["a"].id
    assert alpha["title"] == "Alpha"
    assert [
        (m["milestone_id"], m["due_on"], m["weight"], m["state"], m["completed_on"])
        for m in alpha["milestones"]
    ] == [
        (m1.id, "2016-12-31", 3, "pending", None),
        (m2.id, "2017-03-01", 1, "done", "2017-02-01"),
    ]
    assert alpha["milestones"][0]["translations"] == {"ar": {"title": "م١"}}
    assert cancelled["status"] == "cancelled"
    assert [m["state"] for m in cancelled["milestones"]] == ["cancelled"]
    assert "plan" not in (await client.get(f"{B}/{baseline['id']}")).json()

    # one approval baseline per programme, ever (the database holds it too)
    rows = (
        await session.scalars(select(Baseline).where(Baseline.programme_id == programme.id))
    ).all()
    assert len(rows) == 1


async def test_named_baselines_list_newest_first_and_audit(
    client: httpx.AsyncClient, factory: Any, session: Any
) -> None:
    world = await plan_of(factory)
    pid = world["programme"].id
    created = []
    for name in ("first", "second", "third"):
        response = await client.post(f"{P}/{pid}/baselines", json={"name": name, "note": None})
        assert response.status_code == 201, response.text
        assert response.headers["location"] == f"{B}/{response.json()['id']}"
        assert response.headers["etag"] == '"1"'
        assert response.json()["kind"] == "named"
        assert response.json()["milestones"] == 3
        created.append(response.json()["id"])
    page = (await client.get(f"{P}/{pid}/baselines", params={"limit": 2})).json()
    assert [item["id"] for item in page["items"]] == created[::-1][:2]
    assert page["total"] == 3
    rest = (await client.get(f"{P}/{pid}/baselines", params={"cursor": page["next_cursor"]})).json()
    assert [item["id"] for item in rest["items"]] == [created[0]]

    url = f"{B}/{created[0]}"
    got = await client.get(url)
    assert got.headers["etag"] == '"1"'
    assert (await client.get(url, headers={"If-None-Match": '"1"'})).status_code == 304
    renamed = await client.patch(
        url, json={"name": "renamed", "note": "why"}, headers={"If-Match": '"1"'}
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["note"], renamed.json()["version"]) == (
        "renamed",
        "why",
        2,
    )
    assert (
        await client.patch(url, json={"name": "x"}, headers={"If-Match": '"1"'})
    ).status_code == 412
    assert (await client.delete(url, headers={"If-Match": '"1"'})).status_code == 412
    assert (await client.delete(url)).status_code == 204
    assert (await client.get(url)).status_code == 404

    events = (
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == "baselines", AuditEvent.entity_id == created[0])
            .order_by(AuditEvent.id)
        )
    ).all()
    assert [e.action for e in events] == ["create", "update", "delete"]
    assert events[0].changes["name"] == [None, "first"]
    assert events[1].changes == {"name": ["first", "renamed"], "note": [None, "why"]}
    assert events[2].changes["name"] == ["renamed", None]


async def test_bad_inputs_change_nothing(client: httpx.AsyncClient, factory: Any) -> None:
    world = await plan_of(factory)
    pid = world["programme"].id
    baseline = await approve(client, pid)
    url = f"{B}/{baseline['id']}"
    for body in (
        {"kind": "named"},
        {"projects": 3},
        {"taken_at": "2020-01-01T00:00:00Z"},
        {"programme_id": pid},
        {"name": None},
        {"name": ""},
        {"name": "x" * 201},
        {"note": "x" * 2001},
        {"name": "a\u0000b"},
    ):
        response = await client.patch(url, json=body)
        assert response.status_code == 422, (body, response.text)
    for body in ({}, {"name": ""}, {"name": "x", "kind": "approval"}, {"name": 5}):
        assert (await client.post(f"{P}/{pid}/baselines", json=body)).status_code == 422, body
    deleted = await client.delete(url)
    assert deleted.status_code == 409
    assert deleted.headers["content-type"] == "application/problem+json"
    assert (await client.get(url)).json() == baseline
    assert (await client.get(f"{B}/{baseline['id']}", params={"include": "all"})).status_code == 422
    assert (await client.post(f"{P}/{10**12}/baselines", json={"name": "x"})).status_code == 404
    assert (await client.get(f"{P}/{10**12}/baselines")).status_code == 404
    assert (await client.get(f"{P}/{pid}/baselines")).json()["total"] == 1


async def test_liaison_and_viewer_read_their_partners_and_write_nothing(
    client: httpx.AsyncClient, client_for: Any, factory: Any
) -> None:
    world = await plan_of(factory)
    programme = world["programme"]
    baseline = await approve(client, programme.id)
    other = await plan_of(factory)
    theirs = await approve(client, other["programme"].id)
    for role in ("liaison", "viewer"):
        user = await client_for(role, programme.partner_id)
        assert (await user.get(f"{B}/{baseline['id']}?include=plan")).status_code == 200
        assert (await user.get(f"{P}/{programme.id}/baselines")).json()["total"] == 1
        assert (await user.get(f"{B}/{theirs['id']}")).status_code == 404
        assert (await user.get(f"{P}/{other['programme'].id}/baselines")).status_code == 404
        assert (
            await user.post(f"{P}/{programme.id}/baselines", json={"name": "x"})
        ).status_code == 403
        assert (await user.patch(f"{B}/{baseline['id']}", json={"name": "x"})).status_code == 403
        assert (await user.delete(f"{B}/{baseline['id']}")).status_code == 403


async def test_statement_budgets(client: httpx.AsyncClient, factory: Any, statements: Any) -> None:
    world = await plan_of(factory)
    pid = world["programme"].id
    ids = [
        (await client.post(f"{P}/{pid}/baselines", json={"name": f"b{i}"})).json()["id"]
        for i in range(3)
    ]
    counts = []
    for url in (f"{P}/{pid}/baselines", f"{B}/{ids[0]}", f"{B}/{ids[0]}?include=plan"):
        statements.reset()
        assert (await client.get(url)).status_code == 200
        counts.append(statements.count)
    # token; programme check + page | the row | the row + the plan
    assert counts == [3, 2, 3]
