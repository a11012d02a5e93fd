"""Milestones: scoped reads with ``overdue`` computed in the same statement, and writes."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.auth import scope
from ipcp_api.auth.actor import Actor
from ipcp_api.common import i18n, listing, metrics
from ipcp_api.common.crud import (
    delete_audited,
    insert_audited,
    one_or_404,
    patch_values,
    update_audited,
)
from ipcp_api.common.http import check_if_match, in_id_range
from ipcp_api.common.listing import Filter, equals, flag, missing_translation, search
from ipcp_api.common.metrics import AS_OF
from ipcp_api.enums import MilestoneState
from ipcp_api.errors import Invalid, invalid_fields
from ipcp_api.milestones.schemas import MilestoneCreate, MilestonePatch, MilestoneRead
from ipcp_api.models import Milestone, Programme, Project
from ipcp_api.programmes import workflow

NULLABLE = ("ref", "completed_on", "translations")


# --- scoping ----------------------------------------------------------------------------------


def readable(actor: Actor) -> Select[Any]:
    """Milestones the caller may see: scoped through project -> programme -> partner."""
    stmt = (
        select(Milestone)
        .join(Project, Project.id == Milestone.project_id)
        .join(Programme, Programme.id == Project.programme_id)
    )
    return scope.restrict(stmt, actor, via=Programme.partner_id)


def is_overdue(as_of: Any) -> ColumnElement[bool]:
    """``overdue`` by the report definition (needs ``projects`` joined, as ``readable`` does)."""
    return metrics.overdue(metrics.from_models(Milestone, Project), as_of)


# --- reads ------------------------------------------------------------------------------------


class MilestoneSort(StrEnum):
    due_on = "due_on"
    title = "title"  # type: ignore[assignment]  # (str.title)
    weight = "weight"


def _overdue() -> ColumnElement[bool]:
    return is_overdue(AS_OF)


LISTING = listing.Spec(
    name="milestone",
    model=Milestone,
    read=MilestoneRead,
    sort=MilestoneSort,
    default_sort="due_on",
    computed={"overdue": _overdue},
    joins=(
        listing.Join(Project, lambda: Project.id == Milestone.project_id),
        listing.Join(Programme, lambda: Programme.id == Project.programme_id),
    ),
    always_joins=1,  # ``overdue`` reads the project's status
    scope_via=Programme.partner_id,
    filters={
        "q": search(Milestone),
        "missing_translation": missing_translation(Milestone),
        "project_id": equals(Milestone.project_id),
        "ref": equals(Milestone.ref),
        "programme_id": equals(Project.programme_id, "programme_id"),
        "state": equals(Milestone.state),
        "overdue": flag(_overdue),
        "due_before": Filter(lambda: Milestone.due_on < bindparam("due_before", type_=Date)),
        "due_after": Filter(lambda: Milestone.due_on > bindparam("due_after", type_=Date)),
    },
    values=metrics.as_of_today,
)
"""Milestones, through project -> programme -> partner; ``overdue`` as of today."""


async def get_milestone(session: AsyncSession, actor: Actor, milestone_id: int) -> MilestoneRead:
    """The milestone as a ``MilestoneRead`` (what the writes answer with)."""
    row = await listing.read_row(session, LISTING, actor, milestone_id)
    return MilestoneRead.model_validate(row)


# --- rules ------------------------------------------------------------------------------------


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
        stmt = scope.restrict(stmt, actor, via=Programme.partner_id)
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
    state: MilestoneState,
    completed_on: date | None,
) -> None:
    """The rules on the merged milestone; every broken one is named (422)."""
    errors: list[tuple[str, str]] = []
    if not project.starts_on <= due_on <= project.ends_on:
        period = f"{project.starts_on.isoformat()}..{project.ends_on.isoformat()}"
        errors.append(("due_on", f"must lie inside the project's period {period}"))
    if state is MilestoneState.done:
        if completed_on is None:
            errors.append(("completed_on", "is required when state is done"))
        elif completed_on > metrics.today():
            errors.append(("completed_on", "must not be after today"))
    elif completed_on is not None:
        errors.append(("completed_on", "must be null unless state is done"))
    if errors:
        raise invalid_fields(errors)


# --- writes -----------------------------------------------------------------------------------


async def create_milestone(
    session: AsyncSession, actor: Actor, data: MilestoneCreate
) -> MilestoneRead:
    workflow.forbid_viewer(actor, "milestones")
    project, programme = await _lock_project(session, actor, data.project_id)
    workflow.check_may_change_inside(actor, programme, "milestones")
    i18n.check_new(data.lang, data.translations)
    values = data.model_dump()
    _check(
        project,
        due_on=values["due_on"],
        state=values["state"],
        completed_on=values["completed_on"],
    )
    milestone = await insert_audited(session, actor, Milestone(**values))
    return await get_milestone(session, actor, milestone.id)


async def update_milestone(
    session: AsyncSession,
    actor: Actor,
    milestone_id: int,
    patch: MilestonePatch,
    *,
    if_match: str | None,
) -> MilestoneRead:
    workflow.forbid_viewer(actor, "milestones")
    milestone = await _lock_milestone(session, actor, milestone_id)
    check_if_match(if_match, milestone.version)
    values = patch_values(patch, nullable=NULLABLE)
    i18n.merge(milestone, values)
    project, programme = await _lock_project(session, actor, milestone.project_id)
    workflow.check_may_change_inside(actor, programme, "milestones")
    if values.get("project_id", milestone.project_id) != milestone.project_id:
        project, programme = await _lock_project(session, actor, values["project_id"])
        workflow.check_may_change_inside(actor, programme, "milestones")
    merged = {name: values.get(name, getattr(milestone, name)) for name in Milestone.audited_fields}
    _check(
        project,
        due_on=merged["due_on"],
        state=merged["state"],
        completed_on=merged["completed_on"],
    )
    await update_audited(session, actor, milestone, values)
    return await get_milestone(session, actor, milestone.id)


async def delete_milestone(
    session: AsyncSession, actor: Actor, milestone_id: int, *, if_match: str | None
) -> None:
    workflow.forbid_viewer(actor, "milestones")
    milestone = await _lock_milestone(session, actor, milestone_id, for_delete=True)
    check_if_match(if_match, milestone.version)
    _project, programme = await _lock_project(session, actor, milestone.project_id)
    workflow.check_may_change_inside(actor, programme, "milestones")
    await delete_audited(session, actor, milestone)
