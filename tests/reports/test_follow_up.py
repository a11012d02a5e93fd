"""The programme report's ``reviews`` and ``actions`` blocks, worked by hand at several dates
around the review dates."""

from __future__ import annotations

from datetime import date as D
from typing import Any

import pytest

from ipcp_api.reports.schemas import ProgrammeReport


@pytest.fixture
async def world(factory: Any) -> dict[str, Any]:
    programme = await factory.programme(starts_on=D(2016, 6, 1), ends_on=D(2018, 6, 30))
    project = await factory.project(programme_id=programme.id, status="in_progress")
    dropped_project = await factory.project(programme_id=programme.id, status="cancelled")
    for due, done in (
        (D(2016, 9, 1), D(2016, 8, 20)),
        (D(2016, 12, 1), D(2017, 1, 10)),
        (D(2017, 5, 1), D(2017, 6, 15)),
        (D(2017, 9, 1), None),
    ):
        await factory.milestone(
            project_id=project.id,
            due_on=due,
            state="done" if done else "pending",
            completed_on=done,
        )
    # not counted: its project is cancelled
    await factory.milestone(
        project_id=dropped_project.id,
        due_on=D(2017, 5, 1),
        state="done",
        completed_on=D(2017, 5, 1),
    )
    pcsc = await factory.committee("PCSC")
    nac = await factory.committee("NAC")
    r1 = await factory.review(
        programme_id=programme.id, committee_id=pcsc.id, held_on=D(2016, 6, 1), status="closed"
    )
    r2 = await factory.review(
        programme_id=programme.id,
        committee_id=nac.id,
        format="allies_only",
        held_on=D(2017, 3, 1),
        status="held",
    )
    r3 = await factory.review(
        programme_id=programme.id,
        committee_id=pcsc.id,
        allies_count=29,
        held_on=D(2017, 11, 15),
        status="planned",
    )
    await factory.review(programme_id=programme.id, held_on=D(2017, 9, 1), status="cancelled")
    # another programme's review and items never show
    other = await factory.review(held_on=D(2016, 6, 1), status="held")
    await factory.action_item(review_id=other.id, due_on=D(2016, 7, 1))
    a1 = await factory.action_item(
        review_id=r1.id, due_on=D(2016, 9, 30), status="done", completed_on=D(2016, 9, 20)
    )
    a2 = await factory.action_item(
        review_id=r1.id,
        due_on=D(2016, 12, 31),
        status="done",
        completed_on=D(2017, 2, 15),
        owner_side="partner",
        owner="Ministry of Interior",
    )
    a3 = await factory.action_item(review_id=r1.id, due_on=D(2017, 6, 1))
    await factory.action_item(review_id=r1.id, due_on=D(2016, 10, 1), status="dropped")
    a5 = await factory.action_item(review_id=r2.id, due_on=D(2017, 8, 1), owner_side="partner")
    return {
        "programme": programme,
        "r1": r1.id,
        "r2": r2.id,
        "r3": r3.id,
        "a1": a1.id,
        "a2": a2.id,
        "a3": a3.id,
        "a5": a5.id,
        "pcsc": pcsc.id,
        "nac": nac.id,
    }


async def _report(client: Any, world: dict[str, Any], as_of: str, **params: Any) -> Any:
    response = await client.get(
        f"/api/v1/programmes/{world['programme'].id}/report", params={"as_of": as_of, **params}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    ProgrammeReport.model_validate(body)
    return body


def _ref(body: Any) -> Any:
    return None if body is None else (body["id"], body["format_label"], body["status"])


def _items(body: Any) -> list[tuple[int, int | None]]:
    return [(item["id"], item["days_overdue"]) for item in body["actions"]["items"]]


async def test_before_the_first_review(client, world) -> None:
    body = await _report(client, world, "2016-05-31")
    assert body["reviews"] == {
        "last": None,
        "next": {
            "id": world["r1"],
            "held_on": "2016-06-01",
            "committee": {
                "id": world["pcsc"],
                "code": "PCSC",
                "name": "Partnerships and Cooperative Security Committee",
            },
            "format": "allies_plus_partner",
            "format_label": "28+1",
            "status": "closed",
        },
        "milestones_done_since_last": None,
    }
    assert body["actions"] == {"open": 0, "overdue": 0, "items": []}


async def test_on_the_day_of_the_first_review(client, world) -> None:
    body = await _report(client, world, "2016-06-01")
    assert _ref(body["reviews"]["last"]) == (world["r1"], "28+1", "closed")
    assert _ref(body["reviews"]["next"]) == (world["r2"], "28", "held")
    assert body["reviews"]["milestones_done_since_last"] == 0
    # a1 and a2 were done later than as_of: open as of then
    assert _items(body) == [(world["a1"], None), (world["a2"], None), (world["a3"], None)]
    assert body["actions"]["open"] == 3
    assert body["actions"]["overdue"] == 0
    a2 = body["actions"]["items"][1]
    assert a2 == {
        "id": world["a2"],
        "review_id": world["r1"],
        "title": a2["title"],
        "owner": "Ministry of Interior",
        "owner_side": "partner",
        "due_on": "2016-12-31",
        "days_overdue": None,
    }


async def test_due_day_is_not_overdue_the_next_day_is(client, world) -> None:
    body = await _report(client, world, "2016-12-31")
    assert body["reviews"]["milestones_done_since_last"] == 1
    assert _items(body) == [(world["a2"], None), (world["a3"], None)]
    assert body["actions"]["overdue"] == 0
    body = await _report(client, world, "2017-01-01")
    assert _items(body) == [(world["a2"], 1), (world["a3"], None)]
    assert (body["actions"]["open"], body["actions"]["overdue"]) == (2, 1)
    assert body["reviews"]["milestones_done_since_last"] == 1


async def test_mid_term(client, world) -> None:
    body = await _report(client, world, "2017-06-30")
    assert _ref(body["reviews"]["last"]) == (world["r2"], "28", "held")
    assert body["reviews"]["last"]["committee"]["code"] == "NAC"
    # the cancelled review of 2017-09-01 is never next
    assert _ref(body["reviews"]["next"]) == (world["r3"], "29+1", "planned")
    # done in (2017-03-01, 2017-06-30]: the milestone done on 2017-06-15 (the one of the
    # cancelled project does not count)
    assert body["reviews"]["milestones_done_since_last"] == 1
    assert _items(body) == [(world["a3"], 29), (world["a5"], None)]
    assert (body["actions"]["open"], body["actions"]["overdue"]) == (2, 1)
    french = await _report(client, world, "2017-06-30", lang="fr")
    assert french["reviews"]["last"]["committee"]["name"] == "Conseil de l'Atlantique Nord"


async def test_after_every_review(client, world) -> None:
    body = await _report(client, world, "2018-01-01")
    # the planned review of 2017-11-15 never became held: the last is still r2
    assert _ref(body["reviews"]["last"]) == (world["r2"], "28", "held")
    assert body["reviews"]["next"] is None
    assert body["reviews"]["milestones_done_since_last"] == 1
    assert _items(body) == [(world["a3"], 214), (world["a5"], 153)]
    assert (body["actions"]["open"], body["actions"]["overdue"]) == (2, 2)


async def test_csv_stays_one_row_per_project(client, world) -> None:
    response = await client.get(
        f"/api/v1/programmes/{world['programme'].id}/report",
        params={"as_of": "2017-06-30"},
        headers={"Accept": "text/csv"},
    )
    assert response.status_code == 200
    assert len(response.text.strip().splitlines()) == 1 + 2


async def test_another_partner_sees_nothing(client_for, world, factory) -> None:
    stranger = await client_for("liaison", (await factory.partner()).id)
    response = await stranger.get(f"/api/v1/programmes/{world['programme'].id}/report")
    assert response.status_code == 404
    own = await client_for("viewer", world["programme"].partner_id)
    body = (
        await own.get(
            f"/api/v1/programmes/{world['programme'].id}/report", params={"as_of": "2017-06-30"}
        )
    ).json()
    assert body["actions"]["open"] == 2
