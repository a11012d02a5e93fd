"""Milestones: scoped reads with ``overdue`` computed in the same statement, and writes."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.audit import service as audit
from ipcp_api.auth.actor import Actor
from ipcp_api.common import metrics
from ipcp_api.common.crud import apply, delete_row, one_or_404, patch_values
from ipcp_api.common.http import check_if_match, in_id_range
from ipcp_api.common.pagination import ListParams, SortField, fetch_page, parse_sort
from ipcp_api.common.schemas import Page
from ipcp_api.enums import MilestoneState, ProgrammeStatus, Role
from ipcp_api.errors import Forbidden, Invalid
from ipcp_api.milestones.schemas import MilestoneCreate, MilestonePatch, MilestoneRead
from ipcp_api.models import Milestone, Programme, Project

SORT_FIELDS = {
    "due_on": SortField(Milestone.due_on, Milestone.id, is_date=True),
    "title": SortField(Milestone.title, Milestone.id),
    "weight": SortField(Milestone.weight, Milestone.id),
}
NULLABLE = ("completed_on",)
CLOSED_PROGRAMME = (ProgrammeStatus.completed.value, ProgrammeStatus.cancelled.value)
_FIELDS = tuple(name for name in MilestoneRead.model_fields if name != "overdue")


# --- scoping ----------------------------------------------------------------------------------


def readable(actor: Actor) -> Select[Any]:
    """Milestones the caller may see: scoped through project -> programme -> partner."""
    stmt = (
        select(Milestone)
        .join(Project, Project.id == Milestone.project_id)
        .join(Programme, Programme.id == Project.programme_id)
    )
    if actor.partner_scope is not None:
        stmt = stmt.where(Programme.partner_id == actor.partner_scope)
    return stmt


def is_overdue(as_of: date) -> ColumnElement[bool]:
    """``overdue`` by the report definition (needs ``projects`` joined, as ``readable`` does)."""
    return metrics.overdue(metrics.from_models(Milestone, Project), as_of)


def to_read(row: Any) -> MilestoneRead:
    milestone: Milestone = row[0]
    values = {name: getattr(milestone, name) for name in _FIELDS}
    values["overdue"] = bool(row._mapping["overdue"])
    return MilestoneRead.model_validate(values)


# --- reads ------------------------------------------------------------------------------------


async def list_milestones(
    session: AsyncSession,
    actor: Actor,
    *,
    project_id: int | None,
    programme_id: int | None,
    state: MilestoneState | None,
    overdue: bool | None,
    due_before: date | None,
    due_after: date | None,
    sort: str | None,
    params: ListParams,
) -> Page[MilestoneRead]:
    order = parse_sort(sort, SORT_FIELDS, "due_on")
    today = metrics.today()
    stmt = readable(actor)
    conditions: list[ColumnElement[bool]] = []
    if project_id is not None:
        conditions.append(Milestone.project_id == project_id)
    if programme_id is not None:
        conditions.append(Project.programme_id == programme_id)
    if state is not None:
        conditions.append(Milestone.state == state.value)
    if overdue is not None:
        conditions.append(is_overdue(today) if overdue else not_(is_overdue(today)))
    if due_before is not None:
        conditions.append(Milestone.due_on < due_before)
    if due_after is not None:
        conditions.append(Milestone.due_on > due_after)
    if conditions:
        stmt = stmt.where(*conditions)
    rows, total, next_cursor = await fetch_page(
        session,
        stmt.add_columns(is_overdue(today).label("overdue")),
        order,
        params,
        count_stmt=stmt,
    )
    return Page[MilestoneRead](
        items=[to_read(row) for row in rows],
        total=total,
        limit=params.limit,
        next_cursor=next_cursor,
    )


async def get_milestone(session: AsyncSession, actor: Actor, milestone_id: int) -> MilestoneRead:
    """One milestone with ``overdue``, in one statement; 404 when not visible."""
    stmt = (
        readable(actor)
        .where(Milestone.id == milestone_id)
        .add_columns(is_overdue(metrics.today()).label("overdue"))
    )
    row = await one_or_404(session, stmt, "milestone", milestone_id)
    return to_read(row)


# --- rules ------------------------------------------------------------------------------------


def forbid_viewer(actor: Actor) -> None:
    """Viewers are read-only: 403 before anything is looked up."""
    if actor.role is Role.viewer:
        raise Forbidden("a viewer may not change milestones")


def _may_write(actor: Actor, programme: Programme) -> None:
    """A liaison may not change milestones in a completed or cancelled programme (403)."""
    if actor.role is Role.liaison and programme.status in CLOSED_PROGRAMME:
        raise Forbidden(
            f"programme {programme.code} is {programme.status}: "
            "a liaison may no longer change its milestones"
        )


async def _lock_project(
    session: AsyncSession, actor: Actor, project_id: int
) -> tuple[Project, Programme]:
    """The visible project and its programme, locked FOR SHARE: their periods and statuses
    hold until commit. Not visible -> 422 naming ``project_id``."""
    row = None
    if in_id_range(project_id):
        stmt = (
            select(Project, Programme)
            .join(Programme, Programme.id == Project.programme_id)
            .where(Project.id == project_id)
            .with_for_update(read=True, of=[Project, Programme])
            .execution_options(populate_existing=True)
        )
        if actor.partner_scope is not None:
            stmt = stmt.where(Programme.partner_id == actor.partner_scope)
        row = (await session.execute(stmt)).first()
    if row is None:
        raise Invalid(("body", "project_id"), f"project_id {project_id} does not exist")
    return row[0], row[1]


async def _lock_milestone(
    session: AsyncSession, actor: Actor, milestone_id: int, *, for_delete: bool = False
) -> Milestone:
    stmt = readable(actor).where(Milestone.id == milestone_id)
    stmt = stmt.with_for_update(of=Milestone, key_share=not for_delete).execution_options(
        populate_existing=True
    )
    milestone: Milestone = await one_or_404(session, stmt, "milestone", milestone_id)
    return milestone


def _check(
    project: Project,
    *,
    due_on: date,
    state: str,
    completed_on: date | None,
) -> None:
    """The rules on the merged milestone; every broken one is named (422)."""
    errors: list[tuple[str, str]] = []
    if not project.starts_on <= due_on <= project.ends_on:
        period = f"{project.starts_on.isoformat()}..{project.ends_on.isoformat()}"
        errors.append(("due_on", f"must lie inside the project's period {period}"))
    if state == MilestoneState.done.value:
        if completed_on is None:
            errors.append(("completed_on", "is required when state is done"))
        elif completed_on > metrics.today():
            errors.append(("completed_on", "must not be after today"))
    elif completed_on is not None:
        errors.append(("completed_on", "must be null unless state is done"))
    if not errors:
        return
    field, msg = errors[0]
    error = Invalid(("body", field), msg)
    for field, msg in errors[1:]:
        assert error.errors is not None
        error.errors.append({"loc": ["body", field], "msg": msg})
    error.detail = "; ".join(f"body.{field}: {msg}" for field, msg in errors)
    raise error


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.value if isinstance(v, StrEnum) else v) for k, v in values.items()}


# --- writes -----------------------------------------------------------------------------------


async def create_milestone(
    session: AsyncSession, actor: Actor, data: MilestoneCreate
) -> MilestoneRead:
    forbid_viewer(actor)
    project, programme = await _lock_project(session, actor, data.project_id)
    _may_write(actor, programme)
    values = _plain(data.model_dump())
    _check(
        project,
        due_on=values["due_on"],
        state=values["state"],
        completed_on=values["completed_on"],
    )
    milestone = Milestone(**values)
    session.add(milestone)
    await session.flush()
    audit.created(session, actor, milestone)
    return await get_milestone(session, actor, milestone.id)


async def update_milestone(
    session: AsyncSession,
    actor: Actor,
    milestone_id: int,
    patch: MilestonePatch,
    *,
    if_match: str | None,
) -> MilestoneRead:
    forbid_viewer(actor)
    milestone = await _lock_milestone(session, actor, milestone_id)
    check_if_match(if_match, milestone.version)
    values = _plain(patch_values(patch, nullable=NULLABLE))
    project, programme = await _lock_project(session, actor, milestone.project_id)
    _may_write(actor, programme)
    if values.get("project_id", milestone.project_id) != milestone.project_id:
        project, programme = await _lock_project(session, actor, values["project_id"])
        _may_write(actor, programme)
    merged = {name: values.get(name, getattr(milestone, name)) for name in Milestone.audited_fields}
    _check(
        project,
        due_on=merged["due_on"],
        state=merged["state"],
        completed_on=merged["completed_on"],
    )
    before = audit.snapshot(milestone)
    apply(milestone, values)
    await session.flush()
    audit.updated(session, actor, milestone, before)
    return await get_milestone(session, actor, milestone.id)


async def delete_milestone(
    session: AsyncSession, actor: Actor, milestone_id: int, *, if_match: str | None
) -> None:
    forbid_viewer(actor)
    milestone = await _lock_milestone(session, actor, milestone_id, for_delete=True)
    check_if_match(if_match, milestone.version)
    _project, programme = await _lock_project(session, actor, milestone.project_id)
    _may_write(actor, programme)
    before = audit.snapshot(milestone)
    await delete_row(session, milestone)
    audit.deleted(session, actor, milestone, before)
