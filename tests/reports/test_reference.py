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


# --- against a baseline (issue 17) ---------------------------------------------------------------


@dataclass
class Fact:
    """A milestone of the programme now, of the baseline's copy, or both."""

    project_id: int
    pillar_id: int
    now: Any  # (weight, due_on, done_by(as_of) callable) or None
    then: Any  # (weight, due_on) or None


def baseline_figures(facts: list[Fact], as_of: date) -> dict[str, Any]:
    """API.md's "Against a baseline", read literally."""
    w = sum(f.now[0] for f in facts if f.now)
    done = sum(f.now[0] for f in facts if f.now and f.now[2](as_of))
    wb = sum(f.then[0] for f in facts if f.then)
    due_b = sum(f.then[0] for f in facts if f.then and f.then[1] <= as_of)
    progress = Fraction(done, w) if w else None
    expected = Fraction(due_b, wb) if wb else None
    slips = [(f.now[1] - f.then[1]).days for f in facts if f.now and f.then]
    late = [s for s in slips if s > 0]
    return {
        "baseline_expected_progress": rounded(expected) if expected is not None else None,
        "variance_vs_baseline": (
            rounded(progress - expected) if progress is not None and expected is not None else None
        ),
        "milestones_slipped": len(late),
        "max_slip_days": max(late, default=0),
        "milestones_added": sum(1 for f in facts if f.now and not f.then),
        "milestones_removed": sum(1 for f in facts if f.then and not f.now),
    }


BASELINE_FIELDS = tuple(baseline_figures([], date(2017, 1, 1)))


def pick(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in BASELINE_FIELDS}


def facts_of(
    live: dict[int, Any],
    live_status: dict[int, str],
    live_pillar: dict[int, int],
    copy: dict[int, Any],
    copy_all: dict[int, Any],
) -> list[Fact]:
    """One fact per milestone now or in the copy, in the row API.md puts it."""
    out = []
    for mid in set(live) | set(copy_all):
        m = live.get(mid)
        now = None
        if m is not None and m.state != "cancelled" and live_status[m.project_id] != "cancelled":
            now = (m.weight, m.due_on, lambda d, m=m: m.state == "done" and m.completed_on <= d)
        then = copy[mid][2:] if mid in copy else None
        if m is not None:
            out.append(Fact(m.project_id, live_pillar[m.project_id], now, then))
        else:
            out.append(Fact(*copy_all[mid], now, then))
    return out


async def _random_plan(factory: Any, pillars: list[Pillar], rng: random.Random) -> Programme:
    programme = await factory.programme(status="draft")
    for n in range(rng.choice([1, 3, 5])):
        project = await factory.project(
            programme_id=programme.id,
            pillar_id=rng.choice(pillars[:2]).id,
            code=f"B{n}",
            status=rng.choice(["planned", "in_progress", "in_progress", "cancelled"]),
        )
        for _ in range(rng.choice([0, 2, 4, 7])):
            due = date(2017, 1, 1) + timedelta(days=rng.randrange(0, 360))
            state = rng.choice(["pending", "pending", "done", "cancelled"])
            await factory.milestone(
                project_id=project.id,
                due_on=due,
                weight=rng.choice([1, 2, 3, 7, 50]),
                state=state,
                completed_on=due + timedelta(days=rng.randrange(-60, 60))
                if state == "done"
                else None,
            )
    return programme


async def _live(session: Any, programme_id: int) -> tuple[list[Project], list[Any]]:
    from ipcp_api.models import Milestone

    fresh = {"populate_existing": True}
    projects = list(
        (
            await session.scalars(
                select(Project)
                .where(Project.programme_id == programme_id)
                .execution_options(**fresh)
            )
        ).all()
    )
    ids = [p.id for p in projects]
    milestones = list(
        (
            await session.scalars(
                select(Milestone).where(Milestone.project_id.in_(ids)).execution_options(**fresh)
            )
        ).all()
    )
    return projects, milestones


async def _shake(session: Any, factory: Any, programme_id: int, rng: random.Random) -> None:
    """Random moves, reweights, cancellations, moves between projects, deletions, additions."""
    projects, milestones = await _live(session, programme_id)
    pillars = list((await session.scalars(select(Pillar).order_by(Pillar.position))).all())
    for m in milestones:
        roll = rng.random()
        if roll < 0.25:
            m.due_on = m.due_on + timedelta(days=rng.randrange(-40, 200))
        elif roll < 0.35:
            m.weight = rng.choice([1, 4, 9, 100])
        elif roll < 0.45:
            m.state, m.completed_on = "cancelled", None
        elif roll < 0.55:
            m.project_id = rng.choice(projects).id
        elif roll < 0.65:
            await session.delete(m)
    await session.flush()
    for p in projects:
        roll = rng.random()
        if roll < 0.15:
            p.status = "cancelled"
        elif roll < 0.25:
            p.pillar_id = rng.choice(pillars).id
        elif roll < 0.4:
            _, left = await _live(session, programme_id)
            for m in left:
                if m.project_id == p.id:
                    await session.delete(m)
            await session.flush()
            await session.delete(p)
    await session.flush()
    projects, _ = await _live(session, programme_id)
    for _ in range(rng.choice([0, 1, 3])):
        if projects:
            await factory.milestone(
                project_id=rng.choice(projects).id,
                due_on=date(2017, 1, 1) + timedelta(days=rng.randrange(0, 400)),
                weight=rng.choice([1, 5]),
            )


async def test_baseline_figures_agree_with_the_definitions(
    client: httpx.AsyncClient, factory: Any, session: Any
) -> None:
    from ipcp_api.models import BaselineMilestone, BaselineProject

    rng = random.Random(20160601)
    pillars = list((await session.scalars(select(Pillar).order_by(Pillar.position))).all())
    checked = {"slipped": 0, "added": 0, "removed": 0, "items": 0}
    for _ in range(6):
        programme_id = (await _random_plan(factory, pillars, rng)).id
        taken = await client.post(
            f"/api/v1/programmes/{programme_id}/baselines", json={"name": "random"}
        )
        assert taken.status_code == 201, taken.text
        baseline_id = taken.json()["id"]
        # the oracle's copy: read before anything moves, from the live rows
        projects, milestones = await _live(session, programme_id)
        status = {p.id: p.status for p in projects}
        pillar_of = {p.id: p.pillar_id for p in projects}
        copy = {
            m.id: (m.project_id, pillar_of[m.project_id], m.weight, m.due_on)
            for m in milestones
            if m.state != "cancelled" and status[m.project_id] != "cancelled"
        }
        copy_all = {m.id: (m.project_id, pillar_of[m.project_id]) for m in milestones}
        # and the stored copy is exactly that
        stored = (
            await session.execute(
                select(BaselineMilestone.milestone_id, BaselineProject.pillar_id)
                .join(
                    BaselineProject,
                    (BaselineProject.baseline_id == BaselineMilestone.baseline_id)
                    & (BaselineProject.project_id == BaselineMilestone.project_id),
                )
                .where(BaselineMilestone.baseline_id == baseline_id)
            )
        ).all()
        assert dict(stored) == {k: v[1] for k, v in copy_all.items()}

        await _shake(session, factory, programme_id, rng)
        projects, milestones = await _live(session, programme_id)
        live_status = {p.id: p.status for p in projects}
        live_pillar = {p.id: p.pillar_id for p in projects}
        live = {m.id: m for m in milestones}

        dues = sorted({v[3] for v in copy.values()} | {m.due_on for m in milestones})
        dates = [date(2016, 12, 1), date(2017, 6, 30), date(2018, 6, 1)]
        if dues:
            dates += [dues[len(dues) // 2], dues[0]]
        for as_of in dates:
            facts = facts_of(live, live_status, live_pillar, copy, copy_all)
            body = (
                await client.get(
                    f"/api/v1/programmes/{programme_id}/report",
                    params={"as_of": as_of.isoformat(), "baseline": str(baseline_id)},
                )
            ).json()
            assert body["baseline"]["id"] == baseline_id

            assert pick(body["summary"]) == baseline_figures(facts, as_of), as_of
            for row in body["pillars"]:
                mine = [f for f in facts if f.pillar_id == row["pillar"]["id"]]
                assert pick(row) == baseline_figures(mine, as_of), (as_of, row["pillar"])
            assert {row["id"] for row in body["projects"]} == set(live_status)
            for row in body["projects"]:
                mine = [f for f in facts if f.project_id == row["id"]]
                assert pick(row) == baseline_figures(mine, as_of), (as_of, row["id"])
            for item in body["overdue"] + body["upcoming"]:
                then = copy.get(item["milestone_id"])
                assert item["baseline_due_on"] == (then[3].isoformat() if then else None)
                assert item["slip_days"] == (
                    (live[item["milestone_id"]].due_on - then[3]).days if then else None
                )
                checked["items"] += 1
            checked["slipped"] += body["summary"]["milestones_slipped"]
            checked["added"] += body["summary"]["milestones_added"]
            checked["removed"] += body["summary"]["milestones_removed"]
    # the random changes exercised every figure
    assert all(checked.values()), checked
