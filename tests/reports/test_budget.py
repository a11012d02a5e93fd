"""Each report runs a fixed number of SQL statements, whatever the number of rows."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from ipcp_api.models import Milestone, Project

BUDGET = 5  # the token check + at most 4 for the report


async def programme_of(factory: Any, session: Any, n_projects: int) -> Any:
    programme = await factory.programme()
    pillars = [await factory.pillar(position) for position in (1, 2, 3)]
    projects = [
        Project(
            programme_id=programme.id,
            pillar_id=pillars[i % 3].id,
            code=f"P{i:03}",
            title=f"Project {i}",
            starts_on=date(2016, 6, 1),
            ends_on=date(2018, 6, 30),
            status="cancelled" if i % 10 == 9 else "in_progress",
            areas=[],
        )
        for i in range(n_projects)
    ]
    session.add_all(projects)
    await session.flush()
    session.add_all(
        Milestone(
            project_id=project.id,
            title=f"M{k}",
            due_on=date(2017, 1, 1) + timedelta(days=45 * k + i),
            weight=k + 1,
            state="done" if k == 0 else "pending",
            completed_on=date(2017, 1, 5) if k == 0 else None,
        )
        for i, project in enumerate(projects)
        for k in range(4)
    )
    await session.flush()
    # reviews and action items grow with the programme too (the follow-up statement)
    for r in range(max(1, n_projects // 10)):
        review = await factory.review(
            programme_id=programme.id, held_on=date(2016, 9, 1) + timedelta(days=r), status="held"
        )
        for k in range(3):
            await factory.action_item(
                review_id=review.id, due_on=date(2017, 1, 1) + timedelta(days=k * 90)
            )
    await factory.review(programme_id=programme.id, held_on=date(2017, 6, 1))
    return programme


async def measure(client: httpx.AsyncClient, statements: Any, url: str, accept: str) -> int:
    statements.reset()
    response = await client.get(url, params={"as_of": "2017-03-01"}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    return int(statements.count)


async def test_statement_budget_at_1_and_100_projects(
    client: httpx.AsyncClient, factory: Any, session: Any, statements: Any
) -> None:
    counts: dict[int, list[int]] = {}
    for size in (1, 100):
        programme = await programme_of(factory, session, size)
        counts[size] = [
            await measure(client, statements, url, accept)
            for url in (
                f"/api/v1/programmes/{programme.id}/report",
                f"/api/v1/partners/{programme.partner_id}/report",
                "/api/v1/reports/portfolio",
            )
            for accept in ("application/json", "text/csv")
        ]
        body = (await client.get(f"/api/v1/programmes/{programme.id}/report")).json()
        assert len(body["projects"]) == size
        assert sum(p["projects"] for p in body["pillars"]) == size
        assert body["actions"]["open"] == 3 * max(1, size // 10)
    assert counts[1] == counts[100], counts
    # programme: token, header, figures, milestone lists, reviews and action items;
    # partner: token, header, figures; portfolio: token, figures
    assert counts[1] == [5, 5, 3, 3, 2, 2]
    assert max(counts[100]) <= BUDGET
