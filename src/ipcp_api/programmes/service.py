from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.audit import service as audit
from ipcp_api.auth import scope
from ipcp_api.auth.actor import Actor
from ipcp_api.baselines import service as baselines
from ipcp_api.common import i18n, listing
from ipcp_api.common.crud import check_exists, delete_row, one_or_404, patch_values
from ipcp_api.common.http import check_if_match
from ipcp_api.common.listing import Filter, equals, missing_translation, search
from ipcp_api.common.metrics import today
from ipcp_api.enums import ProgrammeStatus
from ipcp_api.errors import Conflict, Invalid
from ipcp_api.models import Programme, Project
from ipcp_api.programmes import workflow
from ipcp_api.programmes.schemas import ProgrammeCreate, ProgrammePatch, ProgrammeRead


class ProgrammeSort(StrEnum):
    code = "code"
    title = "title"  # type: ignore[assignment]  # (str.title)
    starts_on = "starts_on"
    ends_on = "ends_on"
    status = "status"


def _active_on() -> ColumnElement[bool]:
    day = bindparam("active_on", type_=Date)
    return and_(Programme.starts_on <= day, Programme.ends_on >= day)


LISTING = listing.Spec(
    name="programme",
    model=Programme,
    read=ProgrammeRead,
    sort=ProgrammeSort,
    default_sort="code",
    scope_via=Programme.partner_id,
    filters={
        "q": search(Programme),
        "missing_translation": missing_translation(Programme),
        "code": equals(Programme.code),
        "partner_id": equals(Programme.partner_id),
        "status": equals(Programme.status),
        "kind": equals(Programme.kind),
        "active_on": Filter(_active_on),
    },
)
"""Programmes: a liaison or bound viewer sees only its partner's."""
NULLABLE = ("description", "translations")
DATES = ("starts_on", "ends_on")


def readable(actor: Actor) -> Select[Any]:
    """Programmes the caller may see: a liaison or bound viewer sees only its partner's."""
    return scope.visible_programmes(actor)


async def get_programme(
    session: AsyncSession, actor: Actor, programme_id: int, *, for_update: bool = False
) -> Programme:
    stmt = readable(actor).where(Programme.id == programme_id)
    if for_update:
        stmt = stmt.with_for_update()
    programme: Programme = await one_or_404(session, stmt, "programme", programme_id)
    return programme


def _check_dates(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise Invalid(("body", "ends_on"), f"must not be before starts_on ({starts_on})")


async def create_programme(session: AsyncSession, actor: Actor, data: ProgrammeCreate) -> Programme:
    if data.status is not ProgrammeStatus.draft:
        raise Invalid(
            ("body", "status"),
            "a new programme starts as draft; move it through the workflow afterwards",
        )
    _check_dates(data.starts_on, data.ends_on)
    await check_exists(
        session, scope.visible_partner_id(actor, data.partner_id), "partner_id", data.partner_id
    )
    i18n.check_new(data.lang, data.translations)
    programme = Programme(**data.model_dump())
    session.add(programme)
    await session.flush()
    audit.created(session, actor, programme)
    return programme


async def _check_projects_inside(
    session: AsyncSession, programme: Programme, starts_on: date, ends_on: date
) -> None:
    """Shrinking the period must leave every project inside it (one statement)."""
    early, late = (
        await session.execute(
            select(
                func.bool_or(Project.starts_on < starts_on),
                func.bool_or(Project.ends_on > ends_on),
            ).where(Project.programme_id == programme.id)
        )
    ).one()
    problems = []
    if early:
        problems.append(("starts_on", f"a project of this programme starts before {starts_on}"))
    if late:
        problems.append(("ends_on", f"a project of this programme ends after {ends_on}"))
    if problems:
        error = Invalid(("body", problems[0][0]), problems[0][1])
        error.errors = [{"loc": ["body", field], "msg": msg} for field, msg in problems]
        error.detail = "; ".join(f"{field}: {msg}" for field, msg in problems)
        raise error


async def update_programme(
    session: AsyncSession,
    actor: Actor,
    programme_id: int,
    patch: ProgrammePatch,
    *,
    if_match: str | None,
) -> Programme:
    # FOR UPDATE: the checks below (workflow, projects inside the period) hold until commit.
    programme = await get_programme(session, actor, programme_id, for_update=True)
    check_if_match(if_match, programme.version)
    values = patch_values(patch, nullable=NULLABLE)
    i18n.merge(programme, values)
    changes = {name: value for name, value in values.items() if getattr(programme, name) != value}
    if not changes:
        return programme  # nothing changes: 200, same version, no audit row

    old_status = programme.status
    new_status: ProgrammeStatus = changes.get("status", old_status)
    if set(changes) - {"status"}:
        workflow.check_may_edit(actor, old_status)
    workflow.check_transition(actor, old_status, new_status)

    if programme.approved_on is not None and any(name in changes for name in DATES):
        raise Conflict(
            f"the programme was approved on {programme.approved_on}; its dates can no longer"
            " change",
            errors=[
                {"loc": ["body", name], "msg": "frozen since approval"}
                for name in DATES
                if name in changes
            ],
        )
    if "partner_id" in changes:
        await check_exists(
            session,
            scope.visible_partner_id(actor, changes["partner_id"]),
            "partner_id",
            changes["partner_id"],
        )
    starts_on: date = changes.get("starts_on", programme.starts_on)
    ends_on: date = changes.get("ends_on", programme.ends_on)
    if any(name in changes for name in DATES):
        _check_dates(starts_on, ends_on)
        if starts_on > programme.starts_on or ends_on < programme.ends_on:
            await _check_projects_inside(session, programme, starts_on, ends_on)

    before = audit.snapshot(programme)
    for name, value in changes.items():
        setattr(programme, name, value)
    approving = new_status is not old_status and new_status is ProgrammeStatus.approved
    if approving:
        programme.approved_on = today()
    await session.flush()
    audit.updated(session, actor, programme, before)
    if approving:
        # the plan as approved, copied in this transaction (issue 17)
        await baselines.take_approval(session, actor, programme)
    return programme


async def delete_programme(
    session: AsyncSession, actor: Actor, programme_id: int, *, if_match: str | None
) -> None:
    programme = await get_programme(session, actor, programme_id, for_update=True)
    check_if_match(if_match, programme.version)
    workflow.check_may_delete(actor, programme.status)
    before = audit.snapshot(programme)
    await delete_row(session, programme)  # projects refer to it (RESTRICT) -> 409
    audit.deleted(session, actor, programme, before)
