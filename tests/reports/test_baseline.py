"""The programme report against a baseline, worked out by hand (API.md, "Against a baseline").

The plan as approved (the approval baseline), then:
- a1 (A, weight 2) moved from 2016-12-31 to 2017-09-30: a slip of 273 days;
- a2 (A, weight 1, done 2017-02-15) unchanged;
- a3 (A) reweighted from 3 to 1;
- b1 (B, weight 1, due 2017-01-31) moved to project A (counts in A's row now);
- b2 (B, weight 2, due 2017-05-01) cancelled: removed, in B's row;
- b3 (B, weight 2, due 2017-08-01) added;
- d1 (D, weight 4, due 2017-02-28) and its project D deleted: removed; D has no row, d1 counts
  in pillar 2 (D's pillar in the copy) and the summary.
A is in pillar 1; B and D in pillar 2; pillar 3 has nothing.
Now: W = 7 (A: 2+1+1+1 = 5, B: 2). Baseline: Wb = 13 (A's row: a1 2, a2 1, a3 3, b1 1 = 7;
B's row: b2 2; D: 4; pillar 2: 6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest

from ipcp_api.reports.schemas import ProgrammeReportVsBaseline

M = "/api/v1/milestones"


@dataclass
class World:
    programme: Any
    a: Any
    b: Any
    pillars: list[Any]
    m: dict[str, int]


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201, 204), response.text
    return response.json() if response.status_code != 204 else {}


@pytest.fixture
async def world(client: httpx.AsyncClient, factory: Any) -> World:
    pillars = [await factory.pillar(position) for position in (1, 2, 3)]
    programme = await factory.programme(status="submitted")
    a = await factory.project(programme_id=programme.id, pillar_id=pillars[0].id, code="A")
    b = await factory.project(programme_id=programme.id, pillar_id=pillars[1].id, code="B")
    d = await factory.project(programme_id=programme.id, pillar_id=pillars[1].id, code="D")
    m = {}
    for name, project, due, weight in (
        ("a1", a, date(2016, 12, 31), 2),
        ("a2", a, date(2017, 3, 31), 1),
        ("a3", a, date(2017, 6, 1), 3),
        ("b1", b, date(2017, 1, 31), 1),
        ("b2", b, date(2017, 5, 1), 2),
        ("d1", d, date(2017, 2, 28), 4),
    ):
        done = {"state": "done", "completed_on": date(2017, 2, 15)} if name == "a2" else {}
        milestone = await factory.milestone(
            project_id=project.id, title=name, due_on=due, weight=weight, **done
        )
        m[name] = milestone.id
    await _ok(await client.patch(f"/api/v1/programmes/{programme.id}", json={"status": "approved"}))
    await _ok(await client.patch(f"{M}/{m['a1']}", json={"due_on": "2017-09-30"}))
    await _ok(await client.patch(f"{M}/{m['a3']}", json={"weight": 1}))
    await _ok(await client.patch(f"{M}/{m['b1']}", json={"project_id": a.id}))
    await _ok(await client.patch(f"{M}/{m['b2']}", json={"state": "cancelled"}))
    added = await _ok(
        await client.post(
            M, json={"project_id": b.id, "title": "b3", "due_on": "2017-08-01", "weight": 2}
        )
    )
    m["b3"] = added["id"]
    await _ok(await client.delete(f"{M}/{m['d1']}"))
    await _ok(await client.delete(f"/api/v1/projects/{d.id}"))
    return World(programme, a, b, pillars, m)


def vs(
    expected: float | None,
    variance: float | None,
    slipped: int,
    max_slip: int,
    added: int,
    removed: int,
) -> dict[str, Any]:
    return {
        "baseline_expected_progress": expected,
        "variance_vs_baseline": variance,
        "milestones_slipped": slipped,
        "max_slip_days": max_slip,
        "milestones_added": added,
        "milestones_removed": removed,
    }


FIELDS = tuple(vs(None, None, 0, 0, 0, 0))


def pick(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in FIELDS}


async def report(client: httpx.AsyncClient, world: World, as_of: str, **params: Any) -> Any:
    response = await client.get(
        f"/api/v1/programmes/{world.programme.id}/report",
        params={"as_of": as_of, "baseline": "approval", **params},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert ProgrammeReportVsBaseline.model_validate(body).model_dump(mode="json") == body
    return body


def rows(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "summary": pick(body["summary"]),
        **{f"pillar{i + 1}": pick(row) for i, row in enumerate(body["pillars"])},
        **{row["code"]: pick(row) for row in body["projects"]},
    }


async def test_before_every_baseline_due_date(client: httpx.AsyncClient, world: World) -> None:
    body = await report(client, world, "2016-12-01")
    assert body["baseline"]["kind"] == "approval"
    assert body["baseline"]["name"] == "As approved"
    assert [p["code"] for p in body["projects"]] == ["A", "B"]  # D was deleted: no row
    assert rows(body) == {
        "summary": vs(0.0, 0.0, 1, 273, 1, 2),
        "pillar1": vs(0.0, 0.0, 1, 273, 0, 0),
        "pillar2": vs(0.0, 0.0, 0, 0, 1, 2),
        "pillar3": vs(None, None, 0, 0, 0, 0),
        "A": vs(0.0, 0.0, 1, 273, 0, 0),
        "B": vs(0.0, 0.0, 0, 0, 1, 1),
    }
    assert body["overdue"] == body["upcoming"] == []


async def test_between_a_baseline_due_date_and_the_moved_one(
    client: httpx.AsyncClient, world: World
) -> None:
    body = await report(client, world, "2017-03-15")
    # A: progress 1/5; baseline due: a1 (2) + b1 (1) of 7 -> 3/7
    # pillar 2: progress 0/2; baseline due: d1 (4) of 6
    # summary: progress 1/7; baseline due: 2 + 1 + 4 = 7 of 13
    assert rows(body) == {
        "summary": vs(0.5385, round(1 / 7 - 7 / 13, 4), 1, 273, 1, 2),
        "pillar1": vs(0.4286, round(0.2 - 3 / 7, 4), 1, 273, 0, 0),
        "pillar2": vs(0.6667, -0.6667, 0, 0, 1, 2),
        "pillar3": vs(None, None, 0, 0, 0, 0),
        "A": vs(0.4286, -0.2286, 1, 273, 0, 0),
        "B": vs(0.0, 0.0, 0, 0, 1, 1),
    }
    assert body["summary"]["variance_vs_baseline"] == -0.3956
    assert body["overdue"] == [
        {
            "milestone_id": world.m["b1"],
            "project_id": world.a.id,
            "title": "b1",
            "due_on": "2017-01-31",
            "days_overdue": 43,
            "baseline_due_on": "2017-01-31",
            "slip_days": 0,
        }
    ]
    assert body["upcoming"] == []


async def test_an_upcoming_slipped_milestone(client: httpx.AsyncClient, world: World) -> None:
    body = await report(client, world, "2017-09-15")
    assert body["upcoming"] == [
        {
            "milestone_id": world.m["a1"],
            "project_id": world.a.id,
            "title": "a1",
            "due_on": "2017-09-30",
            "baseline_due_on": "2016-12-31",
            "slip_days": 273,
        }
    ]


async def test_after_both(client: httpx.AsyncClient, world: World) -> None:
    body = await report(client, world, "2017-10-15")
    assert rows(body) == {
        "summary": vs(1.0, -0.8571, 1, 273, 1, 2),
        "pillar1": vs(1.0, -0.8, 1, 273, 0, 0),
        "pillar2": vs(1.0, -1.0, 0, 0, 1, 2),
        "pillar3": vs(None, None, 0, 0, 0, 0),
        "A": vs(1.0, -0.8, 1, 273, 0, 0),
        "B": vs(1.0, -1.0, 0, 0, 1, 1),
    }
    got = [
        (i["title"], i["days_overdue"], i["baseline_due_on"], i["slip_days"])
        for i in body["overdue"]
    ]
    assert got == [
        ("b1", 257, "2017-01-31", 0),
        ("a3", 136, "2017-06-01", 0),
        ("b3", 75, None, None),
        ("a1", 15, "2016-12-31", 273),
    ]
    # the figures without a baseline are the same, and carry no baseline field
    plain = await client.get(
        f"/api/v1/programmes/{world.programme.id}/report", params={"as_of": "2017-10-15"}
    )
    without = plain.json()
    assert "baseline" not in without
    assert "slip_days" not in without["overdue"][0]
    assert without["summary"] == {k: v for k, v in body["summary"].items() if k not in FIELDS}


async def test_a_named_baseline_and_a_cancelled_project(
    client: httpx.AsyncClient, world: World
) -> None:
    taken = await _ok(
        await client.post(
            f"/api/v1/programmes/{world.programme.id}/baselines", json={"name": "now"}
        )
    )
    await _ok(await client.patch(f"/api/v1/projects/{world.b.id}", json={"status": "cancelled"}))
    body = await report(client, world, "2017-10-15", baseline=str(taken["id"]))
    assert body["baseline"]["id"] == taken["id"]
    assert body["baseline"]["kind"] == "named"
    # the copy: A as now (a1 2 due 09-30, a2 1, a3 1, b1 1 -> 5), B (b2 cancelled, b3 2).
    # B is cancelled now: b3 removed, still in B's row, whose baseline figures come from the
    # copy (Wb = 2, all due by 2017-10-15); B's progress is null, so its variance too.
    b = next(row for row in body["projects"] if row["code"] == "B")
    assert pick(b) == vs(1.0, None, 0, 0, 0, 1)
    assert pick(body["summary"]) == vs(1.0, round(1 / 5 - 1.0, 4), 0, 0, 0, 1)


async def test_csv_has_the_extra_columns_only_when_asked(
    client: httpx.AsyncClient, world: World
) -> None:
    url = f"/api/v1/programmes/{world.programme.id}/report"
    plain = await client.get(url, params={"as_of": "2017-03-15"}, headers={"Accept": "text/csv"})
    assert "baseline" not in plain.text.splitlines()[0]
    with_baseline = await client.get(
        url,
        params={"as_of": "2017-03-15", "baseline": "approval"},
        headers={"Accept": "text/csv"},
    )
    lines = with_baseline.text.splitlines()
    assert lines[0].endswith(
        "next_due_on,baseline_expected_progress,variance_vs_baseline,milestones_slipped,"
        "max_slip_days,milestones_added,milestones_removed"
    )
    assert lines[1].endswith(",0.4286,-0.2286,1,273,0,0")


async def test_bad_baselines_are_422_naming_it(
    client: httpx.AsyncClient, world: World, factory: Any
) -> None:
    other = await factory.programme(status="submitted")
    await _ok(await client.patch(f"/api/v1/programmes/{other.id}", json={"status": "approved"}))
    others = (await client.get(f"/api/v1/programmes/{other.id}/baselines")).json()["items"]
    never = await factory.programme()
    cases = [
        (world.programme.id, str(others[0]["id"])),  # another programme's
        (world.programme.id, str(10**12)),  # unknown
        (world.programme.id, str(2**63)),  # beyond the range
        *(
            (world.programme.id, bad)
            for bad in ("", "abc", "0", "01", "-1", "1.0", "+1", "Approval")
        ),
        (never.id, "approval"),  # never approved
    ]
    for programme_id, value in cases:
        response = await client.get(
            f"/api/v1/programmes/{programme_id}/report", params={"baseline": value}
        )
        assert response.status_code == 422, (value, response.text)
        assert response.json()["errors"][0]["loc"] == ["query", "baseline"], value
    twice = await client.get(
        f"/api/v1/programmes/{world.programme.id}/report?baseline=approval&baseline=approval"
    )
    assert twice.status_code == 422


async def test_one_statement_more_whatever_the_size(
    client: httpx.AsyncClient, world: World, statements: Any
) -> None:
    url = f"/api/v1/programmes/{world.programme.id}/report"
    counts = []
    for params in ({}, {"baseline": "approval"}):
        statements.reset()
        assert (await client.get(url, params={"as_of": "2017-03-15", **params})).status_code == 200
        counts.append(statements.count)
    assert counts[1] == counts[0] + 1
