"""Load the demo data set (``demo.json``) through the services, so every rule applies to it.

Idempotent: each framework, partner, programme, project and user is looked up by its natural
key (code, username) first and left alone when it exists, so a second run changes nothing; a
review by its programme, committee and ``held_on`` (its decisions and action items come with
it).
A programme is created as a draft and walked through the workflow to its status; only its
``approved_on`` (which the server sets to the day of approval) is then set to the demo's
illustrative date, with an audit row saying so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.action_items import service as action_item_service
from ipcp_api.action_items.schemas import ActionItemCreate
from ipcp_api.audit import service as audit
from ipcp_api.auth.actor import SYSTEM_USER_ID, Actor
from ipcp_api.config import Settings
from ipcp_api.db.session import make_engine, make_sessionmaker
from ipcp_api.decisions import service as decision_service
from ipcp_api.decisions.schemas import DecisionCreate
from ipcp_api.enums import BaselineKind, ProgrammeStatus, ReviewStatus, Role
from ipcp_api.frameworks import service as framework_service
from ipcp_api.frameworks.schemas import FrameworkCreate
from ipcp_api.milestones import service as milestone_service
from ipcp_api.milestones.schemas import MilestoneCreate, MilestonePatch
from ipcp_api.models import (
    Baseline,
    Committee,
    Framework,
    Partner,
    Pillar,
    Programme,
    Project,
    Review,
    User,
)
from ipcp_api.partners import service as partner_service
from ipcp_api.partners.schemas import PartnerCreate
from ipcp_api.programmes import service as programme_service
from ipcp_api.programmes.schemas import ProgrammeCreate, ProgrammePatch
from ipcp_api.projects import service as project_service
from ipcp_api.projects.schemas import ProjectCreate
from ipcp_api.reviews import service as review_service
from ipcp_api.reviews.schemas import ReviewCreate, ReviewPatch
from ipcp_api.users import service as user_service
from ipcp_api.users.schemas import UserCreate

# The path from draft to each status, one allowed transition at a time.
WORKFLOW: dict[str, list[str]] = {
    "draft": [],
    "submitted": ["submitted"],
    "approved": ["submitted", "approved"],
    "active": ["submitted", "approved", "active"],
    "completed": ["submitted", "approved", "active", "completed"],
    "cancelled": ["cancelled"],
}
# The loader acts as an administrator that is not a stored user: its audit rows name no user.
AFTER_APPROVAL_KEYS = ("approved_due_on", "after_approval")
"""Demo milestone keys that say how the plan as approved differed (not milestone fields)."""
LOADER = Actor(user_id=SYSTEM_USER_ID, username="demo-loader", role=Role.admin, partner_id=None)


@dataclass
class Result:
    created: dict[str, int] = field(default_factory=dict)
    users: list[dict[str, Any]] = field(default_factory=list)

    def count(self, what: str) -> None:
        self.created[what] = self.created.get(what, 0) + 1


def data() -> dict[str, Any]:
    text = resources.files("ipcp_api.demo").joinpath("demo.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


async def _by_code(session: AsyncSession, model: Any, code: str) -> Any:
    return await session.scalar(select(model).where(model.code == code))


async def load(session: AsyncSession, dataset: dict[str, Any] | None = None) -> Result:
    """Create whatever of the demo data set is missing; flush, never commit."""
    dataset = dataset or data()
    result = Result()
    actor = LOADER
    frameworks: dict[str, int] = {}
    for item in dataset["frameworks"]:
        existing = await _by_code(session, Framework, item["code"])
        if existing is None:
            existing = await framework_service.create_framework(
                session, actor, FrameworkCreate.model_validate(item)
            )
            result.count("frameworks")
        frameworks[item["code"]] = existing.id

    partners: dict[str, int] = {}
    for item in dataset["partners"]:
        existing = await _by_code(session, Partner, item["code"])
        if existing is None:
            body = {k: v for k, v in item.items() if k != "memberships"}
            body["memberships"] = [
                {
                    "framework_id": frameworks[m["framework"]],
                    "joined_on": m["joined_on"],
                    "note": m["note"],
                }
                for m in item["memberships"]
            ]
            existing = await partner_service.create_partner(
                session, actor, PartnerCreate.model_validate(body)
            )
            result.count("partners")
        partners[item["code"]] = existing.id

    pillars = {p.code: p.id for p in (await session.scalars(select(Pillar))).all()}
    for item in dataset["programmes"]:
        if await _by_code(session, Programme, item["code"]) is not None:
            continue
        await _programme(session, actor, item, partners[item["partner"]], pillars, result)

    for item in dataset["programmes"]:
        if item.get("reviews"):
            programme = await session.scalar(
                select(Programme).where(
                    Programme.partner_id == partners[item["partner"]],
                    Programme.code == item["code"],
                )
            )
            assert programme is not None
            await _reviews(session, actor, programme.id, item["reviews"], result)

    for item in dataset["users"]:
        if await session.scalar(select(User).where(User.username == item["username"])):
            continue
        partner_id = partners[item["partner"]] if item["partner"] else None
        await user_service.create_user(
            session,
            actor,
            UserCreate.model_validate(
                {
                    "username": item["username"],
                    "password": item["password"],
                    "role": item["role"],
                    "partner_id": partner_id,
                }
            ),
        )
        result.count("users")
    result.users = [
        {k: item[k] for k in ("username", "password", "role", "partner")}
        for item in dataset["users"]
    ]
    return result


async def _programme(
    session: AsyncSession,
    actor: Actor,
    item: dict[str, Any],
    partner_id: int,
    pillars: dict[str, int],
    result: Result,
) -> None:
    body = {
        k: item[k] for k in ("code", "title", "kind", "starts_on", "ends_on", "description", "lang")
    }
    body["translations"] = item["translations"]
    body["partner_id"] = partner_id
    programme = await programme_service.create_programme(
        session, actor, ProgrammeCreate.model_validate(body)
    )
    result.count("programmes")
    # what changed after the approval (issue 17): the plan as approved comes first, so that
    # the approval baseline holds it; these changes are applied once the workflow is done
    later: list[tuple[str, dict[str, Any]]] = []
    for project_item in item["projects"]:
        project_body = {
            k: project_item[k]
            for k in ("code", "title", "starts_on", "ends_on", "status", "areas", "lead", "lang")
        }
        project_body["translations"] = project_item["translations"]
        project_body["description"] = project_item["description"]
        project_body["programme_id"] = programme.id
        project_body["pillar_id"] = pillars[project_item["pillar"]]
        project = await project_service.create_project(
            session, actor, ProjectCreate.model_validate(project_body)
        )
        result.count("projects")
        for milestone_item in project_item["milestones"]:
            plain = {k: v for k, v in milestone_item.items() if k not in AFTER_APPROVAL_KEYS}
            plain["project_id"] = project.id
            if milestone_item.get("after_approval") == "added":
                later.append(("add", plain))
                continue
            as_approved = dict(plain)
            if "approved_due_on" in milestone_item:
                as_approved["due_on"] = milestone_item["approved_due_on"]
            if milestone_item.get("after_approval") == "cancelled":
                as_approved.update(state="pending", completed_on=None)
            created = await milestone_service.create_milestone(
                session, actor, MilestoneCreate.model_validate(as_approved)
            )
            result.count("milestones")
            if as_approved != plain:
                later.append(("change", {"id": created.id, **plain}))
    for status in WORKFLOW[item["status"]]:
        programme = await programme_service.update_programme(
            session,
            actor,
            programme.id,
            ProgrammePatch.model_validate({"status": status}),
            if_match=None,
        )
    approved_on = item.get("approved_on")
    if approved_on and programme.approved_on is not None:
        before = audit.snapshot(programme)
        programme.approved_on = date.fromisoformat(approved_on)
        await session.flush()
        audit.updated(session, actor, programme, before)
        await _backdate_approval_baseline(session, actor, programme.id, programme.approved_on)
    await _after_approval(session, actor, later, result)
    assert ProgrammeStatus(programme.status).value == item["status"]


async def _after_approval(
    session: AsyncSession, actor: Actor, later: list[tuple[str, dict[str, Any]]], result: Result
) -> None:
    """Milestones moved or cancelled since the approval, and those added since."""
    for what, body in later:
        if what == "add":
            await milestone_service.create_milestone(
                session, actor, MilestoneCreate.model_validate(body)
            )
            result.count("milestones")
            continue
        ident = body.pop("id")
        changes = {k: body[k] for k in ("due_on", "state", "completed_on") if k in body}
        await milestone_service.update_milestone(
            session, actor, ident, MilestonePatch.model_validate(changes), if_match=None
        )


async def _backdate_approval_baseline(
    session: AsyncSession, actor: Actor, programme_id: int, approved_on: date
) -> None:
    """The approval baseline was taken on the (illustrative) day of approval, like
    ``approved_on`` (audited the same way)."""
    baseline = await session.scalar(
        select(Baseline).where(
            Baseline.programme_id == programme_id, Baseline.kind == BaselineKind.approval
        )
    )
    if baseline is None:
        return
    before = audit.snapshot(baseline)
    baseline.taken_at = datetime.combine(approved_on, time(), UTC)
    await session.flush()
    audit.updated(session, actor, baseline, before)


async def _reviews(
    session: AsyncSession,
    actor: Actor,
    programme_id: int,
    items: list[dict[str, Any]],
    result: Result,
) -> None:
    """The programme's reviews, each looked up by (programme, committee, ``held_on``) first.

    A review that records a meeting is created ``held``, its decisions and action items added,
    then moved to its status (``closed``), as a user of the API would."""
    committees = {c.code: c.id for c in (await session.scalars(select(Committee))).all()}
    projects = {
        p.code: p.id
        for p in (
            await session.scalars(select(Project).where(Project.programme_id == programme_id))
        ).all()
    }
    for item in items:
        committee_id = committees[item["committee"]]
        held_on = date.fromisoformat(item["held_on"])
        existing = await session.scalar(
            select(Review.id).where(
                Review.programme_id == programme_id,
                Review.committee_id == committee_id,
                Review.held_on == held_on,
            )
        )
        if existing is not None:
            continue
        met = item["status"] in (ReviewStatus.held.value, ReviewStatus.closed.value)
        fields = ("format", "allies_count", "held_on", "place", "chairs", "summary", "lang")
        body = {k: item[k] for k in fields}
        body.update(
            programme_id=programme_id,
            committee_id=committee_id,
            translations=item["translations"],
            status=ReviewStatus.held.value if met else ReviewStatus.planned.value,
        )
        review = await review_service.create_review(
            session, actor, ReviewCreate.model_validate(body)
        )
        result.count("reviews")
        decisions: list[int] = []
        for decision_item in item["decisions"]:
            project = decision_item["project"]
            decision = await decision_service.create_decision(
                session,
                actor,
                DecisionCreate.model_validate(
                    {
                        "review_id": review.id,
                        "kind": decision_item["kind"],
                        "text": decision_item["text"],
                        "position": decision_item["position"],
                        "project_id": projects[project] if project else None,
                        "lang": "en",
                        "translations": decision_item["translations"],
                    }
                ),
            )
            decisions.append(decision.id)
            result.count("decisions")
        for action in item["action_items"]:
            project = action["project"]
            copied = ("title", "owner", "owner_side", "due_on", "status", "completed_on")
            await action_item_service.create_action_item(
                session,
                actor,
                ActionItemCreate.model_validate(
                    {
                        **{k: action[k] for k in copied},
                        "review_id": review.id,
                        "decision_id": decisions[action["decision"] - 1]
                        if action["decision"]
                        else None,
                        "project_id": projects[project] if project else None,
                        "lang": "en",
                        "translations": action["translations"],
                    }
                ),
            )
            result.count("action items")
        if item["status"] != body["status"]:
            await review_service.update_review(
                session,
                actor,
                review.id,
                ReviewPatch.model_validate({"status": item["status"]}),
                if_match=None,
            )


async def seed_demo(settings: Settings) -> Result:
    engine = make_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await load(session)
    finally:
        await engine.dispose()


def describe(result: Result) -> list[str]:
    made = ", ".join(f"{n} {what}" for what, n in result.created.items()) or "nothing new"
    lines = [
        f"demo data: {made}",
        "demo accounts (DEMO ONLY — never use these passwords for real):",
    ]
    for user in result.users:
        partner = f" for {user['partner']}" if user["partner"] else ""
        lines.append(f"  {user['username']:<16} {user['password']:<26} {user['role']}{partner}")
    return lines
