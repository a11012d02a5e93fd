from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from ipcp_api.common import metrics
from ipcp_api.models import AuditEvent, Milestone, Project

URL = "/api/v1/milestones"
TODAY = metrics.today()


def d(days: int) -> date:
    """A date relative to today (UTC), so the tests hold whatever day they run."""
    return TODAY + timedelta(days=days)


def iso(days: int) -> str:
    return d(days).isoformat()


async def count_milestones(session) -> int:
    return int(await session.scalar(select(func.count()).select_from(Milestone)) or 0)


async def project_now(factory, **kw: Any) -> Project:
    """A project running from 300 days ago to 300 days ahead (in a programme ±400 days)."""
    if "programme_id" not in kw:
        programme_kw = {k: kw.pop(k) for k in ("partner_id", "approved_on") if k in kw}
        if "programme_status" in kw:
            programme_kw["status"] = kw.pop("programme_status")
        programme = await factory.programme(starts_on=d(-400), ends_on=d(400), **programme_kw)
        kw["programme_id"] = programme.id
    kw.setdefault("starts_on", d(-300))
    kw.setdefault("ends_on", d(300))
    return await factory.project(**kw)


def body(project_id: int, **kw: Any) -> dict[str, Any]:
    return {"project_id": project_id, "title": "Course curriculum agreed", "due_on": iso(10)} | kw


# --- create, read, list -----------------------------------------------------------------------


async def test_create_get_list(client: httpx.AsyncClient, factory, session) -> None:
    project = await project_now(factory)
    payload = body(
        project.id,
        title="اعتماد المنهج",
        due_on=iso(-20),
        weight=3,
        state="done",
        completed_on=iso(-21),
    )
    created = await client.post(URL, json=payload)
    assert created.status_code == 201, created.text
    data = created.json()
    assert created.headers["location"] == f"{URL}/{data['id']}"
    assert created.headers["etag"] == '"1"'
    for key, value in payload.items():
        assert data[key] == value, key
    assert data["overdue"] is False
    assert data["version"] == 1
    got = await client.get(created.headers["location"])
    assert got.status_code == 200
    assert got.headers["etag"] == '"1"'
    assert got.json() == data
    listed = (await client.get(URL)).json()
    assert listed["total"] == 1
    assert listed["items"] == [data]
    events = (
        await session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "milestones", AuditEvent.entity_id == data["id"]
            )
        )
    ).all()
    assert [e.action for e in events] == ["create"]
    assert events[0].changes["completed_on"] == [None, iso(-21)]
    # the project's figures follow
    project_data = (await client.get(f"/api/v1/projects/{project.id}")).json()
    assert (project_data["progress"], project_data["schedule"]) == (1.0, "complete")


async def test_defaults(client: httpx.AsyncClient, factory) -> None:
    project = await project_now(factory)
    data = (await client.post(URL, json=body(project.id))).json()
    assert (data["weight"], data["state"], data["completed_on"], data["overdue"]) == (
        1,
        "pending",
        None,
        False,
    )


async def test_if_none_match_and_ids(client: httpx.AsyncClient, factory) -> None:
    milestone = await factory.milestone()
    url = f"{URL}/{milestone.id}"
    response = await client.get(url, headers={"If-None-Match": '"1"'})
    assert response.status_code == 304
    assert response.headers["etag"] == '"1"'
    assert response.content == b""
    assert (await client.get(f"{URL}/999999")).status_code == 404
    assert (await client.get(f"{URL}/99999999999999999999999")).status_code == 404
    assert (await client.get(f"{URL}/abc")).status_code == 422
    response = await client.put(url, json={})
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {
        "GET",
        "PATCH",
        "DELETE",
    }


# --- invalid bodies ---------------------------------------------------------------------------


async def test_invalid_bodies_are_422_and_create_nothing(
    client: httpx.AsyncClient, factory, session
) -> None:
    project = await project_now(factory)
    good = body(project.id)
    cases: list[tuple[dict[str, Any], str]] = [
        ({k: v for k, v in good.items() if k != "project_id"}, "project_id"),
        ({k: v for k, v in good.items() if k != "title"}, "title"),
        ({k: v for k, v in good.items() if k != "due_on"}, "due_on"),
        (good | {"title": ""}, "title"),
        (good | {"title": "x" * 301}, "title"),
        (good | {"title": "a\x00b"}, "title"),
        (good | {"weight": 0}, "weight"),
        (good | {"weight": 101}, "weight"),
        (good | {"weight": "1"}, "weight"),
        (good | {"weight": 1.5}, "weight"),
        (good | {"weight": True}, "weight"),
        (good | {"weight": None}, "weight"),
        (good | {"state": "finished"}, "state"),
        (good | {"state": None}, "state"),
        (good | {"due_on": iso(-301)}, "due_on"),  # before the project
        (good | {"due_on": iso(301)}, "due_on"),  # after the project
        (good | {"due_on": "2017-13-01"}, "due_on"),
        (good | {"state": "done"}, "completed_on"),  # done without completed_on
        (good | {"state": "done", "completed_on": None}, "completed_on"),
        (good | {"state": "done", "completed_on": iso(1)}, "completed_on"),  # after today
        (good | {"completed_on": iso(-1)}, "completed_on"),  # pending with completed_on
        (good | {"state": "cancelled", "completed_on": iso(-1)}, "completed_on"),
        (good | {"project_id": 999999}, "project_id"),
        (good | {"project_id": "1"}, "project_id"),
        (good | {"project_id": 2**63}, "project_id"),
        (good | {"overdue": False}, "overdue"),
        (good | {"id": 1}, "id"),
        (good | {"colour": "red"}, "colour"),
    ]
    for payload, field in cases:
        response = await client.post(URL, json=payload)
        assert response.status_code == 422, (payload, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        locs = [e["loc"] for e in response.json()["errors"]]
        assert any(loc[:2] == ["body", field] for loc in locs), (payload, locs)
    assert await count_milestones(session) == 0


async def test_edges_are_accepted(client: httpx.AsyncClient, factory) -> None:
    project = await project_now(factory)
    for payload in (
        body(project.id, due_on=iso(-300)),
        body(project.id, due_on=iso(300)),
        body(project.id, weight=1),
        body(project.id, weight=100),
        body(project.id, state="done", completed_on=iso(0)),
        body(project.id, state="cancelled"),
    ):
        response = await client.post(URL, json=payload)
        assert response.status_code == 201, (payload, response.text)


# --- patch ------------------------------------------------------------------------------------


async def test_patch_state_rules_on_the_merged_result(client: httpx.AsyncClient, factory) -> None:
    project = await project_now(factory)
    milestone = await factory.milestone(project_id=project.id, due_on=d(-5))
    url = f"{URL}/{milestone.id}"
    assert (await client.get(url)).json()["overdue"] is True
    # done without completed_on
    response = await client.patch(url, json={"state": "done"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "completed_on"]
    # completed_on on a pending milestone
    response = await client.patch(url, json={"completed_on": iso(-1)})
    assert response.status_code == 422
    # done in the future
    response = await client.patch(url, json={"state": "done", "completed_on": iso(1)})
    assert response.status_code == 422
    assert (await client.get(url)).json()["version"] == 1
    done = await client.patch(
        url, json={"state": "done", "completed_on": iso(-1)}, headers={"If-Match": '"1"'}
    )
    assert done.status_code == 200, done.text
    assert (done.json()["state"], done.json()["overdue"], done.json()["version"]) == (
        "done",
        False,
        2,
    )
    assert done.headers["etag"] == '"2"'
    # strict: back to pending must clear completed_on in the same body
    for payload in ({"state": "pending"}, {"state": "cancelled"}, {"completed_on": None}):
        response = await client.patch(url, json=payload)
        assert response.status_code == 422, payload
        assert response.json()["errors"][0]["loc"] == ["body", "completed_on"]
    assert (await client.get(url)).json()["state"] == "done"
    # changing completed_on of a done milestone is fine
    moved = await client.patch(url, json={"completed_on": iso(-2)})
    assert moved.status_code == 200
    assert moved.json()["completed_on"] == iso(-2)
    back = await client.patch(url, json={"state": "pending", "completed_on": None})
    assert back.status_code == 200
    assert (back.json()["state"], back.json()["completed_on"], back.json()["overdue"]) == (
        "pending",
        None,
        True,
    )
    cancelled = await client.patch(url, json={"state": "cancelled"})
    assert cancelled.status_code == 200
    assert cancelled.json()["overdue"] is False


async def test_bad_patches_change_nothing(client: httpx.AsyncClient, factory) -> None:
    project = await project_now(factory)
    milestone = await factory.milestone(project_id=project.id, due_on=d(10), weight=2)
    url = f"{URL}/{milestone.id}"
    before = (await client.get(url)).json()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"title": None}, "title"),
        ({"due_on": None}, "due_on"),
        ({"weight": None}, "weight"),
        ({"state": None}, "state"),
        ({"project_id": None}, "project_id"),
        ({"title": ""}, "title"),
        ({"weight": 0}, "weight"),
        ({"weight": "2"}, "weight"),
        ({"due_on": iso(301)}, "due_on"),
        ({"due_on": iso(-301)}, "due_on"),
        ({"project_id": 999999}, "project_id"),
        ({"overdue": True}, "overdue"),
        ({"version": 5}, "version"),
    ]
    for payload, field in cases:
        response = await client.patch(url, json=payload)
        assert response.status_code == 422, (payload, response.text)
        locs = [e["loc"] for e in response.json()["errors"]]
        assert any(loc[:2] == ["body", field] for loc in locs), (payload, locs)
    stale = await client.patch(url, json={"title": "New"}, headers={"If-Match": '"9"'})
    assert stale.status_code == 412
    assert (await client.get(url)).json() == before
    same = await client.patch(url, json={"weight": 2, "title": milestone.title})
    assert same.status_code == 200
    assert same.json()["version"] == 1


async def test_merge_patch_and_audit(client: httpx.AsyncClient, factory, session) -> None:
    project = await project_now(factory)
    milestone = await factory.milestone(project_id=project.id, due_on=d(10))
    url = f"{URL}/{milestone.id}"
    response = await client.patch(url, json={"weight": 7, "due_on": iso(20)})
    assert response.status_code == 200
    data = response.json()
    assert (data["weight"], data["due_on"], data["title"]) == (7, iso(20), milestone.title)
    event = await session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity == "milestones",
            AuditEvent.entity_id == milestone.id,
            AuditEvent.action == "update",
        )
    )
    assert event is not None
    assert event.changes == {"weight": [1, 7], "due_on": [iso(10), iso(20)]}


async def test_move_to_another_project(client: httpx.AsyncClient, factory) -> None:
    project = await project_now(factory)
    milestone = await factory.milestone(project_id=project.id, due_on=d(100))
    url = f"{URL}/{milestone.id}"
    short = await project_now(factory, starts_on=d(-10), ends_on=d(50))
    response = await client.patch(url, json={"project_id": short.id})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "due_on"]
    moved = await client.patch(url, json={"project_id": short.id, "due_on": iso(40)})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["project_id"], moved.json()["due_on"]) == (short.id, iso(40))


async def test_project_period_guards_new_due_dates(client: httpx.AsyncClient, factory) -> None:
    """After the project's period is shrunk through the API, due_on is checked against it."""
    project = await project_now(factory)
    shrunk = await client.patch(f"/api/v1/projects/{project.id}", json={"ends_on": iso(30)})
    assert shrunk.status_code == 200
    response = await client.post(URL, json=body(project.id, due_on=iso(31)))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "due_on"]
    assert (await client.post(URL, json=body(project.id, due_on=iso(30)))).status_code == 201


# --- delete -----------------------------------------------------------------------------------


async def test_deleting_the_last_milestone_frees_its_project(
    client: httpx.AsyncClient, factory, session
) -> None:
    """(412, 204 then 404 and the audit row: tests/test_shared_behaviours.py.)"""
    milestone = await factory.milestone()
    project_url = f"/api/v1/projects/{milestone.project_id}"
    assert (await client.delete(project_url)).status_code == 409
    assert (await client.delete(f"{URL}/{milestone.id}")).status_code == 204
    assert (await client.delete(project_url)).status_code == 204


# --- overdue ----------------------------------------------------------------------------------


async def test_overdue(client: httpx.AsyncClient, factory) -> None:
    project = await project_now(factory)
    cancelled_project = await project_now(factory, status="cancelled")
    cases = {
        "yesterday": ({"due_on": d(-1)}, True),
        "long ago": ({"due_on": d(-200)}, True),
        "today": ({"due_on": d(0)}, False),
        "tomorrow": ({"due_on": d(1)}, False),
        "done": ({"due_on": d(-10), "state": "done", "completed_on": d(-3)}, False),
        "cancelled": ({"due_on": d(-10), "state": "cancelled"}, False),
        "in a cancelled project": (
            {"due_on": d(-10), "project_id": cancelled_project.id},
            False,
        ),
    }
    ids = {}
    for title, (kw, _) in cases.items():
        kw.setdefault("project_id", project.id)
        ids[title] = (await factory.milestone(title=title, **kw)).id
    for title, (_, expected) in cases.items():
        data = (await client.get(f"{URL}/{ids[title]}")).json()
        assert data["overdue"] is expected, title
    listed = (await client.get(URL, params={"limit": 200})).json()["items"]
    assert {m["title"]: m["overdue"] for m in listed} == {t: e for t, (_, e) in cases.items()}
    overdue = (await client.get(URL, params={"overdue": "true"})).json()
    assert sorted(m["title"] for m in overdue["items"]) == ["long ago", "yesterday"]
    assert overdue["total"] == 2
    not_overdue = (await client.get(URL, params={"overdue": "false"})).json()
    assert not_overdue["total"] == 5


# --- filters and sorting ----------------------------------------------------------------------


async def titles(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get(URL, params=params)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["total"] == len(data["items"])
    return [m["title"] for m in data["items"]]


async def test_filters(client: httpx.AsyncClient, factory) -> None:
    programme = await factory.programme(starts_on=d(-400), ends_on=d(400))
    p1 = await project_now(factory, programme_id=programme.id)
    p2 = await project_now(factory, programme_id=programme.id)
    p3 = await project_now(factory)
    await factory.milestone(project_id=p1.id, title="a", due_on=d(-10))
    await factory.milestone(
        project_id=p1.id, title="b", due_on=d(-5), state="done", completed_on=d(-6)
    )
    await factory.milestone(project_id=p2.id, title="c", due_on=d(5), state="cancelled")
    await factory.milestone(project_id=p3.id, title="d", due_on=d(10))
    assert await titles(client) == ["a", "b", "c", "d"]
    assert await titles(client, project_id=p1.id) == ["a", "b"]
    assert await titles(client, programme_id=programme.id) == ["a", "b", "c"]
    assert await titles(client, state="done") == ["b"]
    assert await titles(client, state="cancelled") == ["c"]
    assert await titles(client, state="pending") == ["a", "d"]
    assert await titles(client, overdue="true") == ["a"]
    assert await titles(client, overdue="false") == ["b", "c", "d"]
    assert await titles(client, overdue="1") == ["a"]  # FastAPI's bool: 1/0, yes/no, on/off too
    assert await titles(client, due_before=iso(-5)) == ["a"]  # exclusive
    assert await titles(client, due_after=iso(5)) == ["d"]  # exclusive
    assert await titles(client, due_after=iso(-10), due_before=iso(10)) == ["b", "c"]
    assert await titles(client, programme_id=programme.id, state="pending") == ["a"]
    assert await titles(client, project_id=999999) == []


async def test_bad_list_parameters_are_422(client: httpx.AsyncClient) -> None:
    for params in (
        {"state": "finished"},
        {"overdue": "maybe"},
        {"overdue": ""},
        {"due_before": "2017-02-30"},
        {"due_before": "30/06/2017"},
        {"due_after": "1700000000"},
        {"due_after": "2017-06-30T00:00:00"},
        {"project_id": "x"},
        {"project_id": 0},
        {"programme_id": 2**63},
        {"sort": "state"},
        {"sort": "-completed_on"},
        {"limit": 0},
        {"cursor": "garbage"},
        {"due": "2017-01-01"},
    ):
        response = await client.get(URL, params=params)
        assert response.status_code == 422, params
        assert response.json()["errors"], params


async def test_sorting_and_pagination(client: httpx.AsyncClient, factory) -> None:
    project = await project_now(factory)
    for title, due, weight in (("c", 5, 2), ("a", 1, 3), ("b", 5, 1), ("d", -3, 2)):
        await factory.milestone(project_id=project.id, title=title, due_on=d(due), weight=weight)
    assert await titles(client) == ["d", "a", "c", "b"]  # due_on, ties on id
    assert await titles(client, sort="-due_on") == ["b", "c", "a", "d"]
    assert await titles(client, sort="title") == ["a", "b", "c", "d"]
    assert await titles(client, sort="weight") == ["b", "c", "d", "a"]
    assert await titles(client, sort="-weight") == ["a", "d", "c", "b"]
    for sort in ("due_on", "-due_on", "title", "weight", "-weight"):
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 1, "sort": sort}
        while True:
            response = await client.get(URL, params=params)
            seen += [m["title"] for m in response.json()["items"]]
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
            assert 'rel="next"' in response.headers["link"]
            params["cursor"] = cursor
        assert seen == await titles(client, sort=sort), sort


# --- access -----------------------------------------------------------------------------------


async def test_scoping(client_for, factory, session) -> None:
    mine = await factory.partner()
    theirs = await factory.partner()
    my_project = await project_now(factory, partner_id=mine.id)
    their_project = await project_now(factory, partner_id=theirs.id)
    my_milestone = await factory.milestone(project_id=my_project.id, title="mine", due_on=d(1))
    their_milestone = await factory.milestone(
        project_id=their_project.id, title="theirs", due_on=d(1)
    )
    for role in ("liaison", "viewer"):
        user = await client_for(role, mine.id)
        listed = (await user.get(URL)).json()
        assert [m["title"] for m in listed["items"]] == ["mine"]
        assert listed["total"] == 1
        assert (await user.get(URL, params={"project_id": their_project.id})).json()["total"] == 0
        assert (await user.get(f"{URL}/{my_milestone.id}")).status_code == 200
        assert (await user.get(f"{URL}/{their_milestone.id}")).status_code == 404
    liaison = await client_for("liaison", mine.id)
    their_url = f"{URL}/{their_milestone.id}"
    assert (await liaison.patch(their_url, json={"title": "x"})).status_code == 404
    assert (await liaison.delete(their_url)).status_code == 404
    response = await liaison.post(URL, json=body(their_project.id))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "project_id"]
    response = await liaison.patch(
        f"{URL}/{my_milestone.id}", json={"project_id": their_project.id}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "project_id"]
    assert await count_milestones(session) == 2
    assert (await (await client_for("viewer")).get(URL)).json()["total"] == 2


async def test_viewers_may_not_write(client_for, factory, session) -> None:
    partner = await factory.partner()
    project = await project_now(factory, partner_id=partner.id)
    milestone = await factory.milestone(project_id=project.id, due_on=d(1))
    for partner_id in (partner.id, None):
        viewer = await client_for("viewer", partner_id)
        assert (await viewer.post(URL, json=body(project.id))).status_code == 403
        url = f"{URL}/{milestone.id}"
        assert (await viewer.patch(url, json={"title": "x"})).status_code == 403
        assert (await viewer.delete(url)).status_code == 403
    assert await count_milestones(session) == 1
    await session.refresh(milestone)
    assert milestone.version == 1


async def test_liaison_writes_unless_programme_closed(client_for, factory, session) -> None:
    partner = await factory.partner()
    liaison = await client_for("liaison", partner.id)
    open_project = await project_now(factory, partner_id=partner.id, programme_status="draft")
    created = await liaison.post(URL, json=body(open_project.id))
    assert created.status_code == 201, created.text
    url = created.headers["location"]
    assert (await liaison.patch(url, json={"title": "Renamed"})).status_code == 200
    assert (await liaison.delete(url)).status_code == 204
    staff = await client_for("staff")
    for status in ("completed", "cancelled"):
        approved = d(-390) if status == "completed" else None
        project = await project_now(
            factory, partner_id=partner.id, programme_status=status, approved_on=approved
        )
        milestone = await factory.milestone(project_id=project.id, due_on=d(1))
        assert (await liaison.post(URL, json=body(project.id))).status_code == 403, status
        url = f"{URL}/{milestone.id}"
        assert (await liaison.patch(url, json={"title": "Renamed"})).status_code == 403
        assert (await liaison.delete(url)).status_code == 403
        assert (await liaison.get(url)).json()["title"] == milestone.title
        # nor move one of an open programme into it
        mine = await factory.milestone(project_id=open_project.id, due_on=d(1))
        response = await liaison.patch(f"{URL}/{mine.id}", json={"project_id": project.id})
        assert response.status_code == 403
        # staff still may
        assert (await staff.patch(url, json={"title": "By staff"})).status_code == 200
    assert await count_milestones(session) == 4


async def test_no_token_is_401(anon: httpx.AsyncClient) -> None:
    assert (await anon.get(URL)).status_code == 401
    assert (await anon.post(URL, json={})).status_code == 401


# --- statement budget -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 100])
async def test_statement_budget(client: httpx.AsyncClient, factory, session, statements, n) -> None:
    project = await project_now(factory)
    milestones = [
        Milestone(project_id=project.id, title=f"M{i:03}", due_on=d(-150 + 3 * i), weight=1)
        for i in range(n)
    ]
    session.add_all(milestones)
    await session.flush()
    statements.reset()
    response = await client.get(URL, params={"limit": 200, "project_id": project.id})
    assert response.status_code == 200
    assert len(response.json()["items"]) == n
    assert response.json()["items"][0]["overdue"] is True
    list_count = statements.count
    statements.reset()
    assert (await client.get(f"{URL}/{milestones[-1].id}")).status_code == 200
    # the same number whatever n. The token's first read in this process also reads its user
    # on its own; then one statement each: the user check with the page and its total / with
    # the row.
    assert (list_count, statements.count) == (2, 1), statements.statements
    statements.reset()
    listed = await client.get(URL, params={"limit": 200, "project_id": project.id})
    assert listed.status_code == 200
    assert statements.count == 1, statements.statements


async def test_project_is_locked_while_validating(
    client: httpx.AsyncClient, factory, statements
) -> None:
    """due_on is checked against the project read FOR SHARE: a concurrent change of the
    project's period (which locks it FOR NO KEY UPDATE) waits for this transaction."""
    project = await project_now(factory)
    statements.reset()
    created = await client.post(URL, json=body(project.id))
    assert created.status_code == 201
    assert any("FOR SHARE OF projects, programmes" in s for s in statements.statements)
    statements.reset()
    patched = await client.patch(created.headers["location"], json={"due_on": iso(20)})
    assert patched.status_code == 200
    assert any("FOR SHARE OF projects, programmes" in s for s in statements.statements)
