"""GET /api/v1/programmes/{id}/report: every figure against values worked out on paper."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest

from ipcp_api.models import Milestone, Pillar, Programme, Project
from ipcp_api.reports.schemas import ProgrammeReport
from tests.reports.helpers import all_pillars, empty, figures, pillar_row

D = date


@dataclass
class Bahrain:
    """The scenario of most tests here (weights in brackets, ✓ = done on that date).

    Pillar 1 political-diplomatic: no project.
    Pillar 2 defence-security-expertise:
      CT-01 (in_progress)  a1 due 2017-01-15 [2] ✓ 2017-01-10 (early)
                           a2 due 2017-03-01 [3] ✓ 2017-04-15 (45 days after its due date)
                           a3 due 2017-06-01 [5] pending
                           a4 due 2017-09-01 [1] cancelled (never counted, never overdue)
                           a5 due 2017-07-20 [2] pending
      PIR-01 (planned)     b1 due 2017-05-31 [1] pending
                           b2 due 2017-07-15 [1] ✓ 2017-07-01
    Pillar 3 emerging-challenges:
      DIP-01 (planned)     no milestones
      DR-01 (cancelled)    c1 due 2017-02-01 [4] pending, c2 due 2017-03-01 [1] ✓ 2017-02-20
                           (a cancelled project: none of its milestones count)

    Counted: CT-01 a1 a2 a3 a5 -> 4 milestones, W = 2+3+5+2 = 12; PIR-01 b1 b2 -> 2, W = 2.
    Programme: 4 projects, 6 counted milestones, W = 14.
    """

    programme: Programme
    pillars: list[Pillar]
    ct: Project
    pir: Project
    dip: Project
    dr: Project
    m: dict[str, Milestone]


@pytest.fixture
async def bahrain(factory: Any, session: Any) -> Bahrain:
    partner = await factory.partner(kind="country", code="BHR", name="Kingdom of Bahrain")
    programme = await factory.programme(
        partner_id=partner.id,
        code="BHR-IPCP-2016",
        title="Bahrain IPCP 2016–2018",
        status="active",
        approved_on=D(2016, 5, 1),
        starts_on=D(2016, 6, 1),
        ends_on=D(2018, 6, 30),
    )
    pillars = await all_pillars(session)
    political, defence, emerging = pillars[:3]
    assert political.code == "political-diplomatic"

    async def project(code: str, pillar: Pillar, status: str) -> Project:
        project: Project = await factory.project(
            programme_id=programme.id,
            pillar_id=pillar.id,
            code=code,
            title=f"{code} مشروع",
            status=status,
        )
        return project

    # Created in an order unlike the report's, so the report must sort.
    dr = await project("DR-01", emerging, "cancelled")
    pir = await project("PIR-01", defence, "planned")
    dip = await project("DIP-01", emerging, "planned")
    ct = await project("CT-01", defence, "in_progress")

    async def ms(name: str, p: Project, due: date, weight: int, state: str = "pending", done=None):
        return await factory.milestone(
            project_id=p.id,
            title=f"milestone {name}",
            due_on=due,
            weight=weight,
            state=state,
            completed_on=done,
        )

    m = {
        "a1": await ms("a1", ct, D(2017, 1, 15), 2, "done", D(2017, 1, 10)),
        "a2": await ms("a2", ct, D(2017, 3, 1), 3, "done", D(2017, 4, 15)),
        "a3": await ms("a3", ct, D(2017, 6, 1), 5),
        "a4": await ms("a4", ct, D(2017, 9, 1), 1, "cancelled"),
        "a5": await ms("a5", ct, D(2017, 7, 20), 2),
        "b1": await ms("b1", pir, D(2017, 5, 31), 1),
        "b2": await ms("b2", pir, D(2017, 7, 15), 1, "done", D(2017, 7, 1)),
        "c1": await ms("c1", dr, D(2017, 2, 1), 4),
        "c2": await ms("c2", dr, D(2017, 3, 1), 1, "done", D(2017, 2, 20)),
    }
    return Bahrain(programme, pillars, ct, pir, dip, dr, m)


async def report(client: httpx.AsyncClient, programme_id: int, as_of: str | None) -> Any:
    params = {"as_of": as_of} if as_of else {}
    response = await client.get(f"/api/v1/programmes/{programme_id}/report", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    # exactly the documented shape: no missing or extra field, the same values
    assert ProgrammeReport.model_validate(body).model_dump(mode="json") == body
    return body


def project_row(p: Project, values: dict[str, Any], next_due_on: str | None) -> dict[str, Any]:
    return {
        "id": p.id,
        "code": p.code,
        "title": p.title,
        "pillar_id": p.pillar_id,
        "status": p.status,
        **values,
        "next_due_on": next_due_on,
    }


def overdue(m: Milestone, days: int) -> dict[str, Any]:
    return {
        "milestone_id": m.id,
        "project_id": m.project_id,
        "title": m.title,
        "due_on": m.due_on.isoformat(),
        "days_overdue": days,
    }


def upcoming(m: Milestone) -> dict[str, Any]:
    return {
        "milestone_id": m.id,
        "project_id": m.project_id,
        "title": m.title,
        "due_on": m.due_on.isoformat(),
    }


def check_header(body: dict[str, Any], s: Bahrain, as_of: str) -> None:
    assert body["as_of"] == as_of
    assert body["programme"] == {
        "id": s.programme.id,
        "code": "BHR-IPCP-2016",
        "title": "Bahrain IPCP 2016–2018",
        "status": "active",
        "starts_on": "2016-06-01",
        "ends_on": "2018-06-30",
        "partner": {"id": s.programme.partner_id, "code": "BHR", "name": "Kingdom of Bahrain"},
    }


async def test_before_the_first_milestone(client: httpx.AsyncClient, bahrain: Bahrain) -> None:
    s = bahrain
    body = await report(client, s.programme.id, "2016-12-31")
    check_header(body, s, "2016-12-31")
    # Nothing due, nothing done (a1 is done on 2017-01-10, after as_of): 0/12, 0/2, 0/14.
    zero = figures(1, 4, 0, 0, 0.0, 0.0, 0.0, "on_track")
    assert body["projects"] == [
        # by pillar position (defence 2, emerging 3), then code
        project_row(s.ct, zero, "2017-01-15"),  # earliest open due date >= as_of: a1
        project_row(s.pir, zero | {"milestones": 2}, "2017-05-31"),  # b1
        project_row(s.dip, empty(1), None),
        project_row(s.dr, empty(1), None),  # cancelled: its row, null fractions, not_planned
    ]
    political, defence, emerging = s.pillars[:3]
    assert body["pillars"][:3] == [
        pillar_row(political, empty(0)),  # no project at all: listed anyway
        pillar_row(defence, figures(2, 6, 0, 0, 0.0, 0.0, 0.0, "on_track")),
        pillar_row(emerging, empty(2)),
    ]
    assert body["summary"] == figures(4, 6, 0, 0, 0.0, 0.0, 0.0, "on_track")
    assert body["overdue"] == []
    # window (2016-12-31, 2017-01-30]: a1 (2017-01-15) only; c1 (2017-02-01) is outside and
    # belongs to a cancelled project anyway.
    assert body["upcoming"] == [upcoming(s.m["a1"])]


async def test_mid_way_behind_at_30_days(client: httpx.AsyncClient, bahrain: Bahrain) -> None:
    s = bahrain
    body = await report(client, s.programme.id, "2017-06-30")
    check_header(body, s, "2017-06-30")
    # CT-01: done by 06-30: a1 (2) + a2 (3, done late on 04-15) = 5 -> 5/12 = 0.41666 -> 0.4167
    #        due by 06-30: a1 + a2 + a3 = 2+3+5 = 10 -> 10/12 = 0.8333; variance -5/12 = -0.4167
    #        overdue: a3 (06-01, pending) 29 days -> behind; next open due >= 06-30: a5 07-20
    ct = figures(1, 4, 2, 1, 0.4167, 0.8333, -0.4167, "behind")
    # PIR-01: b2 was done on 07-01, after as_of: done 0/2 = 0; due b1 1/2 = 0.5; var -0.5
    #         b1 (05-31) overdue by exactly 30 days -> still behind, not late;
    #         next open due >= 06-30: b2 07-15 (not done by as_of)
    pir = figures(1, 2, 0, 1, 0.0, 0.5, -0.5, "behind")
    assert body["projects"] == [
        project_row(s.ct, ct, "2017-07-20"),
        project_row(s.pir, pir, "2017-07-15"),
        project_row(s.dip, empty(1), None),
        project_row(s.dr, empty(1), None),
    ]
    # Pillar 2 = CT-01 + PIR-01: done 5/14 = 0.3571, due 11/14 = 0.7857, var -6/14 = -0.4286
    defence = figures(2, 6, 2, 2, 0.3571, 0.7857, -0.4286, "behind")
    political, defence_pillar, emerging = s.pillars[:3]
    assert body["pillars"][:3] == [
        pillar_row(political, empty(0)),
        pillar_row(defence_pillar, defence),
        pillar_row(emerging, empty(2)),
    ]
    assert body["summary"] == defence | {"projects": 4}
    # oldest first: b1 (05-31, 30 days), a3 (06-01, 29 days); c1 (cancelled project) never
    assert body["overdue"] == [overdue(s.m["b1"], 30), overdue(s.m["a3"], 29)]
    # (06-30, 07-30]: b2 07-15 (done only on 07-01, so not done by as_of), a5 07-20
    assert body["upcoming"] == [upcoming(s.m["b2"]), upcoming(s.m["a5"])]


async def test_one_day_later_is_late_at_31_days(client: httpx.AsyncClient, bahrain) -> None:
    s = bahrain
    body = await report(client, s.programme.id, "2017-07-01")
    # CT-01: as on 06-30 (nothing changes on 07-01), a3 now 30 days overdue -> behind
    ct = figures(1, 4, 2, 1, 0.4167, 0.8333, -0.4167, "behind")
    # PIR-01: b2 done on 07-01 (completed_on <= as_of): 1/2 = 0.5; due b1: 0.5; var 0
    #         b1 overdue 31 days -> late; nothing open left -> next_due_on null
    pir = figures(1, 2, 1, 1, 0.5, 0.5, 0.0, "late")
    assert body["projects"][:2] == [
        project_row(s.ct, ct, "2017-07-20"),
        project_row(s.pir, pir, None),
    ]
    # Programme: done 5+1 = 6/14 = 0.4286; due 11/14 = 0.7857; var -5/14 = -0.3571; worst 31
    assert body["summary"] == figures(4, 6, 3, 2, 0.4286, 0.7857, -0.3571, "late")
    assert body["overdue"] == [overdue(s.m["b1"], 31), overdue(s.m["a3"], 30)]
    # (07-01, 07-31]: a5 07-20; b2 (07-15) is done by now
    assert body["upcoming"] == [upcoming(s.m["a5"])]


async def test_after_the_end(client: httpx.AsyncClient, bahrain: Bahrain) -> None:
    s = bahrain
    body = await report(client, s.programme.id, "2018-01-01")
    # CT-01: done a1+a2 = 5/12 = 0.4167; everything due: 12/12 = 1.0; var -7/12 = -0.5833
    #        overdue a3 (2017-06-01 -> 2018-01-01: 214 days), a5 (2017-07-20: 165 days) -> late
    ct = figures(1, 4, 2, 2, 0.4167, 1.0, -0.5833, "late")
    # PIR-01: done b2 1/2 = 0.5; due 2/2 = 1.0; var -0.5; b1 overdue 215 days -> late
    pir = figures(1, 2, 1, 1, 0.5, 1.0, -0.5, "late")
    assert body["projects"] == [
        project_row(s.ct, ct, None),
        project_row(s.pir, pir, None),
        project_row(s.dip, empty(1), None),
        project_row(s.dr, empty(1), None),
    ]
    # done 6/14 = 0.4286; due 14/14 = 1.0; var -8/14 = -0.5714
    assert body["summary"] == figures(4, 6, 3, 3, 0.4286, 1.0, -0.5714, "late")
    # a4 (cancelled, due 2017-09-01) is never overdue; c1 is in a cancelled project
    assert body["overdue"] == [
        overdue(s.m["b1"], 215),
        overdue(s.m["a3"], 214),
        overdue(s.m["a5"], 165),
    ]
    assert body["upcoming"] == []


async def test_completed_after_its_due_date(client: httpx.AsyncClient, bahrain) -> None:
    s = bahrain
    # 2017-04-14: a2 (due 03-01, done only on 04-15) is 44 days overdue -> CT-01 late.
    # done a1 = 2/12 = 0.1667; due a1+a2 = 5/12 = 0.4167; var -3/12 = -0.25
    body = await report(client, s.programme.id, "2017-04-14")
    assert body["projects"][0] == project_row(
        s.ct, figures(1, 4, 1, 1, 0.1667, 0.4167, -0.25, "late"), "2017-06-01"
    )
    assert body["overdue"] == [overdue(s.m["a2"], 44)]
    # 2017-04-15: a2 is done -> 5/12 = 0.4167 done, 5/12 due, variance 0, on track.
    body = await report(client, s.programme.id, "2017-04-15")
    assert body["projects"][0] == project_row(
        s.ct, figures(1, 4, 2, 0, 0.4167, 0.4167, 0.0, "on_track"), "2017-06-01"
    )
    assert body["overdue"] == []


async def test_complete_when_every_counted_milestone_is_done(
    client: httpx.AsyncClient, bahrain: Bahrain, session: Any
) -> None:
    s = bahrain
    for name in ("a3", "a5", "b1"):
        s.m[name].state = "done"
        s.m[name].completed_on = D(2017, 12, 1)
    await session.flush()
    # 2018-01-01: all 6 counted done (the cancelled a4, c1 do not matter): 14/14 -> complete
    body = await report(client, s.programme.id, "2018-01-01")
    assert body["summary"] == figures(4, 6, 6, 0, 1.0, 1.0, 0.0, "complete")
    assert body["projects"][0] == project_row(
        s.ct, figures(1, 4, 4, 0, 1.0, 1.0, 0.0, "complete"), None
    )
    # 2017-12-01 too (completed_on = as_of counts); the day before they were not done yet.
    body = await report(client, s.programme.id, "2017-12-01")
    assert body["summary"]["schedule"] == "complete"
    body = await report(client, s.programme.id, "2017-11-30")
    # done a1 a2 b2 = 2+3+1 = 6/14; all due; overdue a3 (182 d), a5 (133 d), b1 (183 d)
    assert body["summary"] == figures(4, 6, 3, 3, 0.4286, 1.0, -0.5714, "late")


async def test_default_as_of_is_today(client: httpx.AsyncClient, bahrain, monkeypatch) -> None:
    from ipcp_api.reports import router

    monkeypatch.setattr(router, "today", lambda: D(2017, 6, 30))
    body = await report(client, bahrain.programme.id, None)
    assert body["as_of"] == "2017-06-30"
    assert body["summary"] == figures(4, 6, 2, 2, 0.3571, 0.7857, -0.4286, "behind")


async def test_every_pillar_is_listed_by_position(
    client: httpx.AsyncClient, factory: Any, session: Any
) -> None:
    # A fourth pillar placed between the standard ones (position 2 ties, so id breaks it);
    # a programme with no project at all.
    extra = Pillar(code="cyber-defence", name="Cyber defence", position=2)
    session.add(extra)
    await session.flush()
    programme = await factory.programme()
    body = await report(client, programme.id, "2017-06-30")
    pillars = await all_pillars(session)
    assert [p["pillar"]["code"] for p in body["pillars"]] == [
        "political-diplomatic",
        "defence-security-expertise",
        "cyber-defence",
        "emerging-challenges",
    ]
    assert body["pillars"] == [pillar_row(p, empty(0)) for p in pillars]
    assert body["summary"] == empty(0)
    assert body["projects"] == body["overdue"] == body["upcoming"] == []


async def test_a_programme_with_no_milestones(client: httpx.AsyncClient, factory) -> None:
    programme = await factory.programme()
    p = await factory.project(programme_id=programme.id, code="A", status="in_progress")
    # a project whose only milestone is cancelled has no counted weight either
    q = await factory.project(programme_id=programme.id, code="B")
    await factory.milestone(project_id=q.id, state="cancelled", due_on=D(2017, 1, 1))
    body = await report(client, programme.id, "2017-06-30")
    assert body["summary"] == empty(2)
    assert body["pillars"][0]["projects"] == 2
    assert body["pillars"][0] | {"pillar": None} == {"pillar": None, **empty(2)}
    assert body["projects"] == [project_row(p, empty(1), None), project_row(q, empty(1), None)]
    assert body["overdue"] == body["upcoming"] == []


async def test_the_30_day_rule_at_its_edge(client: httpx.AsyncClient, factory) -> None:
    programme = await factory.programme()
    p = await factory.project(programme_id=programme.id)
    await factory.milestone(project_id=p.id, due_on=D(2017, 3, 1), weight=3)
    cases = {
        # as_of: (expected, days overdue, schedule, next_due_on)
        "2017-02-28": (0.0, None, "on_track", "2017-03-01"),  # not due yet
        "2017-03-01": (1.0, None, "on_track", "2017-03-01"),  # due today: due, not overdue
        "2017-03-02": (1.0, 1, "behind", None),
        "2017-03-31": (1.0, 30, "behind", None),  # 30 days overdue: behind
        "2017-04-01": (1.0, 31, "late", None),  # 31 days: late
    }
    for as_of, (expected, days, schedule, next_due) in cases.items():
        body = await report(client, programme.id, as_of)
        late = 0 if days is None else 1
        row = body["projects"][0]
        # progress 0/3 = 0; expected 3/3 or 0/3; variance = -expected
        assert row == project_row(
            p, figures(1, 1, 0, late, 0.0, expected, -expected, schedule), next_due
        ), as_of
        assert [m["days_overdue"] for m in body["overdue"]] == ([days] if days else []), as_of


async def test_upcoming_window_edges(client: httpx.AsyncClient, factory) -> None:
    programme = await factory.programme()
    p = await factory.project(programme_id=programme.id)
    # as_of 2017-06-30; window (2017-06-30, 2017-07-30]
    on_as_of = await factory.milestone(project_id=p.id, due_on=D(2017, 6, 30), title="same day")
    first = await factory.milestone(project_id=p.id, due_on=D(2017, 7, 1), title="day 1")
    last = await factory.milestone(project_id=p.id, due_on=D(2017, 7, 30), title="day 30")
    await factory.milestone(project_id=p.id, due_on=D(2017, 7, 31), title="day 31")
    tie = await factory.milestone(project_id=p.id, due_on=D(2017, 7, 1), title="day 1 again")
    await factory.milestone(
        project_id=p.id, due_on=D(2017, 7, 2), state="done", completed_on=D(2017, 6, 1)
    )
    await factory.milestone(project_id=p.id, due_on=D(2017, 7, 3), state="cancelled")
    body = await report(client, programme.id, "2017-06-30")
    # soonest first, ties by id; the one due on as_of is neither upcoming nor overdue
    assert body["upcoming"] == [upcoming(first), upcoming(tie), upcoming(last)]
    assert body["overdue"] == []
    assert body["projects"][0]["next_due_on"] == on_as_of.due_on.isoformat()
    # 6 counted (5 pending + 1 done early), weight 1 each: done 1/6 = 0.1667,
    # due by 06-30: the "same day" one: 1/6 = 0.1667, variance 0
    assert body["summary"] == figures(1, 6, 1, 0, 0.1667, 0.1667, 0.0, "on_track")


async def test_csv(client: httpx.AsyncClient, bahrain: Bahrain) -> None:
    s = bahrain
    url = f"/api/v1/programmes/{s.programme.id}/report"
    response = await client.get(url, params={"as_of": "2017-06-30"}, headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["vary"] == "Accept, Accept-Language"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert rows == [
        [
            "project_id",
            "project_code",
            "project_title",
            "pillar_code",
            "status",
            "milestones",
            "milestones_done",
            "milestones_overdue",
            "progress",
            "expected_progress",
            "variance",
            "schedule",
            "next_due_on",
        ],
        # same figures as test_mid_way_behind_at_30_days; null -> empty cell
        [str(s.ct.id), "CT-01", "CT-01 مشروع", "defence-security-expertise", "in_progress",
         "4", "2", "1", "0.4167", "0.8333", "-0.4167", "behind", "2017-07-20"],
        [str(s.pir.id), "PIR-01", "PIR-01 مشروع", "defence-security-expertise", "planned",
         "2", "0", "1", "0.0", "0.5", "-0.5", "behind", "2017-07-15"],
        [str(s.dip.id), "DIP-01", "DIP-01 مشروع", "emerging-challenges", "planned",
         "0", "0", "0", "", "", "", "not_planned", ""],
        [str(s.dr.id), "DR-01", "DR-01 مشروع", "emerging-challenges", "cancelled",
         "0", "0", "0", "", "", "", "not_planned", ""],
    ]  # fmt: skip
    # the same numbers as the JSON form, column by column
    body = await report(client, s.programme.id, "2017-06-30")
    for row, project in zip(rows[1:], body["projects"], strict=True):
        for name, cell in zip(rows[0], row, strict=True):
            value = project.get(name.removeprefix("project_"))
            if name == "pillar_code":
                continue
            assert cell == ("" if value is None else str(value)), name


async def test_csv_quotes_awkward_text(client: httpx.AsyncClient, factory) -> None:
    programme = await factory.programme()
    title = 'Line one\nwith "quotes", commas; and عربي'
    await factory.project(programme_id=programme.id, code="X,1", title=title)
    response = await client.get(
        f"/api/v1/programmes/{programme.id}/report",
        params={"as_of": "2017-06-30"},
        headers={"Accept": "text/csv; charset=utf-8"},
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert rows[1][1:3] == ["X,1", title]
    assert len(rows) == 2


async def test_content_negotiation(client: httpx.AsyncClient, factory: Any) -> None:
    programme = await factory.programme()
    url = f"/api/v1/programmes/{programme.id}/report"
    json_, csv_ = "application/json", "text/csv; charset=utf-8"
    for accept, expected in [
        (None, json_),
        ("", json_),
        ("application/json", json_),
        ("*/*", json_),
        ("application/*", json_),
        ("text/*", csv_),
        ("TEXT/CSV", csv_),
        ("text/html, text/csv;q=0.9", csv_),
        ("text/csv, */*;q=0.1", csv_),
        ("application/json;q=0.5, text/csv", csv_),
        ("text/csv;q=0.2, application/json;q=0.8", json_),
        ("*/*;q=0.5, text/csv;q=0", json_),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", json_),  # a browser
    ]:
        headers = {"Accept": accept} if accept is not None else {}
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, (accept, response.text)
        assert response.headers["content-type"] == expected, accept
        assert response.headers["vary"] == "Accept, Accept-Language"


async def test_unproducible_accept_is_406(client: httpx.AsyncClient, factory: Any) -> None:
    programme = await factory.programme()
    for accept in (
        "application/xml",
        "text/html",
        "image/*",
        "application/problem+json",
        "application/json;q=0, text/csv;q=0",
        "*/*;q=0",
        "garbage",
    ):
        response = await client.get(
            f"/api/v1/programmes/{programme.id}/report", headers={"Accept": accept}
        )
        assert response.status_code == 406, accept
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 406
    # checked before the id: nothing is read for a request that cannot be answered
    response = await client.get("/api/v1/programmes/999999/report", headers={"Accept": "a/b"})
    assert response.status_code == 406


async def test_bad_query_is_422(client: httpx.AsyncClient, factory: Any) -> None:
    programme = await factory.programme()
    for params in (
        {"as_of": "2017-02-30"},
        {"as_of": "30/06/2017"},
        {"as_of": "20170630"},
        {"as_of": "2017-6-30"},
        {"as_of": ""},
        {"as_of": "0000-01-01"},
        {"as_of": "2017-06-30T00:00:00"},
        {"as_of": "2017-06-30\x00"},
        {"as_of": "today"},
        {"asof": "2017-06-30"},
    ):
        response = await client.get(f"/api/v1/programmes/{programme.id}/report", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"], params


async def test_extreme_dates(client: httpx.AsyncClient, bahrain: Bahrain) -> None:
    body = await report(client, bahrain.programme.id, "9999-12-31")
    assert body["summary"]["schedule"] == "late"
    assert body["upcoming"] == []
    body = await report(client, bahrain.programme.id, "0001-01-01")
    assert body["summary"] == figures(4, 6, 0, 0, 0.0, 0.0, 0.0, "on_track")
    assert body["upcoming"] == []


async def test_unknown_ids_are_404(client: httpx.AsyncClient) -> None:
    for ident in ("999999", str(2**63 - 1), str(2**63), "9" * 30, "0", "-1"):
        response = await client.get(f"/api/v1/programmes/{ident}/report")
        assert response.status_code == 404, ident
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/programmes/abc/report")).status_code == 422


async def test_needs_a_token(anon: httpx.AsyncClient, factory) -> None:
    programme = await factory.programme()
    assert (await anon.get(f"/api/v1/programmes/{programme.id}/report")).status_code == 401


async def test_only_get(client: httpx.AsyncClient, factory) -> None:
    programme = await factory.programme()
    response = await client.post(f"/api/v1/programmes/{programme.id}/report", json={})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


async def test_openapi_declares_both_media_types(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    for path in (
        "/api/v1/programmes/{programme_id}/report",
        "/api/v1/partners/{partner_id}/report",
        "/api/v1/reports/portfolio",
    ):
        operation = document["paths"][path]["get"]
        assert operation["tags"] == ["reports"]
        assert (
            operation["operationId"]
            == {
                "/api/v1/programmes/{programme_id}/report": "getProgrammeReport",
                "/api/v1/partners/{partner_id}/report": "getPartnerReport",
                "/api/v1/reports/portfolio": "getPortfolioReport",
            }[path]
        )
        assert operation["summary"]
        content = operation["responses"]["200"]["content"]
        assert set(content) == {"application/json", "text/csv"}, path
        assert "$ref" in content["application/json"]["schema"]
        codes = {"200", "401", "406", "422", "503"}
        if not path.endswith("portfolio"):
            codes.add("404")
        assert set(operation["responses"]) == codes, path
        names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
        assert names == (
            {"as_of", "format", "framework_id", "status", "lang"}
            if path.endswith("portfolio")
            else {"as_of", "format", "lang", "baseline"}
            if path.startswith("/api/v1/programmes/")
            else {"as_of", "format", "lang"}
        )
