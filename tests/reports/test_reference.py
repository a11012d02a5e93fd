"""The reports against a plain-Python reading of API.md's definitions, on random data.

The hand-worked tests pin every rule on small cases; this one checks that the SQL (two-stage
GROUPING SETS) agrees with the definitions on many shapes at once: empty pillars, empty
programmes, cancelled projects and milestones, late completions, ties, as_of on due dates.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import httpx
from sqlalchemy import select

from ipcp_api.models import ActionItem, Committee, Pillar, Programme, Project, Review

PLACES = Fraction(1, 10_000)


def rounded(value: Fraction) -> float:
    """PostgreSQL's round(numeric, 4): half away from zero."""
    steps = abs(value) / PLACES
    whole = int(steps)
    if steps - whole >= Fraction(1, 2):
        whole += 1
    return float((whole if value >= 0 else -whole) * PLACES)


@dataclass
class M:
    id: int
    project: Project
    title: str
    weight: int
    state: str
    due_on: date
    completed_on: date | None

    @property
    def counted(self) -> bool:
        return self.state != "cancelled" and self.project.status != "cancelled"

    def done_by(self, as_of: date) -> bool:
        return self.state == "done" and self.completed_on is not None and self.completed_on <= as_of

    def overdue(self, as_of: date) -> bool:
        return self.counted and self.due_on < as_of and not self.done_by(as_of)


def summary(projects: list[Project], ms: list[M], as_of: date) -> dict[str, Any]:
    counted = [m for m in ms if m.counted]
    w = sum(m.weight for m in counted)
    done = [m for m in counted if m.done_by(as_of)]
    overdue = [m for m in counted if m.overdue(as_of)]
    out: dict[str, Any] = {
        "projects": len(projects),
        "milestones": len(counted),
        "milestones_done": len(done),
        "milestones_overdue": len(overdue),
    }
    if w == 0:
        return (
            out
            | dict.fromkeys(("progress", "expected_progress", "variance"))
            | {"schedule": "not_planned"}
        )
    progress = Fraction(sum(m.weight for m in done), w)
    expected = Fraction(sum(m.weight for m in counted if m.due_on <= as_of), w)
    if len(done) == len(counted):
        schedule = "complete"
    elif any((as_of - m.due_on).days > 30 for m in overdue):
        schedule = "late"
    elif overdue:
        schedule = "behind"
    else:
        schedule = "on_track"
    return out | {
        "progress": rounded(progress),
        "expected_progress": rounded(expected),
        "variance": rounded(progress - expected),
        "schedule": schedule,
    }


async def build(factory: Any, session: Any, rng: random.Random) -> tuple[list[Any], list[M]]:
    partners = [await factory.partner() for _ in range(3)]
    pillars = list((await session.scalars(select(Pillar))).all())
    ms: list[M] = []
    for partner in partners[:2]:
        for k in range(3):
            programme = await factory.programme(partner_id=partner.id, status="draft")
            for n in range(rng.choice([0, 1, 3, 6]) if k else 5):
                project = await factory.project(
                    programme_id=programme.id,
                    pillar_id=rng.choice(pillars[:2]).id,  # pillar 3 stays empty
                    code=f"C{rng.randrange(100)}-{n}",
                    status=rng.choice(["planned", "in_progress", "completed", "cancelled"]),
                )
                for _ in range(rng.choice([0, 1, 2, 5, 8])):
                    due = date(2017, 1, 1) + timedelta(days=rng.randrange(0, 540))
                    state = rng.choice(["pending", "done", "done", "cancelled"])
                    completed = (
                        due + timedelta(days=rng.randrange(-90, 90)) if state == "done" else None
                    )
                    row = await factory.milestone(
                        project_id=project.id,
                        due_on=due,
                        weight=rng.choice([1, 1, 2, 3, 7, 32, 100]),
                        state=state,
                        completed_on=completed,
                    )
                    ms.append(M(row.id, project, row.title, row.weight, state, due, completed))
    return partners, ms


REVIEW_DATES = [date(2016, 6, 1) + timedelta(days=90 * k) for k in range(10)]


async def build_reviews(
    factory: Any, session: Any, rng: random.Random, programmes: list[Programme]
) -> tuple[list[Review], list[ActionItem]]:
    """Random reviews (ties on ``held_on`` included) and action items for each programme."""
    committees = list((await session.scalars(select(Committee))).all())
    reviews: list[Review] = []
    items: list[ActionItem] = []
    for programme in programmes:
        for _ in range(rng.choice([0, 1, 3, 5])):
            status = rng.choice(["planned", "held", "closed", "cancelled"])
            review = await factory.review(
                programme_id=programme.id,
                committee_id=rng.choice(committees).id,
                format=rng.choice(["allies_plus_partner", "allies_only", "staff_talks", "other"]),
                allies_count=rng.choice([None, 28, 29]),
                held_on=rng.choice(REVIEW_DATES),
                status=status,
            )
            reviews.append(review)
            if status in ("planned",):
                continue
            for _ in range(rng.choice([0, 1, 2, 4])):
                due = review.held_on + timedelta(days=rng.randrange(1, 400))
                state = rng.choice(["open", "done", "done", "dropped"])
                completed = (
                    due + timedelta(days=rng.randrange(-60, 90)) if state == "done" else None
                )
                items.append(
                    await factory.action_item(
                        review_id=review.id,
                        owner_side=rng.choice(["alliance", "partner"]),
                        due_on=due,
                        status=state,
                        completed_on=completed,
                    )
                )
    return reviews, items


def follow_up(
    programme: Programme,
    reviews: list[Review],
    items: list[ActionItem],
    ms: list[M],
    committees: dict[int, Committee],
    as_of: date,
) -> dict[str, Any]:
    """The ``reviews`` and ``actions`` blocks by API.md's definitions."""
    mine = [r for r in reviews if r.programme_id == programme.id]
    met = [r for r in mine if r.status in ("held", "closed") and r.held_on <= as_of]
    ahead = [r for r in mine if r.status != "cancelled" and r.held_on > as_of]
    last = max(met, key=lambda r: (r.held_on, r.id), default=None)
    upcoming = min(ahead, key=lambda r: (r.held_on, r.id), default=None)

    def ref(r: Review | None) -> dict[str, Any] | None:
        if r is None:
            return None
        label = None
        if r.allies_count is not None and r.format == "allies_plus_partner":
            label = f"{r.allies_count}+1"
        elif r.allies_count is not None and r.format == "allies_only":
            label = str(r.allies_count)
        committee = committees[r.committee_id]
        return {
            "id": r.id,
            "held_on": r.held_on.isoformat(),
            "committee": {"id": committee.id, "code": committee.code, "name": committee.name},
            "format": r.format,
            "format_label": label,
            "status": r.status,
        }

    since = None
    if last is not None:
        since = sum(
            1
            for m in ms
            if m.counted
            and m.done_by(as_of)
            and m.completed_on is not None
            and m.completed_on > last.held_on
        )
    held = {r.id: r for r in mine if r.held_on <= as_of}
    still_open = sorted(
        (
            i
            for i in items
            if i.review_id in held
            and i.status != "dropped"
            and (
                i.status == "open"
                or (i.status == "done" and i.completed_on is not None and i.completed_on > as_of)
            )
        ),
        key=lambda i: (i.due_on, i.id),
    )
    rows = [
        {
            "id": i.id,
            "review_id": i.review_id,
            "title": i.title,
            "owner": i.owner,
            "owner_side": i.owner_side,
            "due_on": i.due_on.isoformat(),
            "days_overdue": (as_of - i.due_on).days if i.due_on < as_of else None,
        }
        for i in still_open
    ]
    return {
        "reviews": {
            "last": ref(last),
            "next": ref(upcoming),
            "milestones_done_since_last": since,
        },
        "actions": {
            "open": len(rows),
            "overdue": sum(1 for row in rows if row["days_overdue"] is not None),
            "items": rows,
        },
    }


async def test_reports_agree_with_the_definitions(
    client: httpx.AsyncClient, factory: Any, session: Any
) -> None:
    rng = random.Random(20170630)
    partners, ms = await build(factory, session, rng)
    pillars = list((await session.scalars(select(Pillar).order_by(Pillar.position))).all())
    programmes = list((await session.scalars(select(Programme))).all())
    projects = list((await session.scalars(select(Project))).all())
    by_project: dict[int, list[M]] = defaultdict(list)
    for m in ms:
        by_project[m.project.id].append(m)
    assert len(ms) > 50
    reviews, items = await build_reviews(factory, session, random.Random(20160601), programmes)
    committees = {c.id: c for c in (await session.scalars(select(Committee))).all()}
    assert len(reviews) > 10
    assert len(items) > 10

    dues = sorted({m.due_on for m in ms})
    dates = [date(2016, 12, 1), date(2017, 9, 30), date(2019, 1, 1), dues[len(dues) // 2]]
    dates += [dues[7] + timedelta(days=30), dues[7] + timedelta(days=31)]
    # on a review date, the day before and the day after
    dates += [REVIEW_DATES[3] - timedelta(days=1), REVIEW_DATES[3], REVIEW_DATES[3] + timedelta(1)]
    blocks_seen: set[str] = set()
    seen: set[str] = set()
    for as_of in dates:
        params = {"as_of": as_of.isoformat()}
        for programme in programmes:
            body = (
                await client.get(f"/api/v1/programmes/{programme.id}/report", params=params)
            ).json()
            mine = [p for p in projects if p.programme_id == programme.id]
            mine_ms = [m for p in mine for m in by_project[p.id]]
            assert body["summary"] == summary(mine, mine_ms, as_of), (as_of, programme.id)
            for pillar, row in zip(pillars, body["pillars"], strict=True):
                sub = [p for p in mine if p.pillar_id == pillar.id]
                sub_ms = [m for p in sub for m in by_project[p.id]]
                assert row == {
                    "pillar": {"id": pillar.id, "code": pillar.code, "name": pillar.name},
                    **summary(sub, sub_ms, as_of),
                }
            position = {p.id: p.position for p in pillars}
            ordered = sorted(mine, key=lambda p: (position[p.pillar_id], p.code, p.id))
            expected_rows = []
            for p in ordered:
                open_dues = [
                    m.due_on
                    for m in by_project[p.id]
                    if m.counted and not m.done_by(as_of) and m.due_on >= as_of
                ]
                expected_rows.append(
                    {
                        "id": p.id,
                        "code": p.code,
                        "title": p.title,
                        "pillar_id": p.pillar_id,
                        "status": p.status,
                        **summary([p], by_project[p.id], as_of),
                        "next_due_on": min(open_dues).isoformat() if open_dues else None,
                    }
                )
            assert body["projects"] == expected_rows
            seen |= {row["schedule"] for row in expected_rows}
            late = sorted((m for m in mine_ms if m.overdue(as_of)), key=lambda m: (m.due_on, m.id))
            assert body["overdue"] == [
                {
                    "milestone_id": m.id,
                    "project_id": m.project.id,
                    "title": m.title,
                    "due_on": m.due_on.isoformat(),
                    "days_overdue": (as_of - m.due_on).days,
                }
                for m in late
            ]
            soon = sorted(
                (
                    m
                    for m in mine_ms
                    if m.counted
                    and not m.done_by(as_of)
                    and as_of < m.due_on <= as_of + timedelta(days=30)
                ),
                key=lambda m: (m.due_on, m.id),
            )
            assert [u["milestone_id"] for u in body["upcoming"]] == [m.id for m in soon]
            expected = follow_up(programme, reviews, items, mine_ms, committees, as_of)
            assert {"reviews": body["reviews"], "actions": body["actions"]} == expected, (
                as_of,
                programme.id,
            )
            if expected["reviews"]["last"] is not None:
                blocks_seen.add("last")
            if expected["reviews"]["next"] is not None:
                blocks_seen.add("next")
            if expected["actions"]["overdue"]:
                blocks_seen.add("overdue")
            if expected["actions"]["open"] > expected["actions"]["overdue"]:
                blocks_seen.add("open, not overdue")
            if expected["reviews"]["milestones_done_since_last"]:
                blocks_seen.add("done since last")

        for partner in partners:
            body = (await client.get(f"/api/v1/partners/{partner.id}/report", params=params)).json()
            progs = [g.id for g in programmes if g.partner_id == partner.id]
            mine = [p for p in projects if p.programme_id in progs]
            assert body["summary"] == summary(
                mine, [m for p in mine for m in by_project[p.id]], as_of
            )
            assert [row["programme"]["id"] for row in body["programmes"]] == [
                g.id
                for g in sorted(
                    (g for g in programmes if g.partner_id == partner.id),
                    key=lambda g: (g.starts_on, g.code),
                )
            ]
            for row in body["programmes"]:
                sub = [p for p in projects if p.programme_id == row["programme"]["id"]]
                sub_ms = [m for p in sub for m in by_project[p.id]]
                assert {k: v for k, v in row.items() if k != "programme"} == summary(
                    sub, sub_ms, as_of
                )

        body = (await client.get("/api/v1/reports/portfolio", params=params)).json()
        assert body["summary"] == summary(projects, ms, as_of)
        for pillar, row in zip(pillars, body["pillars"], strict=True):
            sub = [p for p in projects if p.pillar_id == pillar.id]
            assert row["projects"] == len(sub)
            assert row == {
                "pillar": {"id": pillar.id, "code": pillar.code, "name": pillar.name},
                **summary(sub, [m for p in sub for m in by_project[p.id]], as_of),
            }
        # the third partner has no programme, so no row
        assert [row["partner"]["id"] for row in body["partners"]] == sorted(
            (p.id for p in partners[:2]), key=lambda i: next(p.code for p in partners if p.id == i)
        )
        for row in body["partners"]:
            progs = [g.id for g in programmes if g.partner_id == row["partner"]["id"]]
            sub = [p for p in projects if p.programme_id in progs]
            assert row["programmes"] == len(progs)
            assert {k: v for k, v in row.items() if k not in ("partner", "programmes")} == summary(
                sub, [m for p in sub for m in by_project[p.id]], as_of
            )
    # the data exercised every schedule, and every part of the follow-up blocks
    assert seen == {"complete", "late", "behind", "on_track", "not_planned"}
    assert blocks_seen == {"last", "next", "overdue", "open, not overdue", "done since last"}
