"""Milestones: scoped reads with ``overdue`` computed in the same statement, and writes."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, bindparam, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.audit import service as audit
from ipcp_api.auth.actor import Actor
from ipcp_api.common import i18n, metrics
from ipcp_api.common.crud import apply, delete_row, one_or_404, patch_values, plain_values
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
from ipcp_api.enums import MilestoneState, ProgrammeStatus, Role
from ipcp_api.errors import Forbidden, Invalid, NotFound
from ipcp_api.milestones.schemas import MilestoneCreate, MilestonePatch, MilestoneRead
from ipcp_api.models import Milestone, Programme, Project

SORT_FIELDS = {
    "due_on": SortField(Milestone.due_on, Milestone.id, is_date=True),
    "title": SortField(Milestone.title, Milestone.id),
    "weight": SortField(Milestone.weight, Milestone.id),
}
NULLABLE = ("completed_on", "translations")
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


def is_overdue(as_of: Any) -> ColumnElement[bool]:
    """``overdue`` by the report definition (needs ``projects`` joined, as ``readable`` does)."""
    return metrics.overdue(metrics.from_models(Milestone, Project), as_of)


# --- reads ------------------------------------------------------------------------------------
# The hot path, as in projects: Core selects of the response's columns built once per shape
# (scope, filters, sort, cursor) with bind parameters for every value; rows come back as
# JSON-ready dicts in ``MilestoneRead``'s field order, written once by the router.

_COLUMNS = tuple(getattr(Milestone, name) for name in _FIELDS)
FILTERS = (
    "project_id",
    "programme_id",
    "state",
    "overdue",
    "not_overdue",
    "due_before",
    "due_after",
)


def _readable_rows(scoped: bool) -> Select[Any]:
    """The response's columns of the milestones the caller may see (``:scope``: its partner),
    with ``overdue`` as of ``:as_of``."""
    stmt = (
        select(*_COLUMNS, is_overdue(AS_OF).label("overdue"))
        .join(Project, Project.id == Milestone.project_id)
        .join(Programme, Programme.id == Project.programme_id)
    )
    if scoped:
        stmt = stmt.where(Programme.partner_id == bindparam("scope"))
    return stmt


def _filter(name: str) -> ColumnElement[bool]:
    if name == "project_id":
        return Milestone.project_id == bindparam("project_id")
    if name == "programme_id":
        return Project.programme_id == bindparam("programme_id")
    if name == "state":
        return Milestone.state == bindparam("state")
    if name == "overdue":
        return is_overdue(AS_OF)
    if name == "not_overdue":
        return not_(is_overdue(AS_OF))
    if name == "due_before":
        return Milestone.due_on < bindparam("due_before", type_=Date)
    return Milestone.due_on > bindparam("due_after", type_=Date)


@functools.lru_cache(maxsize=256)
def _list_statements(
    scoped: bool, filters: tuple[str, ...], sort: str, cursor: CursorShape
) -> Select[Any]:
    """The page and its total (``page_with_total``) for one shape of the list; every value
    is a bind parameter."""
    base = _readable_rows(scoped)
    if filters:
        base = base.where(*(_filter(name) for name in filters))
    order = parse_sort(sort, SORT_FIELDS, "due_on")
    page = keyset_page(base, order, cursor)
    return page_with_total(page, count_statement(base.with_only_columns(Milestone.id)), order)


@functools.lru_cache(maxsize=2)
def _one_statement(scoped: bool) -> Select[Any]:
    return _readable_rows(scoped).where(Milestone.id == bindparam("id"))


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
) -> dict[str, Any]:
    """A page of ``MilestoneRead`` as JSON-ready data (``Page``'s shape), in 1 statement."""
    order = parse_sort(sort, SORT_FIELDS, "due_on")
    shape, values = cursor_values(order, params)
    values.update(read_values(actor))
    given: dict[str, Any] = {
        "project_id": project_id,
        "programme_id": programme_id,
        "state": state.value if state is not None else None,
        "overdue": True if overdue is True else None,
        "not_overdue": True if overdue is False else None,
        "due_before": due_before,
        "due_after": due_after,
    }
    filters = tuple(name for name in FILTERS if given[name] is not None)
    values.update((name, given[name]) for name in filters if name not in ("overdue", "not_overdue"))
    stmt = _list_statements(actor.partner_scope is not None, filters, order.token, shape)
    return await fetch_page_rows(session, stmt, order, params, values)


async def read_milestone(session: AsyncSession, actor: Actor, milestone_id: int) -> dict[str, Any]:
    """One milestone with ``overdue`` as JSON-ready data, in one statement; 404 when not
    visible."""
    rows: list[dict[str, Any]] = []
    if in_id_range(milestone_id):
        stmt = _one_statement(actor.partner_scope is not None)
        rows = await rows_as_dicts(session, stmt, {**read_values(actor), "id": milestone_id})
    if not rows:
        raise NotFound(f"milestone {milestone_id} does not exist")
    return rows[0]


async def get_milestone(session: AsyncSession, actor: Actor, milestone_id: int) -> MilestoneRead:
    """``read_milestone`` as a ``MilestoneRead`` (what the writes answer with)."""
    return MilestoneRead.model_validate(await read_milestone(session, actor, milestone_id))


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


# --- writes -----------------------------------------------------------------------------------


async def create_milestone(
    session: AsyncSession, actor: Actor, data: MilestoneCreate
) -> MilestoneRead:
    forbid_viewer(actor)
    project, programme = await _lock_project(session, actor, data.project_id)
    _may_write(actor, programme)
    i18n.check_new(data.lang, data.translations)
    values = plain_values(data.model_dump())
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
    values = plain_values(patch_values(patch, nullable=NULLABLE))
    i18n.merge(milestone, values)
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
