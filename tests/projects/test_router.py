from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from ipcp_api.common import metrics
from ipcp_api.models import AuditEvent, Milestone, Project

URL = "/api/v1/projects"
TODAY = metrics.today()


def d(days: int) -> date:
    """A date relative to today (UTC), so the tests hold whatever day they run."""
    return TODAY + timedelta(days=days)


async def count_projects(session) -> int:
    return int(await session.scalar(select(func.count()).select_from(Project)) or 0)


async def programme_now(factory, **kw: Any):
    """A programme whose period runs from 400 days ago to 400 days ahead."""
    kw.setdefault("starts_on", d(-400))
    kw.setdefault("ends_on", d(400))
    return await factory.programme(**kw)


async def project_now(factory, **kw: Any) -> Project:
    if "programme_id" not in kw:
        kw["programme_id"] = (await programme_now(factory)).id
    kw.setdefault("starts_on", d(-300))
    kw.setdefault("ends_on", d(300))
    return await factory.project(**kw)


def body(programme_id: int, pillar_id: int, **kw: Any) -> dict[str, Any]:
    return {
        "programme_id": programme_id,
        "pillar_id": pillar_id,
        "code": "CT-1",
        "title": "Counter-terrorism training course",
        "starts_on": "2016-09-01",
        "ends_on": "2017-06-30",
    } | kw


# --- create, read, list -----------------------------------------------------------------------


async def test_create_get_list(client: httpx.AsyncClient, factory, session) -> None:
    programme = await factory.programme()
    pillar = await factory.pillar(2)
    payload = body(
        programme.id,
        pillar.id,
        description="دورة تدريبية في مكافحة الإرهاب",
        lead="Ministry of Interior",
        areas=["counter-terrorism", "training"],
    )
    created = await client.post(URL, json=payload)
    assert created.status_code == 201, created.text
    data = created.json()
    assert created.headers["location"] == f"{URL}/{data['id']}"
    assert created.headers["etag"] == '"1"'
    for key, value in payload.items():
        assert data[key] == value, key
    assert data["status"] == "planned"
    assert data["version"] == 1
    assert data["progress"] is None
    assert data["expected_progress"] is None
    assert data["schedule"] == "not_planned"
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
                AuditEvent.entity == "projects", AuditEvent.entity_id == data["id"]
            )
        )
    ).all()
    assert [e.action for e in events] == ["create"]
    assert events[0].changes["areas"] == [None, ["counter-terrorism", "training"]]


async def test_defaults(client: httpx.AsyncClient, factory) -> None:
    programme = await factory.programme()
    pillar = await factory.pillar(1)
    data = (await client.post(URL, json=body(programme.id, pillar.id))).json()
    assert data["areas"] == []
    assert data["description"] is None
    assert data["lead"] is None
    assert data["status"] == "planned"


async def test_ids(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{URL}/999999")).status_code == 404
    assert (await client.get(f"{URL}/99999999999999999999999")).status_code == 404
    assert (await client.get(f"{URL}/0")).status_code == 404
    assert (await client.get(f"{URL}/abc")).status_code == 422
    assert (await client.patch(f"{URL}/99999999999999999999999", json={})).status_code == 404
    assert (await client.delete(f"{URL}/99999999999999999999999")).status_code == 404


async def test_method_not_allowed(client: httpx.AsyncClient, factory) -> None:
    response = await client.put(URL, json={})
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    project = await factory.project()
    response = await client.post(f"{URL}/{project.id}", json={})
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
    programme = await factory.programme()  # 2016-06-01 .. 2018-06-30
    pillar = await factory.pillar(1)
    good = body(programme.id, pillar.id)
    cases: list[tuple[dict[str, Any], str | None]] = [
        ({k: v for k, v in good.items() if k != "code"}, "code"),
        ({k: v for k, v in good.items() if k != "programme_id"}, "programme_id"),
        ({k: v for k, v in good.items() if k != "pillar_id"}, "pillar_id"),
        ({k: v for k, v in good.items() if k != "starts_on"}, "starts_on"),
        (good | {"code": ""}, "code"),
        (good | {"code": "x" * 33}, "code"),
        (good | {"code": 5}, "code"),
        (good | {"title": ""}, "title"),
        (good | {"title": "x" * 301}, "title"),
        (good | {"title": "a\x00b"}, "title"),
        (good | {"lead": ""}, "lead"),
        (good | {"lead": "x" * 201}, "lead"),
        (good | {"areas": ["Counter-Terrorism"]}, "areas"),
        (good | {"areas": ["counter-terrorism", "counter-terrorism"]}, "areas"),
        (good | {"areas": [f"tag-{i}" for i in range(21)]}, "areas"),
        (good | {"areas": ["a--b"]}, "areas"),
        (good | {"areas": ["-a"]}, "areas"),
        (good | {"areas": ["a-"]}, "areas"),
        (good | {"areas": ["a b"]}, "areas"),
        (good | {"areas": [""]}, "areas"),
        (good | {"areas": ["a" * 65]}, "areas"),
        (good | {"areas": "counter-terrorism"}, "areas"),
        (good | {"areas": None}, "areas"),
        (good | {"status": "done"}, "status"),
        (good | {"status": 1}, "status"),
        (good | {"status": None}, "status"),
        (good | {"programme_id": "1"}, "programme_id"),
        (good | {"programme_id": 0}, "programme_id"),
        (good | {"programme_id": 2**63}, "programme_id"),
        (good | {"programme_id": 999999}, "programme_id"),
        (good | {"pillar_id": 999999}, "pillar_id"),
        (good | {"starts_on": "01/09/2016"}, "starts_on"),
        (good | {"starts_on": "2016-02-30"}, "starts_on"),
        (good | {"starts_on": 20160901}, "starts_on"),
        (good | {"ends_on": "2016-08-31"}, "ends_on"),  # before starts_on
        (good | {"starts_on": "2016-05-31"}, "starts_on"),  # before the programme
        (good | {"ends_on": "2018-07-01"}, "ends_on"),  # after the programme
        (good | {"starts_on": "2018-07-01", "ends_on": "2018-07-02"}, "starts_on"),
        (good | {"progress": 0.5}, "progress"),
        (good | {"schedule": "late"}, "schedule"),
        (good | {"id": 7}, "id"),
        (good | {"version": 1}, "version"),
        (good | {"colour": "red"}, "colour"),
    ]
    for payload, field in cases:
        response = await client.post(URL, json=payload)
        assert response.status_code == 422, (payload, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        locs = [e["loc"] for e in response.json()["errors"]]
        assert any(loc[:2] == ["body", field] for loc in locs), (payload, locs)
    malformed = await client.post(
        URL, content=b'{"code": "X', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    assert await count_projects(session) == 0


async def test_date_errors_name_every_field(client: httpx.AsyncClient, factory) -> None:
    programme = await factory.programme()
    pillar = await factory.pillar(1)
    response = await client.post(
        URL, json=body(programme.id, pillar.id, starts_on="2015-01-01", ends_on="2019-01-01")
    )
    assert response.status_code == 422
    assert {tuple(e["loc"]) for e in response.json()["errors"]} == {
        ("body", "starts_on"),
        ("body", "ends_on"),
    }


async def test_period_may_touch_the_programme_bounds(client: httpx.AsyncClient, factory) -> None:
    programme = await factory.programme()
    pillar = await factory.pillar(1)
    payload = body(programme.id, pillar.id, starts_on="2016-06-01", ends_on="2018-06-30")
    assert (await client.post(URL, json=payload)).status_code == 201
    one_day = body(programme.id, pillar.id, code="D", starts_on="2017-01-01", ends_on="2017-01-01")
    assert (await client.post(URL, json=one_day)).status_code == 201


async def test_code_unique_within_programme(client: httpx.AsyncClient, factory, session) -> None:
    programme = await factory.programme()
    other = await factory.programme()
    pillar = await factory.pillar(1)
    assert (await client.post(URL, json=body(programme.id, pillar.id))).status_code == 201
    clash = await client.post(URL, json=body(programme.id, pillar.id, title="again"))
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["loc"] == ["body", "code"]
    assert await count_projects(session) == 1
    # the same code in another programme is fine
    assert (await client.post(URL, json=body(other.id, pillar.id))).status_code == 201


# --- patch ------------------------------------------------------------------------------------


async def test_patch_is_a_merge_patch(client: httpx.AsyncClient, factory, session) -> None:
    project = await factory.project(description="d", lead="Ministry", areas=["training"])
    url = f"{URL}/{project.id}"
    response = await client.patch(
        url, json={"description": None, "lead": None}, headers={"If-Match": '"1"'}
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["description"] is None
    assert data["lead"] is None
    assert data["areas"] == ["training"]
    assert data["title"] == project.title
    assert data["version"] == 2
    assert response.headers["etag"] == '"2"'
    assert data["schedule"] == "not_planned"
    # a patch that changes nothing: 200 and the same version
    same = await client.patch(url, json={"title": project.title, "areas": ["training"]})
    assert same.status_code == 200
    assert same.json()["version"] == 2
    changed = await client.patch(
        url, json={"areas": ["counter-piracy", "disaster-response"], "status": "in_progress"}
    )
    assert changed.json()["areas"] == ["counter-piracy", "disaster-response"]
    assert changed.json()["status"] == "in_progress"
    assert changed.json()["version"] == 3
    events = (
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == "projects", AuditEvent.entity_id == project.id)
            .order_by(AuditEvent.id)
        )
    ).all()
    assert [e.action for e in events] == ["update", "update"]
    assert events[0].changes == {"description": ["d", None], "lead": ["Ministry", None]}


async def test_bad_patches_change_nothing(client: httpx.AsyncClient, factory) -> None:
    project = await factory.project()  # 2016-06-01 .. 2018-06-30 in a programme of the same
    url = f"{URL}/{project.id}"
    before = (await client.get(url)).json()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"title": None}, "title"),
        ({"code": None}, "code"),
        ({"areas": None}, "areas"),
        ({"status": None}, "status"),
        ({"starts_on": None}, "starts_on"),
        ({"programme_id": None}, "programme_id"),
        ({"title": ""}, "title"),
        ({"areas": ["UPPER"]}, "areas"),
        ({"areas": ["x", "x"]}, "areas"),
        ({"status": "finished"}, "status"),
        ({"progress": 1}, "progress"),
        ({"id": 3}, "id"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ({"unknown": 1}, "unknown"),
        ({"ends_on": "2016-05-31"}, "ends_on"),  # before starts_on (merged)
        ({"starts_on": "2018-07-01"}, "starts_on"),  # after ends_on and the programme
        ({"ends_on": "2018-07-01"}, "ends_on"),  # after the programme
        ({"starts_on": "2016-05-31"}, "starts_on"),  # before the programme
        ({"pillar_id": 999999}, "pillar_id"),
        ({"programme_id": 999999}, "programme_id"),
    ]
    for payload, field in cases:
        response = await client.patch(url, json=payload)
        assert response.status_code == 422, (payload, response.text)
        locs = [e["loc"] for e in response.json()["errors"]]
        assert any(loc[:2] == ["body", field] for loc in locs), (payload, locs)
    stale = await client.patch(url, json={"title": "New"}, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    assert (await client.get(url)).json() == before


async def test_shrinking_below_milestones_is_422(client: httpx.AsyncClient, factory) -> None:
    project = await factory.project()  # 2016-06-01 .. 2018-06-30
    await factory.milestone(project_id=project.id, due_on=date(2016, 9, 1))
    await factory.milestone(project_id=project.id, due_on=date(2017, 12, 1))
    url = f"{URL}/{project.id}"
    for payload, field in (
        ({"starts_on": "2016-09-02"}, "starts_on"),
        ({"ends_on": "2017-11-30"}, "ends_on"),
        ({"starts_on": "2017-01-01", "ends_on": "2017-06-01"}, "starts_on"),
    ):
        response = await client.patch(url, json=payload)
        assert response.status_code == 422, payload
        assert ["body", field] in [e["loc"] for e in response.json()["errors"]]
    assert (await client.get(url)).json()["version"] == 1
    # shrinking down to the milestones themselves is fine
    ok = await client.patch(url, json={"starts_on": "2016-09-01", "ends_on": "2017-12-01"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["starts_on"] == "2016-09-01"


async def test_move_to_another_programme(client: httpx.AsyncClient, factory, session) -> None:
    project = await factory.project(code="MOVE")  # 2016-06-01 .. 2018-06-30
    url = f"{URL}/{project.id}"
    same_period = await factory.programme()
    short = await factory.programme(starts_on=date(2017, 1, 1), ends_on=date(2019, 1, 1))
    taken = await factory.programme()
    await factory.project(programme_id=taken.id, code="MOVE")
    response = await client.patch(url, json={"programme_id": short.id})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "starts_on"]
    # with dates that fit, in the same body
    moved = await client.patch(url, json={"programme_id": short.id, "starts_on": "2017-01-01"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["programme_id"] == short.id
    back = await client.patch(url, json={"programme_id": same_period.id})
    assert back.status_code == 200
    clash = await client.patch(url, json={"programme_id": taken.id})
    assert clash.status_code == 409
    assert (await client.get(url)).json()["programme_id"] == same_period.id


# --- delete -----------------------------------------------------------------------------------


async def test_delete_with_milestones_is_409(client: httpx.AsyncClient, factory, session) -> None:
    milestone = await factory.milestone()
    url = f"{URL}/{milestone.project_id}"
    response = await client.delete(url)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get(url)).status_code == 200
    assert await session.scalar(select(func.count()).select_from(Milestone)) == 1


# --- computed fields --------------------------------------------------------------------------


async def test_computed_fields_for_a_hand_built_project(client: httpx.AsyncClient, factory) -> None:
    project = await project_now(factory)
    # weight 1: done (due 50 days ago, done 45 days ago)
    await factory.milestone(
        project_id=project.id, weight=1, due_on=d(-50), state="done", completed_on=d(-45)
    )
    # weight 2: pending, due 40 days ago -> overdue by 40 > 30 days -> late
    await factory.milestone(project_id=project.id, weight=2, due_on=d(-40))
    # weight 3: pending, due in 10 days
    await factory.milestone(project_id=project.id, weight=3, due_on=d(10))
    # cancelled milestones never count
    await factory.milestone(project_id=project.id, weight=50, due_on=d(-100), state="cancelled")
    # progress = 1/6, expected = (1+2)/6
    expected = {"progress": 0.1667, "expected_progress": 0.5, "schedule": "late"}
    data = (await client.get(f"{URL}/{project.id}")).json()
    assert {k: data[k] for k in expected} == expected
    listed = (await client.get(URL)).json()["items"]
    assert [{k: p[k] for k in expected} for p in listed] == [expected]


@pytest.mark.parametrize(
    ("milestones", "expected"),
    [
        # no milestones at all
        ([], (None, None, "not_planned")),
        # only cancelled milestones: W = 0
        ([(5, -10, "cancelled", None)], (None, None, "not_planned")),
        # overdue by exactly 30 days: behind, not late
        ([(1, -30, "pending", None), (1, 5, "pending", None)], (0.0, 0.5, "behind")),
        # overdue by 31 days: late
        ([(1, -31, "pending", None), (1, 5, "pending", None)], (0.0, 0.5, "late")),
        # due today is not overdue; expected counts it
        ([(1, 0, "pending", None), (3, 20, "pending", None)], (0.0, 0.25, "on_track")),
        # everything done
        ([(2, -5, "done", -6), (1, 30, "done", -1)], (1.0, 0.6667, "complete")),
        # done late still counts as done; one of three weights
        ([(1, -60, "done", -2), (2, 60, "pending", None)], (0.3333, 0.3333, "on_track")),
    ],
)
async def test_schedule_cases(
    client: httpx.AsyncClient,
    factory,
    milestones: list[tuple[int, int, str, int | None]],
    expected: tuple[float | None, float | None, str],
) -> None:
    project = await project_now(factory)
    for weight, due, state, completed in milestones:
        await factory.milestone(
            project_id=project.id,
            weight=weight,
            due_on=d(due),
            state=state,
            completed_on=d(completed) if completed is not None else None,
        )
    data = (await client.get(f"{URL}/{project.id}")).json()
    assert (data["progress"], data["expected_progress"], data["schedule"]) == expected


async def test_cancelled_project_has_no_figures(client: httpx.AsyncClient, factory) -> None:
    project = await project_now(factory, status="cancelled")
    await factory.milestone(project_id=project.id, due_on=d(-60))
    await factory.milestone(project_id=project.id, due_on=d(-60), state="done", completed_on=d(-50))
    data = (await client.get(f"{URL}/{project.id}")).json()
    assert (data["progress"], data["expected_progress"], data["schedule"]) == (
        None,
        None,
        "not_planned",
    )
    # cancelling through the API updates the figures in the response
    live = await project_now(factory)
    await factory.milestone(project_id=live.id, due_on=d(-60))
    assert (await client.get(f"{URL}/{live.id}")).json()["schedule"] == "late"
    response = await client.patch(f"{URL}/{live.id}", json={"status": "cancelled"})
    assert response.json()["schedule"] == "not_planned"
    assert response.json()["progress"] is None


# --- filters and sorting ----------------------------------------------------------------------


async def codes(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get(URL, params=params)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["total"] == len(data["items"])
    return [p["code"] for p in data["items"]]


async def test_filters(client: httpx.AsyncClient, factory) -> None:
    partner_a = await factory.partner()
    partner_b = await factory.partner()
    prog_a = await factory.programme(partner_id=partner_a.id)
    prog_b = await factory.programme(partner_id=partner_b.id)
    pillar1 = await factory.pillar(1)
    pillar2 = await factory.pillar(2)
    await factory.project(
        programme_id=prog_a.id,
        pillar_id=pillar1.id,
        code="A1",
        title="Counter-terrorism course",
        areas=["counter-terrorism", "training"],
    )
    await factory.project(
        programme_id=prog_a.id,
        pillar_id=pillar2.id,
        code="A2",
        title="Piracy",
        lead="وزارة الداخلية",
        status="in_progress",
        areas=["counter-piracy"],
    )
    await factory.project(
        programme_id=prog_b.id,
        pillar_id=pillar1.id,
        code="B1",
        title="Exercise",
        description="A disaster-RESPONSE exercise",
        status="completed",
        areas=["disaster-response", "training"],
    )
    assert await codes(client) == ["A1", "A2", "B1"]
    assert await codes(client, q="COURSE") == ["A1"]
    assert await codes(client, q="response") == ["B1"]
    assert await codes(client, q="الداخلية") == ["A2"]
    assert await codes(client, q="b1") == ["B1"]
    assert await codes(client, q="%") == []
    assert await codes(client, programme_id=prog_a.id) == ["A1", "A2"]
    assert await codes(client, pillar_id=pillar1.id) == ["A1", "B1"]
    assert await codes(client, partner_id=partner_b.id) == ["B1"]
    assert await codes(client, partner_id=partner_a.id, pillar_id=pillar2.id) == ["A2"]
    assert await codes(client, status="in_progress") == ["A2"]
    assert await codes(client, status="cancelled") == []
    assert await codes(client, area="training") == ["A1", "B1"]
    assert await codes(client, area="counter-piracy") == ["A2"]
    assert await codes(client, area="counter") == []  # whole tags only
    assert await codes(client, area="training", partner_id=partner_a.id) == ["A1"]
    assert await codes(client, programme_id=999999) == []


async def test_bad_list_parameters_are_422(client: httpx.AsyncClient) -> None:
    for params in (
        {"status": "done"},
        {"status": ""},
        {"area": "Training"},
        {"area": "a b"},
        {"area": ""},
        {"programme_id": "x"},
        {"programme_id": 0},
        {"partner_id": 2**63},
        {"pillar_id": "1.5"},
        {"sort": "progress"},
        {"sort": "-lead"},
        {"limit": 0},
        {"limit": 201},
        {"cursor": "garbage"},
        {"programme": 1},
        {"q": "a\x00b"},
    ):
        response = await client.get(URL, params=params)
        assert response.status_code == 422, params
        assert response.json()["errors"], params


async def test_sorting_and_pagination(client: httpx.AsyncClient, factory) -> None:
    programme = await factory.programme()
    rows = [
        ("C", "beta", date(2016, 7, 1), date(2017, 3, 1), "planned"),
        ("A", "gamma", date(2016, 9, 1), date(2017, 1, 1), "completed"),
        ("B", "alpha", date(2016, 8, 1), date(2017, 2, 1), "on_hold"),
        ("D", "alpha", date(2016, 8, 1), date(2017, 2, 1), "in_progress"),
    ]
    ids = {}
    for code, title, starts, ends, status in rows:
        project = await factory.project(
            programme_id=programme.id,
            code=code,
            title=title,
            starts_on=starts,
            ends_on=ends,
            status=status,
        )
        ids[code] = project.id
    assert await codes(client) == ["A", "B", "C", "D"]
    assert await codes(client, sort="-code") == ["D", "C", "B", "A"]
    assert await codes(client, sort="title") == ["B", "D", "C", "A"]  # ties on id
    assert await codes(client, sort="starts_on") == ["C", "B", "D", "A"]
    assert await codes(client, sort="-ends_on") == ["C", "D", "B", "A"]
    assert await codes(client, sort="status") == ["A", "D", "B", "C"]
    for sort in ("code", "-title", "starts_on", "-ends_on", "status"):
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 1, "sort": sort}
        while True:
            response = await client.get(URL, params=params)
            seen += [p["code"] for p in response.json()["items"]]
            cursor = response.json()["next_cursor"]
            if cursor is None:
                assert "link" not in response.headers
                break
            assert 'rel="next"' in response.headers["link"]
            params["cursor"] = cursor
        assert seen == await codes(client, sort=sort), sort


async def test_a_page_past_the_last_row_still_has_its_total(
    client: httpx.AsyncClient, factory, session
) -> None:
    """The page and its total come from one statement: an empty page (the rows after the
    cursor were deleted meanwhile) still carries the total, and an empty list total 0."""
    programme = await factory.programme()
    projects = [
        await factory.project(programme_id=programme.id, code=code) for code in ("A", "B", "C")
    ]
    params: dict[str, Any] = {"programme_id": programme.id, "limit": 1}
    first = (await client.get(URL, params=params)).json()
    assert ([p["code"] for p in first["items"]], first["total"]) == (["A"], 3)
    for project in projects[1:]:
        await session.delete(project)
    await session.flush()
    after = await client.get(URL, params={**params, "cursor": first["next_cursor"]})
    assert after.status_code == 200
    assert after.json() == {"items": [], "total": 1, "limit": 1, "next_cursor": None}
    assert "link" not in after.headers
    empty = (await client.get(URL, params={**params, "q": "nothing like this"})).json()
    assert (empty["items"], empty["total"], empty["next_cursor"]) == ([], 0, None)


# --- access -----------------------------------------------------------------------------------


async def test_scoping(client_for, factory, session) -> None:
    mine = await factory.partner()
    theirs = await factory.partner()
    my_prog = await factory.programme(partner_id=mine.id)
    their_prog = await factory.programme(partner_id=theirs.id)
    my_project = await factory.project(programme_id=my_prog.id, code="MINE")
    their_project = await factory.project(programme_id=their_prog.id, code="THEIRS")
    pillar = await factory.pillar(1)
    for role in ("liaison", "viewer"):
        user = await client_for(role, mine.id)
        listed = (await user.get(URL)).json()
        assert [p["code"] for p in listed["items"]] == ["MINE"]
        assert listed["total"] == 1
        assert (await user.get(URL, params={"partner_id": theirs.id})).json()["total"] == 0
        assert (await user.get(URL, params={"programme_id": their_prog.id})).json()["total"] == 0
        assert (await user.get(f"{URL}/{my_project.id}")).status_code == 200
        assert (await user.get(f"{URL}/{their_project.id}")).status_code == 404
    liaison = await client_for("liaison", mine.id)
    their_url = f"{URL}/{their_project.id}"
    assert (await liaison.patch(their_url, json={"title": "x"})).status_code == 404
    assert (await liaison.delete(their_url)).status_code == 404
    response = await liaison.post(URL, json=body(their_prog.id, pillar.id))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "programme_id"]
    response = await liaison.patch(f"{URL}/{my_project.id}", json={"programme_id": their_prog.id})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "programme_id"]
    assert await count_projects(session) == 2
    # a viewer bound to no partner sees everything
    viewer_all = await client_for("viewer")
    assert (await viewer_all.get(URL)).json()["total"] == 2
    staff = await client_for("staff")
    assert (await staff.get(URL)).json()["total"] == 2


async def test_viewers_may_not_write(client_for, factory, session) -> None:
    partner = await factory.partner()
    programme = await factory.programme(partner_id=partner.id)
    project = await factory.project(programme_id=programme.id)
    pillar = await factory.pillar(1)
    for partner_id in (partner.id, None):
        viewer = await client_for("viewer", partner_id)
        assert (await viewer.post(URL, json=body(programme.id, pillar.id))).status_code == 403
        url = f"{URL}/{project.id}"
        assert (await viewer.patch(url, json={"title": "x"})).status_code == 403
        assert (await viewer.delete(url)).status_code == 403
    assert await count_projects(session) == 1
    await session.refresh(project)
    assert project.version == 1


async def test_liaison_writes_unless_programme_closed(client_for, factory, session) -> None:
    partner = await factory.partner()
    pillar = await factory.pillar(1)
    liaison = await client_for("liaison", partner.id)
    for status in ("draft", "submitted", "active"):
        approved = date(2016, 5, 1) if status == "active" else None
        programme = await factory.programme(
            partner_id=partner.id, status=status, approved_on=approved
        )
        created = await liaison.post(URL, json=body(programme.id, pillar.id))
        assert created.status_code == 201, (status, created.text)
        url = created.headers["location"]
        assert (await liaison.patch(url, json={"title": "Renamed"})).status_code == 200
        assert (await liaison.delete(url)).status_code == 204
    for status in ("completed", "cancelled"):
        approved = date(2016, 5, 1) if status == "completed" else None
        programme = await factory.programme(
            partner_id=partner.id, status=status, approved_on=approved
        )
        project = await factory.project(programme_id=programme.id)
        response = await liaison.post(URL, json=body(programme.id, pillar.id, code="NEW"))
        assert response.status_code == 403, status
        url = f"{URL}/{project.id}"
        assert (await liaison.patch(url, json={"title": "Renamed"})).status_code == 403
        assert (await liaison.delete(url)).status_code == 403
        assert (await liaison.get(url)).json()["title"] == project.title
        # nor may a liaison move a project into a closed programme
        open_prog = await factory.programme(partner_id=partner.id)
        open_project = await factory.project(programme_id=open_prog.id)
        response = await liaison.patch(
            f"{URL}/{open_project.id}", json={"programme_id": programme.id}
        )
        assert response.status_code == 403
        # staff still may
        staff = await client_for("staff")
        assert (await staff.patch(url, json={"title": "By staff"})).status_code == 200
    assert (
        await session.scalar(select(func.count()).select_from(Project).where(Project.code == "NEW"))
    ) == 0


async def test_no_token_is_401(anon: httpx.AsyncClient) -> None:
    assert (await anon.get(URL)).status_code == 401
    assert (await anon.post(URL, json={})).status_code == 401


# --- statement budget -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 100])
async def test_statement_budget(client: httpx.AsyncClient, factory, session, statements, n) -> None:
    programme = await programme_now(factory)
    pillar = await factory.pillar(1)
    projects = [
        Project(
            programme_id=programme.id,
            pillar_id=pillar.id,
            code=f"P{i:03}",
            title=f"Project {i}",
            starts_on=d(-300),
            ends_on=d(300),
            areas=["training"],
        )
        for i in range(n)
    ]
    session.add_all(projects)
    await session.flush()
    session.add_all(
        Milestone(project_id=p.id, title=f"M{j}", due_on=d(-40 + 30 * j), weight=j + 1)
        for p in projects
        for j in range(3)
    )
    await session.flush()
    statements.reset()
    response = await client.get(URL, params={"limit": 200, "area": "training"})
    assert response.status_code == 200
    assert len(response.json()["items"]) == n
    assert all(p["schedule"] == "late" for p in response.json()["items"])
    assert statements.count <= 4, statements.statements
    list_count = statements.count
    statements.reset()
    assert (await client.get(f"{URL}/{projects[-1].id}")).status_code == 200
    assert statements.count <= 4, statements.statements
    # the same number whatever n. The token's first read in this process also reads its user
    # on its own; then one statement each: the user check with the page and its total / with
    # the row.
    assert (list_count, statements.count) == (2, 1)
    statements.reset()
    assert (await client.get(URL, params={"limit": 200, "area": "training"})).status_code == 200
    assert statements.count == 1, statements.statements


async def test_parent_rows_are_locked_while_validating(
    client: httpx.AsyncClient, factory, statements
) -> None:
    """The programme is read FOR SHARE (its period cannot change until commit) and the
    project FOR NO KEY UPDATE (a milestone write, which takes the project FOR SHARE, waits)."""
    programme = await factory.programme()
    pillar = await factory.pillar(1)
    statements.reset()
    created = await client.post(URL, json=body(programme.id, pillar.id))
    assert created.status_code == 201
    assert any("FOR SHARE OF programmes" in s for s in statements.statements)
    statements.reset()
    patched = await client.patch(created.headers["location"], json={"ends_on": "2017-05-31"})
    assert patched.status_code == 200
    assert any("FOR NO KEY UPDATE OF projects" in s for s in statements.statements)
    assert any("FOR SHARE OF programmes" in s for s in statements.statements)
