"""Projects: scoped reads with their progress computed in the same statement, and writes."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, bindparam, cast, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ipcp_api.audit import service as audit
from ipcp_api.auth.actor import Actor
from ipcp_api.common import i18n, metrics
from ipcp_api.common.crud import (
    apply,
    check_exists,
    delete_row,
    escape_like,
    one_or_404,
    patch_values,
    plain_values,
)
from ipcp_api.common.http import check_if_match, in_id_range
from ipcp_api.common.metrics import AS_OF, read_values
from ipcp_api.common.pagination import (
    CursorShape,
    ListParams,
    SortField,
    count_statement,
    cursor_values,
    fetch_page_rows,
    keyset_page,
    page_with_total,
    parse_sort,
    rows_as_dicts,
)
from ipcp_api.enums import ProgrammeStatus, ProjectStatus, Role
from ipcp_api.errors import Forbidden, Invalid, NotFound
from ipcp_api.models import Milestone, Pillar, Programme, Project
from ipcp_api.projects.schemas import ProjectCreate, ProjectPatch, ProjectRead

SORT_FIELDS = {
    "code": SortField(Project.code, Project.id),
    "title": SortField(Project.title, Project.id),
    "starts_on": SortField(Project.starts_on, Project.id, is_date=True),
    "ends_on": SortField(Project.ends_on, Project.id, is_date=True),
    "status": SortField(Project.status, Project.id),
}
NULLABLE = ("description", "lead", "translations")
CLOSED_PROGRAMME = (ProgrammeStatus.completed.value, ProgrammeStatus.cancelled.value)
METRICS = ("progress", "expected_progress", "schedule")
_FIELDS = tuple(name for name in ProjectRead.model_fields if name not in METRICS)


# --- scoping ----------------------------------------------------------------------------------


def readable_programmes(actor: Actor) -> Select[Any]:
    """Programmes the caller may see (a liaison or bound viewer: its partner's only)."""
    stmt = select(Programme)
    if actor.partner_scope is not None:
        stmt = stmt.where(Programme.partner_id == actor.partner_scope)
    return stmt


def readable(actor: Actor) -> Select[Any]:
    """Projects the caller may see: scoped through programme -> partner."""
    stmt = select(Project).join(Programme, Programme.id == Project.programme_id)
    if actor.partner_scope is not None:
        stmt = stmt.where(Programme.partner_id == actor.partner_scope)
    return stmt


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
# The read path is the hot path. Its statements are Core selects of the response's columns,
# built once per shape (scope, the filters present, sort, cursor) with a bind parameter for
# every value: per request SQLAlchemy builds nothing and finds the compiled SQL in its cache,
# and no ORM object is made. Rows come back as JSON-ready dicts, in ``ProjectRead``'s field
# order, that the router writes once with orjson; ``ProjectRead`` still documents them.

_COLUMNS = tuple(getattr(Project, name) for name in _FIELDS)
FILTERS = ("q", "programme_id", "pillar_id", "partner_id", "status", "area")


def _readable_rows(scoped: bool, *, via_programme: bool = False) -> Select[Any]:
    """The response's columns of the projects the caller may see (``:scope``: its partner)."""
    stmt = select(*_COLUMNS)
    if scoped or via_programme:
        stmt = stmt.join(Programme, Programme.id == Project.programme_id)
    if scoped:
        stmt = stmt.where(Programme.partner_id == bindparam("scope"))
    return stmt


def _filter(name: str) -> ColumnElement[bool]:
    if name == "q":
        pattern: Any = bindparam("q_pattern")
        columns = (Project.code, Project.title, Project.description, Project.lead)
        return or_(*(column.ilike(pattern, escape="\\") for column in columns))
    if name == "partner_id":
        return Programme.partner_id == bindparam("partner_id")
    if name == "area":
        return Project.areas.contains(bindparam("area", type_=Project.areas.type))
    column: ColumnElement[Any] = getattr(Project, name)
    return column == bindparam(name)


@functools.lru_cache(maxsize=256)
def _list_statements(
    scoped: bool, filters: tuple[str, ...], sort: str, cursor: CursorShape
) -> Select[Any]:
    """The page and its total (``page_with_total``) for one shape of the list; every value
    is a bind parameter."""
    base = _readable_rows(scoped, via_programme="partner_id" in filters)
    if filters:
        base = base.where(*(_filter(name) for name in filters))
    order = parse_sort(sort, SORT_FIELDS, "code")
    page = keyset_page(with_metrics(base, AS_OF), order, cursor)
    return page_with_total(page, count_statement(base.with_only_columns(Project.id)), order)


@functools.lru_cache(maxsize=2)
def _one_statement(scoped: bool) -> Select[Any]:
    return with_metrics(_readable_rows(scoped), AS_OF).where(Project.id == bindparam("id"))


async def list_projects(
    session: AsyncSession,
    actor: Actor,
    *,
    q: str | None,
    programme_id: int | None,
    pillar_id: int | None,
    partner_id: int | None,
    status: ProjectStatus | None,
    area: str | None,
    sort: str | None,
    params: ListParams,
) -> dict[str, Any]:
    """A page of ``ProjectRead`` as JSON-ready data (``Page``'s shape), in 1 statement."""
    order = parse_sort(sort, SORT_FIELDS, "code")
    shape, values = cursor_values(order, params)
    values.update(read_values(actor))
    given = {
        "q_pattern": f"%{escape_like(q)}%" if q else None,
        "programme_id": programme_id,
        "pillar_id": pillar_id,
        "partner_id": partner_id,
        "status": status.value if status is not None else None,
        "area": [area] if area is not None else None,
    }
    filters = tuple(
        name for name, value in zip(FILTERS, given.values(), strict=True) if value is not None
    )
    values.update((name, value) for name, value in given.items() if value is not None)
    stmt = _list_statements(actor.partner_scope is not None, filters, order.token, shape)
    return await fetch_page_rows(session, stmt, order, params, values)


async def read_project(session: AsyncSession, actor: Actor, project_id: int) -> dict[str, Any]:
    """One project with its computed fields as JSON-ready data, in one statement; 404 when
    not visible."""
    rows: list[dict[str, Any]] = []
    if in_id_range(project_id):
        stmt = _one_statement(actor.partner_scope is not None)
        rows = await rows_as_dicts(session, stmt, {**read_values(actor), "id": project_id})
    if not rows:
        raise NotFound(f"project {project_id} does not exist")
    return rows[0]


async def get_project(session: AsyncSession, actor: Actor, project_id: int) -> ProjectRead:
    """``read_project`` as a ``ProjectRead`` (what the writes answer with)."""
    return ProjectRead.model_validate(await read_project(session, actor, project_id))


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
        readable_programmes(actor)
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


def _may_write(actor: Actor, programme: Programme) -> None:
    """A liaison may not change projects of a completed or cancelled programme (403)."""
    if actor.role is Role.liaison and programme.status in CLOSED_PROGRAMME:
        raise Forbidden(
            f"programme {programme.code} is {programme.status}: "
            "a liaison may no longer change its projects"
        )


def forbid_viewer(actor: Actor) -> None:
    """Viewers are read-only: 403 before anything is looked up."""
    if actor.role is Role.viewer:
        raise Forbidden("a viewer may not change projects")


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
    if not errors:
        return
    field, msg = errors[0]
    error = Invalid(("body", field), msg)
    for field, msg in errors[1:]:
        assert error.errors is not None
        error.errors.append({"loc": ["body", field], "msg": msg})
    error.detail = "; ".join(f"body.{field}: {msg}" for field, msg in errors)
    raise error


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
    forbid_viewer(actor)
    programme = await _lock_programme(session, actor, data.programme_id, field="programme_id")
    _may_write(actor, programme)
    await _check_pillar(session, data.pillar_id)
    _check_period(data.starts_on, data.ends_on, programme)
    i18n.check_new(data.lang, data.translations)
    project = Project(**plain_values(data.model_dump()))
    session.add(project)
    await session.flush()
    audit.created(session, actor, project)
    return await get_project(session, actor, project.id)


async def update_project(
    session: AsyncSession,
    actor: Actor,
    project_id: int,
    patch: ProjectPatch,
    *,
    if_match: str | None,
) -> ProjectRead:
    forbid_viewer(actor)
    project = await _lock_project(session, actor, project_id)
    check_if_match(if_match, project.version)
    values = plain_values(patch_values(patch, nullable=NULLABLE))
    i18n.merge(project, values)
    programme = await _lock_programme(session, actor, project.programme_id, field=None)
    _may_write(actor, programme)
    target = programme
    new_programme_id = values.get("programme_id", project.programme_id)
    if new_programme_id != project.programme_id:
        target = await _lock_programme(session, actor, new_programme_id, field="programme_id")
        _may_write(actor, target)
    if "pillar_id" in values and values["pillar_id"] != project.pillar_id:
        await _check_pillar(session, values["pillar_id"])
    starts_on: date = values.get("starts_on", project.starts_on)
    ends_on: date = values.get("ends_on", project.ends_on)
    if target is not programme or starts_on != project.starts_on or ends_on != project.ends_on:
        _check_period(starts_on, ends_on, target)
    if starts_on > project.starts_on or ends_on < project.ends_on:
        await _check_milestones_fit(session, project.id, starts_on, ends_on)
    before = audit.snapshot(project)
    apply(project, values)
    await session.flush()
    audit.updated(session, actor, project, before)
    return await get_project(session, actor, project.id)


async def delete_project(
    session: AsyncSession, actor: Actor, project_id: int, *, if_match: str | None
) -> None:
    """409 while the project has milestones (the foreign key is ON DELETE RESTRICT)."""
    forbid_viewer(actor)
    project = await _lock_project(session, actor, project_id, for_delete=True)
    check_if_match(if_match, project.version)
    programme = await _lock_programme(session, actor, project.programme_id, field=None)
    _may_write(actor, programme)
    before = audit.snapshot(project)
    await delete_row(session, project)
    audit.deleted(session, actor, project, before)
