"""Baselines: reads through one ``listing.Spec``, writes through the ORM with an audit row.

A baseline's copy (``baseline_projects``, ``baseline_milestones``) is written by ONE statement
(``_copy_statement``: two data-modifying CTEs, each an ``INSERT … SELECT``, and the update of
the counts), in the transaction of the change that takes the baseline: the approving PATCH of
a programme (``take_approval``) or ``POST /programmes/{id}/baselines``. One statement means one
snapshot: the counts always equal the rows copied.
"""

from __future__ import annotations

import functools
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import Executable

from ipcp_api.audit import service as audit
from ipcp_api.auth import scope
from ipcp_api.auth.actor import Actor
from ipcp_api.baselines.schemas import APPROVAL_NAME, BaselineCreate, BaselinePatch, BaselineRead
from ipcp_api.common import listing
from ipcp_api.common.crud import (
    delete_audited,
    lock_or_404,
    one_or_404,
    patch_values,
    update_audited,
)
from ipcp_api.common.listing import equals
from ipcp_api.common.pagination import rows_as_dicts
from ipcp_api.enums import BaselineKind
from ipcp_api.errors import Conflict
from ipcp_api.models import (
    Baseline,
    BaselineMilestone,
    BaselineProject,
    Milestone,
    Programme,
    Project,
)


class BaselineSort(StrEnum):
    # newest first is ``-id``: ids grow in the order baselines are taken
    id = "id"
    name = "name"


LISTING = listing.Spec(
    name="baseline",
    model=Baseline,
    read=BaselineRead,
    sort=BaselineSort,
    default_sort="-id",
    joins=(listing.Join(Programme, lambda: Programme.id == Baseline.programme_id),),
    scope_via=Programme.partner_id,
    filters={"programme_id": equals(Baseline.programme_id)},
)
"""Baselines: a liaison or bound viewer reads those of its partner's programmes."""
NULLABLE = ("note",)


# --- taking one -------------------------------------------------------------------------------


@functools.cache
def _copy_statement() -> Executable:
    """Copy the programme ``:programme_id``'s projects and milestones into ``:baseline_id``
    and set its counts, in one statement (one snapshot)."""
    baseline_id = bindparam("copy_baseline_id", type_=Baseline.id.type)
    programme_id = bindparam("copy_programme_id", type_=Programme.id.type)
    projects = (
        insert(BaselineProject)
        .from_select(
            [
                "baseline_id",
                "project_id",
                "pillar_id",
                "code",
                "title",
                "lang",
                "translations",
                "starts_on",
                "ends_on",
                "status",
            ],
            select(
                baseline_id,
                Project.id,
                Project.pillar_id,
                Project.code,
                Project.title,
                Project.lang,
                Project.translations,
                Project.starts_on,
                Project.ends_on,
                Project.status,
            ).where(Project.programme_id == programme_id),
        )
        .returning(BaselineProject.project_id)
        .cte("copied_projects")
    )
    milestones = (
        insert(BaselineMilestone)
        .from_select(
            [
                "baseline_id",
                "milestone_id",
                "project_id",
                "title",
                "lang",
                "translations",
                "due_on",
                "weight",
                "state",
                "completed_on",
            ],
            select(
                baseline_id,
                Milestone.id,
                Milestone.project_id,
                Milestone.title,
                Milestone.lang,
                Milestone.translations,
                Milestone.due_on,
                Milestone.weight,
                Milestone.state,
                Milestone.completed_on,
            )
            .join(Project, Project.id == Milestone.project_id)
            .where(Project.programme_id == programme_id),
        )
        .returning(BaselineMilestone.milestone_id)
        .cte("copied_milestones")
    )
    # Not the ORM's UPDATE: the counts are part of taking the baseline, not a change of it
    # (``version`` stays 1).
    return (
        update(Baseline)
        .where(Baseline.id == baseline_id)
        .values(
            projects=select(func.count()).select_from(projects).scalar_subquery(),
            milestones=select(func.count()).select_from(milestones).scalar_subquery(),
        )
        .returning(Baseline.projects, Baseline.milestones)
        .add_cte(projects, milestones)
    )


async def _take(
    session: AsyncSession,
    actor: Actor,
    programme_id: int,
    kind: BaselineKind,
    name: str,
    note: str | None,
) -> Baseline:
    baseline = Baseline(
        programme_id=programme_id, kind=kind, name=name, note=note, taken_by=actor.user_id
    )
    session.add(baseline)
    await session.flush()
    connection = await session.connection()
    projects, milestones = (
        await connection.execute(
            _copy_statement(), {"copy_baseline_id": baseline.id, "copy_programme_id": programme_id}
        )
    ).one()
    set_committed_value(baseline, "projects", projects)
    set_committed_value(baseline, "milestones", milestones)
    audit.created(session, actor, baseline)
    return baseline


async def take_approval(session: AsyncSession, actor: Actor, programme: Programme) -> Baseline:
    """The ``approval`` baseline, in the transaction of the PATCH that approves ``programme``
    (one per programme, ever: a unique partial index holds it)."""
    return await _take(session, actor, programme.id, BaselineKind.approval, APPROVAL_NAME, None)


def _programme(actor: Actor, programme_id: int) -> Select[Any]:
    return scope.visible_programmes(actor).where(Programme.id == programme_id)


async def create_baseline(
    session: AsyncSession, actor: Actor, programme_id: int, data: BaselineCreate
) -> Baseline:
    # FOR SHARE: the programme cannot be deleted (or approved) while its plan is copied
    programme: Programme = await one_or_404(
        session,
        _programme(actor, programme_id).with_for_update(read=True),
        "programme",
        programme_id,
    )
    return await _take(session, actor, programme.id, BaselineKind.named, data.name, data.note)


# --- reading ----------------------------------------------------------------------------------


async def check_programme(session: AsyncSession, actor: Actor, programme_id: int) -> None:
    """404 unless the caller sees the programme (its baselines' list is then its own)."""
    stmt: Select[Any] = _programme(actor, programme_id).with_only_columns(literal_column("1"))
    await one_or_404(session, stmt, "programme", programme_id)


@functools.cache
def _plan_statement() -> Executable:
    bp, bm = BaselineProject, BaselineMilestone
    return (
        select(
            bp.project_id,
            bp.code,
            bp.title,
            bp.lang,
            bp.translations,
            bp.pillar_id,
            bp.starts_on,
            bp.ends_on,
            bp.status,
            bm.milestone_id,
            bm.title.label("milestone_title"),
            bm.lang.label("milestone_lang"),
            bm.translations.label("milestone_translations"),
            bm.due_on,
            bm.weight,
            bm.state,
            bm.completed_on,
        )
        .outerjoin(bm, (bm.baseline_id == bp.baseline_id) & (bm.project_id == bp.project_id))
        .where(bp.baseline_id == bindparam("baseline_id"))
        .order_by(bp.code, bp.project_id, bm.due_on, bm.milestone_id)
    )


async def read_plan(session: AsyncSession, baseline_id: int) -> dict[str, Any]:
    """The copy, projects by code, each with its milestones by due date (one statement).
    Call only after the baseline was read in the caller's scope."""
    projects: list[dict[str, Any]] = []
    by_id: dict[int, dict[str, Any]] = {}
    for row in await rows_as_dicts(session, _plan_statement(), {"baseline_id": baseline_id}):
        project = by_id.get(row["project_id"])
        if project is None:
            project = {
                name: row[name]
                for name in (
                    "project_id",
                    "code",
                    "title",
                    "lang",
                    "translations",
                    "pillar_id",
                    "starts_on",
                    "ends_on",
                    "status",
                )
            }
            project["milestones"] = []
            by_id[row["project_id"]] = project
            projects.append(project)
        if row["milestone_id"] is not None:
            project["milestones"].append(
                {
                    "milestone_id": row["milestone_id"],
                    "title": row["milestone_title"],
                    "lang": row["milestone_lang"],
                    "translations": row["milestone_translations"],
                    "due_on": row["due_on"],
                    "weight": row["weight"],
                    "state": row["state"],
                    "completed_on": row["completed_on"],
                }
            )
    return {"projects": projects}


# --- changing and deleting ----------------------------------------------------------------------


def _locked(actor: Actor, baseline_id: int) -> Select[Any]:
    stmt: Select[Any] = (
        select(Baseline)
        .join(Programme, Programme.id == Baseline.programme_id)
        .where(Baseline.id == baseline_id)
    )
    return scope.restrict(stmt, actor, via=Programme.partner_id)


async def update_baseline(
    session: AsyncSession,
    actor: Actor,
    baseline_id: int,
    patch: BaselinePatch,
    *,
    if_match: str | None,
) -> Baseline:
    baseline = await lock_or_404(
        session, _locked(actor, baseline_id), "baseline", baseline_id, if_match=if_match
    )
    values = patch_values(patch, nullable=NULLABLE)
    return await update_audited(session, actor, baseline, values)


async def delete_baseline(
    session: AsyncSession, actor: Actor, baseline_id: int, *, if_match: str | None
) -> None:
    baseline = await lock_or_404(
        session, _locked(actor, baseline_id), "baseline", baseline_id, if_match=if_match
    )
    if baseline.kind is BaselineKind.approval:
        raise Conflict("the approval baseline is the plan as approved and cannot be deleted")
    await delete_audited(session, actor, baseline)
