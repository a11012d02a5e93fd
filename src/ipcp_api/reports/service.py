"""Progress reports, computed in PostgreSQL in a fixed number of statements.

Every report works in two stages inside one statement:

1. The milestones are aggregated into additive partials (``metrics.partial_columns``:
   weights, counts, the worst overdue days): per project for the programme report
   (``_project_partials``, which also gives ``next_due_on``), per (programme, pillar) for
   the partner report and the portfolio (``_cells``).
2. ``GROUPING SETS`` over those rows (``metrics.rollup_columns``) give, in the same
   statement, the rows of the report (projects / programmes / partners), every pillar and the
   summary. Pillars come from the ``pillars`` table joined *outward*, so a pillar with no
   project still gets its row (zeros, nulls, ``not_planned``); likewise a programme with no
   project in the partner report and the portfolio.

The milestone lists of a programme (overdue, upcoming) are one more statement, and the header
(the programme or partner, scoped to the caller, 404 otherwise) one before them. So a
programme report is 3 statements, a partner report 2 and the portfolio 1, whatever the size.

Every statement is built once per shape (``functools.cache``) with bind parameters for the
ids, the caller's scope and ``as_of``; a request only supplies the values (``*_values``), so
SQLAlchemy neither builds these large statements nor computes their cache keys each time.

The reports are returned as plain JSON-ready dicts (shaped exactly like ``schemas``, which
document them and which the tests validate every response against): a programme of 100,000
milestones has thousands of rows, and building pydantic objects for them cost more than the
SQL. Fractions arrive from PostgreSQL already rounded, as float8.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    CTE,
    BigInteger,
    ColumnElement,
    Date,
    Float,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    join,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    true,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Executable

from ipcp_api.auth import scope
from ipcp_api.auth.actor import Actor
from ipcp_api.common import i18n, listing, metrics
from ipcp_api.common.http import in_id_range
from ipcp_api.common.pagination import rows_as_dicts
from ipcp_api.enums import ActionStatus, ProgrammeStatus, ReviewStatus
from ipcp_api.errors import NotFound
from ipcp_api.models import (
    ActionItem,
    Committee,
    FrameworkMembership,
    Milestone,
    Partner,
    Pillar,
    Programme,
    Project,
    Review,
)
from ipcp_api.partners import service as partners
from ipcp_api.programmes import service as programmes
from ipcp_api.reports import baseline as against
from ipcp_api.reviews.service import format_label as review_format_label

UPCOMING_DAYS = 30
Report = dict[str, Any]
"""A report as JSON-ready data, shaped as ``schemas.ProgrammeReport`` (and the others)."""
FIGURES = (
    "milestones",
    "milestones_done",
    "milestones_overdue",
    "progress",
    "expected_progress",
    "variance",
    "schedule",
)
SUMMARY_FIELDS = ("projects", *FIGURES)
"""The summary fields, in the order API.md lists them (also the CSV column order)."""

_FRACTIONS = ("progress", "expected_progress", "variance")
_EMPTY_GROUPING_SET = text("()")
_NOT_IN_PROJECT_ROWS = ("level", "pillar_code", "pillar_name", "pillar_position")
_EPOCH = date(2000, 1, 1)


def _text(entity: Any, field: str) -> ColumnElement[str]:
    """A name or title in the report's language ``:lang``, else its own text."""
    return i18n.localized(entity, field, bindparam("lang", type_=String))


# --- building blocks -------------------------------------------------------------------------


def _as_of() -> ColumnElement[date]:
    """``as_of`` in SQL, as ``DATE '2000-01-01' + :as_of_days`` (see ``report_values``).

    Why not a date parameter: asyncpg sends 9999-12-31 and 0001-01-01 (``date.max`` and
    ``date.min``) as +/-infinity, which date arithmetic refuses; and a text parameter cast
    to date is only *stable*, so PostgreSQL would evaluate the cast again for every row (it
    made the portfolio twice as slow). Date + integer is immutable: folded to a constant.
    """
    days = bindparam("as_of_days", type_=Integer)
    return (literal_column(f"DATE '{_EPOCH.isoformat()}'", Date) + days).self_group()


def _project_partials(as_of: ColumnElement[date]) -> CTE:
    """One row per project of the programme ``:programme_id``.

    Each project's milestones are aggregated in a LATERAL subquery, which PostgreSQL runs as
    one range scan of ``milestones (project_id, due_on, id)`` per project: the cost follows
    the size of the programme, not of the database (a plain join would let the planner scan
    every milestone of every programme once the programme is big).
    """
    c = metrics.from_models(Milestone, Project)
    aggregates = {
        **metrics.partial_columns(c, as_of),
        "next_due_on": metrics.next_due_on(c, as_of),
    }
    per_project = (
        select(*(column.label(name) for name, column in aggregates.items()))
        .where(Milestone.project_id == Project.id)
        .correlate(Project)
        .lateral("milestone_partials")
    )
    return (
        select(
            Project.id,
            Project.pillar_id,
            Project.code,
            _text(Project, "title").label("title"),
            Project.status,
            *per_project.c,
        )
        .join(per_project, true())
        .where(Project.programme_id == bindparam("programme_id"))
        .cte("project_partials")
    )


def _cells(as_of: ColumnElement[date], projects_of: Select[Any]) -> CTE:
    """One row per (programme, pillar) that has projects: their count and partial aggregates.

    For the partner and portfolio reports, which need no per-project rows: grouping the
    milestones straight into these few cells is much cheaper than one group per project
    when a report spans many programmes. Projects are counted apart, so a project with no
    milestone still counts.
    """
    c = metrics.from_models(Milestone, Project)
    in_report = Project.programme_id.in_(projects_of)
    weights = (
        select(
            Project.programme_id,
            Project.pillar_id,
            *(column.label(name) for name, column in metrics.partial_columns(c, as_of).items()),
        )
        .join(Milestone, Milestone.project_id == Project.id)
        .where(in_report)
        .group_by(Project.programme_id, Project.pillar_id)
        .subquery("cell_milestones")
    )
    counts = (
        select(Project.programme_id, Project.pillar_id, func.count().label("projects"))
        .where(in_report)
        .group_by(Project.programme_id, Project.pillar_id)
        .subquery("cell_projects")
    )
    return (
        select(
            counts.c.programme_id,
            counts.c.pillar_id,
            counts.c.projects,
            *(weights.c[name] for name in metrics.PARTIALS),
        )
        .outerjoin(
            weights,
            and_(
                weights.c.programme_id == counts.c.programme_id,
                weights.c.pillar_id == counts.c.pillar_id,
            ),
        )
        .cte("cells")
    )


def _figures(source: CTE, projects: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    """``projects`` and the summary figures of the rows of ``source`` in each group."""
    figures = metrics.rollup_columns(source)
    for name in _FRACTIONS:
        figures[name] = cast(figures[name], Float)
    return [
        projects.label("projects"),
        *(figures[name].label(name) for name in FIGURES),
    ]


def _summary(row: Any) -> dict[str, Any]:
    return {
        "projects": row["projects"],
        "milestones": row["milestones"],
        "milestones_done": row["milestones_done"],
        "milestones_overdue": row["milestones_overdue"],
        "progress": row["progress"],
        "expected_progress": row["expected_progress"],
        "variance": row["variance"],
        "schedule": row["schedule"],
    }


def _pillar_row(row: Any) -> dict[str, Any]:
    return {
        "pillar": {"id": row["pillar_id"], "code": row["pillar_code"], "name": row["pillar_name"]},
        **_summary(row),
    }


_PILLAR_COLUMNS = (
    Pillar.id.label("pillar_id"),
    Pillar.code.label("pillar_code"),
    _text(Pillar, "name").label("pillar_name"),
    Pillar.position.label("pillar_position"),
)


def _pillar_set() -> Any:
    # ``translations`` is grouped too, so the name in ``:lang`` may be selected
    return tuple_(Pillar.id, Pillar.code, Pillar.name, Pillar.translations, Pillar.position)


def _split(rows: Iterable[Any], levels: Sequence[int]) -> list[list[Any]]:
    """Rows by their ``level`` (the GROUPING() bitmask), in the order of ``levels``."""
    out: dict[int, list[Any]] = {level: [] for level in levels}
    for row in rows:
        out[row["level"]].append(row)
    return [out[level] for level in levels]


def _in_scope(scoped: bool, partner_id: Any) -> ColumnElement[bool]:
    """The caller's partner only (``:scope``), or every row."""
    return scope.bound(partner_id) if scoped else true()


def report_values(actor: Actor, as_of: date, lang: str | None = None, **ids: Any) -> dict[str, Any]:
    """The values of the bind parameters: the ids, ``as_of``, the language of names and
    titles (default: the default language) and the caller's scope."""
    return {
        "as_of_days": (as_of - _EPOCH).days,
        "lang": lang or i18n.default_language(),
        **ids,
        **scope.values(actor),
    }


# --- programme report --------------------------------------------------------------------------


@functools.cache
def programme_statements(scoped: bool) -> tuple[Executable, Executable, Executable]:
    """The programme report's statements: header, figures, milestone lists. Values:
    ``report_values(actor, as_of, programme_id=...)``."""
    return (
        _programme_header_statement(scoped),
        _programme_figures_statement(),
        _programme_lists_statement(),
    )


def _programme_header_statement(scoped: bool) -> Executable:
    """The programme and its partner, scoped to the caller (no row: 404)."""
    return (
        listing.visible(programmes.LISTING, scoped)
        .add_columns(
            Programme.id,
            Programme.code,
            _text(Programme, "title").label("title"),
            Programme.status,
            Programme.starts_on,
            Programme.ends_on,
            Partner.id.label("partner_id"),
            Partner.code.label("partner_code"),
            _text(Partner, "name").label("partner_name"),
        )
        .join(Partner, Partner.id == Programme.partner_id)
        .where(Programme.id == bindparam("programme_id"))
    )


def _programme_figures_statement() -> Executable:
    """The project rows, the pillar rows and the summary, told apart by ``level``."""
    pp = _project_partials(_as_of())
    # The project's pillar is the pillar of its group (``pillar_id`` below).
    project_set = (pp.c.id, pp.c.code, pp.c.title, pp.c.status, pp.c.next_due_on)
    # GROUPING(pillar, project): 0 = a project, 1 = a pillar, 3 = the whole programme.
    level = func.grouping(Pillar.id, pp.c.id)
    # The columns of a project row in the order of the response; the rest is removed below.
    return (
        select(
            level.label("level"),
            Pillar.code.label("pillar_code"),
            _text(Pillar, "name").label("pillar_name"),
            Pillar.position.label("pillar_position"),
            pp.c.id,
            pp.c.code,
            pp.c.title,
            Pillar.id.label("pillar_id"),
            pp.c.status,
            *_figures(pp, func.count(pp.c.id)),
            pp.c.next_due_on,
        )
        .select_from(Pillar)
        .outerjoin(pp, pp.c.pillar_id == Pillar.id)
        .group_by(
            func.grouping_sets(
                tuple_(
                    Pillar.id,
                    Pillar.code,
                    Pillar.name,
                    Pillar.translations,
                    Pillar.position,
                    *project_set,
                ),
                _pillar_set(),
                _EMPTY_GROUPING_SET,
            )
        )
        # A pillar with no project yields a "project" group with no project: drop it.
        .having(or_(level != 0, pp.c.id.is_not(None)))
        .order_by(level, Pillar.position, Pillar.id, pp.c.code, pp.c.id)
    )


def _programme_lists_statement() -> Executable:
    """The overdue and the upcoming milestones, in one list ordered by due date."""
    at = _as_of()
    c = metrics.from_models(Milestone, Project)
    until = at + UPCOMING_DAYS
    still_open = and_(metrics.counted(c), not_(func.coalesce(metrics.done_by(c, at), False)))
    return (
        select(
            Milestone.id.label("milestone_id"),
            Milestone.project_id,
            _text(Milestone, "title").label("title"),
            Milestone.due_on,
            (at - Milestone.due_on).label("days_overdue"),
        )
        .join(Project, Project.id == Milestone.project_id)
        .where(
            Project.programme_id == bindparam("programme_id"),
            or_(
                metrics.overdue(c, at),
                and_(still_open, Milestone.due_on > at, Milestone.due_on <= until),
            ),
        )
        .order_by(Milestone.due_on, Milestone.id)
    )


@functools.cache
def programme_follow_up_statement() -> Executable:
    """The ``reviews`` and ``actions`` blocks, in one statement (values as the others).

    A one-row base joined LATERALLY to the last review, the next review and every action item
    open as of ``as_of``: one row per open item (at least one row); the review columns and the
    count of milestones done since the last review repeat on each.
    """
    at = _as_of()
    programme_id: Any = bindparam("programme_id")

    def review(name: str, *conditions: Callable[[Any], Any], latest: bool) -> Any:
        r = aliased(Review, name=f"{name}_review")
        c = aliased(Committee, name=f"{name}_committee")
        order = (r.held_on.desc(), r.id.desc()) if latest else (r.held_on, r.id)
        return (
            select(
                r.id.label("id"),
                r.held_on.label("held_on"),
                c.id.label("committee_id"),
                c.code.label("committee_code"),
                _text(c, "name").label("committee_name"),
                r.format.label("format"),
                review_format_label(r).label("format_label"),
                r.status.label("status"),
            )
            .join(c, c.id == r.committee_id)
            .where(r.programme_id == programme_id, *(cond(r) for cond in conditions))
            .order_by(*order)
            .limit(1)
            .lateral(name)
        )

    last = review(
        "last",
        lambda r: or_(r.status == ReviewStatus.held.value, r.status == ReviewStatus.closed.value),
        lambda r: r.held_on <= at,
        latest=True,
    )
    upcoming = review(
        "next",
        lambda r: r.status != ReviewStatus.cancelled.value,
        lambda r: r.held_on > at,
        latest=False,
    )
    c = metrics.from_models(Milestone, Project)
    done_since = (
        select(func.count())
        .select_from(Milestone)
        .join(Project, Project.id == Milestone.project_id)
        .where(
            Project.programme_id == programme_id,
            metrics.counted(c),
            metrics.done_by(c, at),
            Milestone.completed_on > last.c.held_on,
        )
        .scalar_subquery()
    )
    item = ActionItem
    open_as_of = or_(
        item.status == ActionStatus.open.value,
        and_(item.status == ActionStatus.done.value, item.completed_on > at),
    )
    items = (
        select(
            item.id.label("id"),
            item.review_id.label("review_id"),
            _text(item, "title").label("title"),
            item.owner.label("owner"),
            item.owner_side.label("owner_side"),
            item.due_on.label("due_on"),
            case((item.due_on < at, at - item.due_on), else_=None).label("days_overdue"),
        )
        .join(Review, Review.id == item.review_id)
        .where(
            Review.programme_id == programme_id,
            Review.held_on <= at,
            item.status != ActionStatus.dropped.value,
            open_as_of,
        )
        .lateral("item")
    )
    one = select(literal(1).label("one")).subquery("one")
    return (
        select(
            *(column.label(f"last_{column.key}") for column in last.c),
            *(column.label(f"next_{column.key}") for column in upcoming.c),
            case((last.c.id.is_(None), None), else_=done_since).label("done_since_last"),
            *(column.label(f"item_{column.key}") for column in items.c),
        )
        .select_from(one)
        .outerjoin(last, true())
        .outerjoin(upcoming, true())
        .outerjoin(items, true())
        .order_by(items.c.due_on, items.c.id)
    )


def _review_ref(row: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    if row[f"{prefix}_id"] is None:
        return None
    return {
        "id": row[f"{prefix}_id"],
        "held_on": row[f"{prefix}_held_on"],
        "committee": {
            "id": row[f"{prefix}_committee_id"],
            "code": row[f"{prefix}_committee_code"],
            "name": row[f"{prefix}_committee_name"],
        },
        "format": row[f"{prefix}_format"],
        "format_label": row[f"{prefix}_format_label"],
        "status": row[f"{prefix}_status"],
    }


_ITEM_FIELDS = ("id", "review_id", "title", "owner", "owner_side", "due_on", "days_overdue")


def shape_follow_up(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``reviews`` and ``actions`` blocks from ``programme_follow_up_statement``'s rows."""
    first = rows[0] if rows else None
    items = [
        {name: row[f"item_{name}"] for name in _ITEM_FIELDS}
        for row in rows
        if row["item_id"] is not None
    ]
    return {
        "reviews": {
            "last": _review_ref(first, "last") if first else None,
            "next": _review_ref(first, "next") if first else None,
            "milestones_done_since_last": first["done_since_last"] if first else None,
        },
        "actions": {
            "open": len(items),
            "overdue": sum(1 for item in items if item["days_overdue"] is not None),
            "items": items,
        },
    }


def shape_programme_report(
    as_of: date,
    header: dict[str, Any],
    rows: list[dict[str, Any]],
    listed: list[dict[str, Any]],
    follow_up: list[dict[str, Any]] | None = None,
) -> Report:
    """The report from the rows of the four statements above (the dicts are reused)."""
    project_rows, pillar_rows, total = _split(rows, (0, 1, 3))
    for row in project_rows:
        for name in _NOT_IN_PROJECT_ROWS:
            del row[name]
    # Both lists are ordered by due date (then id); overdue ones are due before as_of.
    overdue = [row for row in listed if row["due_on"] < as_of]
    upcoming = listed[len(overdue) :]
    for row in upcoming:
        del row["days_overdue"]
    return {
        "as_of": as_of,
        "programme": {
            "id": header["id"],
            "code": header["code"],
            "title": header["title"],
            "status": header["status"],
            "starts_on": header["starts_on"],
            "ends_on": header["ends_on"],
            "partner": {
                "id": header["partner_id"],
                "code": header["partner_code"],
                "name": header["partner_name"],
            },
        },
        "summary": _summary(total[0]),
        "pillars": [_pillar_row(row) for row in pillar_rows],
        "projects": project_rows,
        "overdue": overdue,
        "upcoming": upcoming,
        **shape_follow_up(follow_up or []),
    }


async def programme_report(
    session: AsyncSession,
    actor: Actor,
    programme_id: int,
    *,
    as_of: date,
    lang: str | None = None,
    baseline: str | None = None,
) -> Report:
    if not in_id_range(programme_id):
        raise NotFound(f"programme {programme_id} does not exist")
    header, figures, lists = programme_statements(scope.is_scoped(actor))
    values = report_values(actor, as_of, lang, programme_id=programme_id)
    against_rows: list[dict[str, Any]] | None = None
    if baseline is not None:
        values["baseline_id"] = against.parse(baseline)
    headers = await rows_as_dicts(session, header, values)
    if not headers:
        raise NotFound(f"programme {programme_id} does not exist")
    if baseline is not None:
        against_rows = await _against_baseline(session, values)
        lists = baseline_statements()[1]
    rows = await rows_as_dicts(session, figures, values)
    listed = await rows_as_dicts(session, lists, values)
    follow_up = await rows_as_dicts(session, programme_follow_up_statement(), values)
    report = shape_programme_report(as_of, headers[0], rows, listed, follow_up)
    if against_rows is not None:
        _add_baseline(report, against_rows)
    return report


# --- against a baseline (issue 17; the SQL is in ``reports/baseline.py``) ---------------------


@functools.cache
def baseline_statements() -> tuple[Executable, Executable]:
    """The baseline's figures, and the milestone lists with each item's baseline due date.
    Values: those of the programme report, plus ``baseline_id`` (null: the approval one)."""
    return (
        against.figures_statement(_as_of()),
        against.lists_statement(_programme_lists_statement()),
    )


async def _against_baseline(session: AsyncSession, values: dict[str, Any]) -> list[dict[str, Any]]:
    """The baseline's figures (422 when the programme has no such baseline); ``values`` then
    names the chosen baseline by id, for the lists."""
    rows = await rows_as_dicts(session, baseline_statements()[0], values)
    values["baseline_id"] = against.chosen_baseline(rows)["id"]
    return rows


def _add_baseline(report: Report, rows: list[dict[str, Any]]) -> None:
    report["baseline"] = against.chosen_baseline(rows)
    against.add_figures(report, rows)


# --- partner report ----------------------------------------------------------------------------


@functools.cache
def partner_statements(scoped: bool) -> tuple[Executable, Executable]:
    """The partner report's statements: header, figures. Values:
    ``report_values(actor, as_of, partner_id=...)``."""
    header = (
        listing.visible(partners.LISTING, scoped)
        .add_columns(Partner.id, Partner.code, _text(Partner, "name").label("name"))
        .where(Partner.id == bindparam("partner_id"))
    )
    programmes = (
        select(
            Programme.id,
            Programme.code,
            _text(Programme, "title").label("title"),
            Programme.status,
            Programme.starts_on,
        )
        .where(Programme.partner_id == bindparam("partner_id"))
        .subquery("programme")
    )
    cells = _cells(_as_of(), select(programmes.c.id))
    programme_set = tuple_(
        programmes.c.id,
        programmes.c.code,
        programmes.c.title,
        programmes.c.status,
        programmes.c.starts_on,
    )
    # GROUPING(programme, pillar): 1 = a programme, 2 = a pillar, 3 = the partner.
    level = func.grouping(programmes.c.id, Pillar.id)
    source = join(
        Pillar,
        programmes.outerjoin(cells, cells.c.programme_id == programmes.c.id),
        cells.c.pillar_id == Pillar.id,
        full=True,
    )
    figures = (
        select(
            level.label("level"),
            *_PILLAR_COLUMNS,
            programmes.c.id.label("programme_id"),
            programmes.c.code.label("programme_code"),
            programmes.c.title.label("programme_title"),
            programmes.c.status.label("programme_status"),
            *_figures(cells, cast(func.coalesce(func.sum(cells.c.projects), 0), BigInteger)),
        )
        .select_from(source)
        .group_by(func.grouping_sets(programme_set, _pillar_set(), _EMPTY_GROUPING_SET))
        # The outer join also yields the groups "no programme" and "no pillar": drop them.
        .having(
            or_(
                level == 3,
                and_(level == 1, programmes.c.id.is_not(None)),
                and_(level == 2, Pillar.id.is_not(None)),
            )
        )
        .order_by(
            level,
            programmes.c.starts_on,
            programmes.c.code,
            Pillar.position,
            Pillar.id,
        )
    )
    return header, figures


async def partner_report(
    session: AsyncSession, actor: Actor, partner_id: int, *, as_of: date, lang: str | None = None
) -> Report:
    if not in_id_range(partner_id):
        raise NotFound(f"partner {partner_id} does not exist")
    header, figures = partner_statements(scope.is_scoped(actor))
    values = report_values(actor, as_of, lang, partner_id=partner_id)
    partners = await rows_as_dicts(session, header, values)
    if not partners:
        raise NotFound(f"partner {partner_id} does not exist")
    partner = partners[0]
    rows = await rows_as_dicts(session, figures, values)
    programme_rows, pillar_rows, total = _split(rows, (1, 2, 3))
    return {
        "as_of": as_of,
        "partner": {"id": partner["id"], "code": partner["code"], "name": partner["name"]},
        "summary": _summary(total[0]),
        "pillars": [_pillar_row(row) for row in pillar_rows],
        "programmes": [
            {
                "programme": {
                    "id": row["programme_id"],
                    "code": row["programme_code"],
                    "title": row["programme_title"],
                    "status": row["programme_status"],
                },
                **_summary(row),
            }
            for row in programme_rows
        ],
    }


# --- portfolio ---------------------------------------------------------------------------------


@functools.cache
def portfolio_statement(scoped: bool, by_framework: bool, by_status: bool) -> Executable:
    """The partner rows, the pillar rows and the portfolio's summary, told apart by ``level``.
    Values: ``report_values(actor, as_of)`` and ``framework_id`` / ``status`` if filtered."""
    conditions: list[ColumnElement[bool]] = [_in_scope(scoped, Programme.partner_id)]
    if by_status:
        conditions.append(Programme.status == bindparam("status"))
    if by_framework:
        conditions.append(
            exists().where(
                FrameworkMembership.partner_id == Programme.partner_id,
                FrameworkMembership.framework_id == bindparam("framework_id"),
            )
        )
    at = _as_of()
    programmes = (
        select(
            Programme.id,
            Programme.partner_id,
            Partner.code.label("partner_code"),
            _text(Partner, "name").label("partner_name"),
        )
        .join(Partner, Partner.id == Programme.partner_id)
        .where(*conditions)
        .subquery("programme")
    )
    cells = _cells(at, select(programmes.c.id))
    partner_set = tuple_(
        programmes.c.partner_id, programmes.c.partner_code, programmes.c.partner_name
    )
    # GROUPING(partner, pillar): 1 = a partner, 2 = a pillar, 3 = the portfolio.
    level = func.grouping(programmes.c.partner_id, Pillar.id)
    source = join(
        Pillar,
        programmes.outerjoin(cells, cells.c.programme_id == programmes.c.id),
        cells.c.pillar_id == Pillar.id,
        full=True,
    )
    return (
        select(
            level.label("level"),
            *_PILLAR_COLUMNS,
            programmes.c.partner_id,
            programmes.c.partner_code,
            programmes.c.partner_name,
            func.count(programmes.c.id.distinct()).label("programmes"),
            *_figures(cells, cast(func.coalesce(func.sum(cells.c.projects), 0), BigInteger)),
        )
        .select_from(source)
        .group_by(func.grouping_sets(partner_set, _pillar_set(), _EMPTY_GROUPING_SET))
        .having(
            or_(
                level == 3,
                and_(level == 1, programmes.c.partner_id.is_not(None)),
                and_(level == 2, Pillar.id.is_not(None)),
            )
        )
        .order_by(level, programmes.c.partner_code, Pillar.position, Pillar.id)
    )


def shape_portfolio_report(as_of: date, rows: list[dict[str, Any]]) -> Report:
    partner_rows, pillar_rows, total = _split(rows, (1, 2, 3))
    return {
        "as_of": as_of,
        "summary": _summary(total[0]),
        "pillars": [_pillar_row(row) for row in pillar_rows],
        "partners": [
            {
                "partner": {
                    "id": row["partner_id"],
                    "code": row["partner_code"],
                    "name": row["partner_name"],
                },
                "programmes": row["programmes"],
                **_summary(row),
            }
            for row in partner_rows
        ],
    }


async def portfolio_report(
    session: AsyncSession,
    actor: Actor,
    *,
    as_of: date,
    framework_id: int | None = None,
    status: ProgrammeStatus | None = None,
    lang: str | None = None,
) -> Report:
    stmt = portfolio_statement(scope.is_scoped(actor), framework_id is not None, status is not None)
    values = report_values(actor, as_of, lang)
    if framework_id is not None:
        values["framework_id"] = framework_id
    if status is not None:
        values["status"] = status.value
    return shape_portfolio_report(as_of, await rows_as_dicts(session, stmt, values))
