"""Projects: scoped reads with their progress computed in the same statement, and writes."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, bindparam, cast, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ipcp_api.auth import scope
from ipcp_api.auth.actor import Actor
from ipcp_api.common import i18n, listing, metrics
from ipcp_api.common.crud import (
    check_exists,
    delete_audited,
    insert_audited,
    one_or_404,
    patch_values,
    update_audited,
)
from ipcp_api.common.http import check_if_match, in_id_range
from ipcp_api.common.listing import Filter, equals, missing_translation, search
from ipcp_api.common.metrics import AS_OF
from ipcp_api.errors import Invalid, invalid_fields
from ipcp_api.models import Milestone, Pillar, Programme, Project
from ipcp_api.programmes import workflow
from ipcp_api.projects.schemas import ProjectCreate, ProjectPatch, ProjectRead

NULLABLE = ("description", "lead", "translations")
METRICS = ("progress", "expected_progress", "schedule")


# --- scoping ----------------------------------------------------------------------------------


def readable(actor: Actor) -> Select[Any]:
    """Projects the caller may see: scoped through programme -> partner."""
    stmt = select(Project).join(Programme, Programme.id == Project.programme_id)
    return scope.restrict(stmt, actor, via=Programme.partner_id)


def with_metrics(stmt: Select[Any], as_of: Any) -> Select[Any]:
    """Add progress, expected_progress and schedule as of ``as_of`` to a select of projects.

    One LATERAL aggregate over each project's milestones, in the same statement as the rows.
    The fractions come back as float8, already rounded (4 places) by PostgreSQL.
    """
    m = aliased(Milestone)
    summary = metrics.summary_columns(metrics.from_models(m, Project), as_of)
    lateral = (
        select(
            cast(summary["progress"], Float).label("progress"),
            cast(summary["expected_progress"], Float).label("expected_progress"),
            summary["schedule"].label("schedule"),
        )
        .where(m.project_id == Project.id)
        .correlate(Project)
        .lateral("project_metrics")
    )
    return stmt.add_columns(*(lateral.c[name] for name in METRICS)).join(lateral, true())


# --- reads ------------------------------------------------------------------------------------


class ProjectSort(StrEnum):
    code = "code"
    title = "title"  # type: ignore[assignment]  # (str.title)
    starts_on = "starts_on"
    ends_on = "ends_on"
    status = "status"


def _has_area() -> ColumnElement[bool]:
    return Project.areas.contains(bindparam("area", type_=Project.areas.type))


LISTING = listing.Spec(
    name="project",
    model=Project,
    read=ProjectRead,
    sort=ProjectSort,
    default_sort="code",
    extend=lambda stmt: with_metrics(stmt, AS_OF),
    joins=(listing.Join(Programme, lambda: Programme.id == Project.programme_id),),
    scope_via=Programme.partner_id,
    filters={
        "q": search(Project),
        "missing_translation": missing_translation(Project),
        "code": equals(Project.code),
        "programme_id": equals(Project.programme_id),
        "pillar_id": equals(Project.pillar_id),
        "partner_id": equals(Programme.partner_id, "partner_id", joins=1),
        "status": equals(Project.status),
        "area": Filter(_has_area, lambda area: [area]),
    },
    values=metrics.as_of_today,
)
"""Projects, through programme -> partner; progress, expected_progress and schedule as of
today in the same statement."""


async def get_project(session: AsyncSession, actor: Actor, project_id: int) -> ProjectRead:
    """The project as a ``ProjectRead`` (what the writes answer with)."""
    return ProjectRead.model_validate(await listing.read_row(session, LISTING, actor, project_id))


async def _lock_project(
    session: AsyncSession, actor: Actor, project_id: int, *, for_delete: bool = False
) -> Project:
    """The visible project, locked (FOR NO KEY UPDATE, or FOR UPDATE to delete it).

    Either conflicts with the FOR SHARE a milestone write takes on its project, so a
    milestone cannot slip outside a period being shrunk. The programme is locked separately.
    """
    stmt = (
        readable(actor)
        .where(Project.id == project_id)
        .with_for_update(of=Project, key_share=not for_delete)
        .execution_options(populate_existing=True)
    )
    project: Project = await one_or_404(session, stmt, "project", project_id)
    return project


async def _lock_programme(
    session: AsyncSession, actor: Actor, programme_id: int, *, field: str | None
) -> Programme:
    """The visible programme, locked FOR SHARE so its period and status hold until commit.

    With ``field`` an invisible programme is 422 naming that body field; without, it is
    looked up for a project already visible (so it exists).
    """
    stmt = (
        scope.visible_programmes(actor)
        .where(Programme.id == programme_id)
        .with_for_update(read=True, of=Programme)
        .execution_options(populate_existing=True)
    )
    programme: Programme | None = None
    if in_id_range(programme_id):
        programme = (await session.execute(stmt)).scalar_one_or_none()
    if programme is None:
        name = field or "programme_id"
        raise Invalid(("body", name), f"{name} {programme_id} does not exist")
    return programme


def _check_period(starts_on: date, ends_on: date, programme: Programme) -> None:
    """Both dates inside the programme's period, ends_on not before starts_on; else 422."""
    errors: list[tuple[str, str]] = []
    if ends_on < starts_on:
        errors.append(("ends_on", "must not be before starts_on"))
    period = f"{programme.starts_on.isoformat()}..{programme.ends_on.isoformat()}"
    if not programme.starts_on <= starts_on <= programme.ends_on:
        errors.append(("starts_on", f"must lie inside the programme's period {period}"))
    if not programme.starts_on <= ends_on <= programme.ends_on:
        errors.append(("ends_on", f"must lie inside the programme's period {period}"))
    _raise(errors)


def _raise(errors: list[tuple[str, str]]) -> None:
    if errors:
        raise invalid_fields(errors)


async def _check_milestones_fit(
    session: AsyncSession, project_id: int, starts_on: date, ends_on: date
) -> None:
    """Shrinking the period so that a milestone's due_on falls outside it is 422."""
    row = (
        await session.execute(
            select(
                select(Milestone.id)
                .where(Milestone.project_id == project_id, Milestone.due_on < starts_on)
                .exists()
                .label("early"),
                select(Milestone.id)
                .where(Milestone.project_id == project_id, Milestone.due_on > ends_on)
                .exists()
                .label("late"),
            )
        )
    ).one()
    errors: list[tuple[str, str]] = []
    if row.early:
        errors.append(("starts_on", "a milestone of this project is due before this date"))
    if row.late:
        errors.append(("ends_on", "a milestone of this project is due after this date"))
    _raise(errors)


async def _check_pillar(session: AsyncSession, pillar_id: int) -> None:
    await check_exists(
        session, select(Pillar.id).where(Pillar.id == pillar_id), "pillar_id", pillar_id
    )


# --- writes -----------------------------------------------------------------------------------


async def create_project(session: AsyncSession, actor: Actor, data: ProjectCreate) -> ProjectRead:
    workflow.forbid_viewer(actor, "projects")
    programme = await _lock_programme(session, actor, data.programme_id, field="programme_id")
    workflow.check_may_change_inside(actor, programme, "projects")
    await _check_pillar(session, data.pillar_id)
    _check_period(data.starts_on, data.ends_on, programme)
    i18n.check_new(data.lang, data.translations)
    project = await insert_audited(session, actor, Project(**data.model_dump()))
    return await get_project(session, actor, project.id)


async def update_project(
    session: AsyncSession,
    actor: Actor,
    project_id: int,
    patch: ProjectPatch,
    *,
    if_match: str | None,
) -> ProjectRead:
    workflow.forbid_viewer(actor, "projects")
    project = await _lock_project(session, actor, project_id)
    check_if_match(if_match, project.version)
    values = patch_values(patch, nullable=NULLABLE)
    i18n.merge(project, values)
    programme = await _lock_programme(session, actor, project.programme_id, field=None)
    workflow.check_may_change_inside(actor, programme, "projects")
    target = programme
    new_programme_id = values.get("programme_id", project.programme_id)
    if new_programme_id != project.programme_id:
        target = await _lock_programme(session, actor, new_programme_id, field="programme_id")
        workflow.check_may_change_inside(actor, target, "projects")
    if "pillar_id" in values and values["pillar_id"] != project.pillar_id:
        await _check_pillar(session, values["pillar_id"])
    starts_on: date = values.get("starts_on", project.starts_on)
    ends_on: date = values.get("ends_on", project.ends_on)
    if target is not programme or starts_on != project.starts_on or ends_on != project.ends_on:
        _check_period(starts_on, ends_on, target)
    if starts_on > project.starts_on or ends_on < project.ends_on:
        await _check_milestones_fit(session, project.id, starts_on, ends_on)
    await update_audited(session, actor, project, values)
    return await get_project(session, actor, project.id)


async def delete_project(
    session: AsyncSession, actor: Actor, project_id: int, *, if_match: str | None
) -> None:
    """409 while the project has milestones (the foreign key is ON DELETE RESTRICT)."""
    workflow.forbid_viewer(actor, "projects")
    project = await _lock_project(session, actor, project_id, for_delete=True)
    check_if_match(if_match, project.version)
    programme = await _lock_programme(session, actor, project.programme_id, field=None)
    workflow.check_may_change_inside(actor, programme, "projects")
    await delete_audited(session, actor, project)
