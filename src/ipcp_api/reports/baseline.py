"""The programme report against a baseline (API.md, "Against a baseline"; issue 17).

One statement (``figures_statement``) checks the baseline and computes every baseline figure
of the summary, the pillars and the projects; the milestone lists get ``baseline_due_on`` and
``slip_days`` from a wrapper of their own statement (``lists_statement``). So a report with
``baseline=`` runs one statement more than without, whatever the size.

Each milestone of the programme now, or of the baseline's copy, is one *fact* (a full outer
join of the live milestones with the copied ones on the milestone id). A fact falls to the row
of the project (and pillar) it is in now when it still exists, else to those of the copy: a
deleted project has no row of its own (its facts count in its pillar and the summary only).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Numeric,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.sql import Executable

from ipcp_api.common import metrics
from ipcp_api.common.types import MAX_BIGINT
from ipcp_api.enums import BaselineKind
from ipcp_api.errors import Invalid
from ipcp_api.models import Baseline, BaselineMilestone, BaselineProject, Milestone, Project

FIGURES = (
    "baseline_expected_progress",
    "variance_vs_baseline",
    "milestones_slipped",
    "max_slip_days",
    "milestones_added",
    "milestones_removed",
)
"""The figures a baseline adds to the summary, every pillar row and every project row."""
ITEM_FIELDS = ("baseline_due_on", "slip_days")
"""What it adds to every overdue and upcoming milestone."""
EMPTY: dict[str, Any] = {
    "baseline_expected_progress": None,
    "variance_vs_baseline": None,
    "milestones_slipped": 0,
    "max_slip_days": 0,
    "milestones_added": 0,
    "milestones_removed": 0,
}
"""The figures of a row with no fact (no milestone now, none in the baseline)."""

_PLAIN_ID = re.compile(r"[1-9][0-9]{0,18}")
_NOT_CANCELLED = "cancelled"


def parse(value: str) -> int | None:
    """``approval`` -> None; a baseline id -> the id; anything else -> 422 naming it."""
    if value == BaselineKind.approval.value:
        return None
    if _PLAIN_ID.fullmatch(value) and int(value) <= MAX_BIGINT:
        return int(value)
    raise Invalid(("query", "baseline"), "must be `approval` or the id of a baseline")


def _chosen() -> Any:
    """The baseline asked for, if it is the programme's: ``:baseline_id``, or (null) its
    approval baseline."""
    wanted = bindparam("baseline_id", type_=BigInteger)
    return (
        select(Baseline.id, Baseline.kind, Baseline.name, Baseline.taken_at)
        .where(
            Baseline.programme_id == bindparam("programme_id"),
            or_(
                and_(wanted.is_(None), Baseline.kind == BaselineKind.approval.value),
                Baseline.id == wanted,
            ),
        )
        .cte("chosen_baseline")
    )


def figures_statement(as_of: ColumnElement[Any]) -> Executable:
    """Rows by ``level`` (GROUPING(pillar, project)): 0 a project, 1 a pillar, 3 the summary;
    every row carries the chosen baseline (null: none, 422)."""
    chosen = _chosen()
    live = (
        select(
            Milestone.id.label("milestone_id"),
            Milestone.project_id,
            Project.pillar_id,
            Milestone.weight,
            Milestone.due_on,
            metrics.counted(metrics.from_models(Milestone, Project)).label("counted"),
            func.coalesce(
                metrics.done_by(metrics.from_models(Milestone, Project), as_of), False
            ).label("done"),
        )
        .join(Project, Project.id == Milestone.project_id)
        .where(Project.programme_id == bindparam("programme_id"))
        .subquery("live")
    )
    bm, bp = BaselineMilestone, BaselineProject
    # the chosen id as a value (an InitPlan), so both copies are read by their index on it
    chosen_id = select(chosen.c.id).scalar_subquery()
    copied = (
        select(
            bm.milestone_id,
            bm.project_id,
            bp.pillar_id,
            bm.weight,
            bm.due_on,
            and_(bm.state != _NOT_CANCELLED, bp.status != _NOT_CANCELLED).label("counted"),
        )
        .join(bp, and_(bp.baseline_id == bm.baseline_id, bp.project_id == bm.project_id))
        .where(bm.baseline_id == chosen_id, bp.baseline_id == chosen_id)
        .subquery("copied")
    )
    now = func.coalesce(live.c.counted, false())
    then = func.coalesce(copied.c.counted, false())
    facts = (
        select(
            func.coalesce(live.c.project_id, copied.c.project_id).label("project_id"),
            func.coalesce(live.c.pillar_id, copied.c.pillar_id).label("pillar_id"),
            case((now, live.c.weight), else_=0).label("weight"),
            case((and_(now, live.c.done), live.c.weight), else_=0).label("done_weight"),
            case((then, copied.c.weight), else_=0).label("baseline_weight"),
            case((and_(then, copied.c.due_on <= as_of), copied.c.weight), else_=0).label(
                "baseline_due_weight"
            ),
            case((and_(now, then), live.c.due_on - copied.c.due_on)).label("slip"),
            and_(now, not_(then)).label("added"),
            and_(then, not_(now)).label("removed"),
        )
        .select_from(live.join(copied, live.c.milestone_id == copied.c.milestone_id, full=True))
        .subquery("facts")
    )
    f = facts.c
    # Per project first (a hash aggregate over the facts), then GROUPING SETS over those few
    # rows: every measure adds up (sums, counts, one maximum), as in the report itself.
    per_project = (
        select(
            f.pillar_id,
            f.project_id,
            func.sum(f.weight).label("weight"),
            func.sum(f.done_weight).label("done_weight"),
            func.sum(f.baseline_weight).label("baseline_weight"),
            func.sum(f.baseline_due_weight).label("baseline_due_weight"),
            func.count().filter(f.slip > 0).label("slipped"),
            func.max(f.slip).filter(f.slip > 0).label("max_slip"),
            func.count().filter(f.added).label("added"),
            func.count().filter(f.removed).label("removed"),
        )
        .group_by(f.pillar_id, f.project_id)
        .subquery("fact_partials")
    )
    r = per_project.c
    weight = func.nullif(func.sum(r.weight), 0)
    baseline_weight = func.nullif(func.sum(r.baseline_weight), 0)
    progress = cast(func.sum(r.done_weight), Numeric) / weight
    expected = cast(func.sum(r.baseline_due_weight), Numeric) / baseline_weight
    level = func.grouping(r.pillar_id, r.project_id)

    def total(column: Any) -> ColumnElement[Any]:
        return cast(func.coalesce(func.sum(column), 0), BigInteger)

    return (
        select(
            level.label("level"),
            r.pillar_id,
            r.project_id,
            cast(func.round(expected, metrics.PLACES), Float).label("baseline_expected_progress"),
            cast(func.round(progress - expected, metrics.PLACES), Float).label(
                "variance_vs_baseline"
            ),
            total(r.slipped).label("milestones_slipped"),
            cast(func.coalesce(func.max(r.max_slip), 0), BigInteger).label("max_slip_days"),
            total(r.added).label("milestones_added"),
            total(r.removed).label("milestones_removed"),
            select(chosen.c.id).scalar_subquery().label("baseline_id"),
            select(chosen.c.kind).scalar_subquery().label("baseline_kind"),
            select(chosen.c.name).scalar_subquery().label("baseline_name"),
            select(chosen.c.taken_at).scalar_subquery().label("baseline_taken_at"),
        )
        .group_by(
            func.grouping_sets(
                tuple_(r.pillar_id, r.project_id),
                tuple_(r.pillar_id),
                literal_column("()"),
            )
        )
        .order_by(level)
    )


def lists_statement(lists: Executable) -> Executable:
    """The report's milestone lists (``lists``, a SELECT ordered by due date then id) with
    each item's ``baseline_due_on`` and ``slip_days``: from the chosen baseline's copy of the
    milestone when it counted there, else null."""
    items = lists.subquery("items")  # type: ignore[attr-defined]
    bm, bp = BaselineMilestone, BaselineProject
    baseline_id = bindparam("baseline_id", type_=BigInteger)
    # one primary-key lookup per listed milestone (the lists are short)
    copy = (
        select(bm.due_on)
        .join(bp, and_(bp.baseline_id == bm.baseline_id, bp.project_id == bm.project_id))
        .where(
            bm.baseline_id == baseline_id,
            bm.milestone_id == items.c.milestone_id,
            bm.state != _NOT_CANCELLED,
            bp.status != _NOT_CANCELLED,
        )
        .correlate(items)
        .limit(1)  # at most one anyway (the primary key); keeps the planner from flattening it
        .lateral("copy")
    )
    return (
        select(
            *items.c,
            copy.c.due_on.label("baseline_due_on"),
            (items.c.due_on - copy.c.due_on).label("slip_days"),
        )
        .select_from(items.outerjoin(copy, true()))
        .order_by(items.c.due_on, items.c.milestone_id)
    )


def chosen_baseline(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``baseline`` block from the figures' rows; 422 when none was found."""
    first = rows[0]
    if first["baseline_id"] is None:
        raise Invalid(
            ("query", "baseline"),
            "no such baseline of this programme (or, for `approval`, it was never approved)",
        )
    return {
        "id": first["baseline_id"],
        "kind": first["baseline_kind"],
        "name": first["baseline_name"],
        # RFC 3339 in UTC with "Z", as the baselines' own endpoints write it
        "taken_at": first["baseline_taken_at"].isoformat().replace("+00:00", "Z"),
    }


def add_figures(report: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Put the figures of ``rows`` (``figures_statement``) into the report's rows."""
    projects: dict[Any, dict[str, Any]] = {}
    pillars: dict[Any, dict[str, Any]] = {}
    summary: dict[str, Any] = dict(EMPTY)
    for row in rows:
        values = {name: row[name] for name in FIGURES}
        if row["level"] == 0:
            projects[row["project_id"]] = values
        elif row["level"] == 1:
            pillars[row["pillar_id"]] = values
        else:
            summary = values
    report["summary"].update(summary)
    for pillar in report["pillars"]:
        pillar.update(pillars.get(pillar["pillar"]["id"], EMPTY))
    for project in report["projects"]:
        project.update(projects.get(project["id"], EMPTY))
