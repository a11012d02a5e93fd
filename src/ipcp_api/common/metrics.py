"""The progress definitions of API.md ("Progress reports") as SQL expressions.

One place for the rules, used by the project and milestone read paths (as of today) and by
the reports (as of any date). Everything here is an expression over a milestone row ``m``
and its project ``p``; callers aggregate it over whatever set they report on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Numeric,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    not_,
)

LATE_AFTER_DAYS = 30
PLACES = 4


def today() -> date:
    """ "Today" is the current UTC date."""
    return datetime.now(UTC).date()


AS_OF = bindparam("as_of", type_=Date)
"""The date the project and milestone read paths compute their fields as of (today)."""


def as_of_today() -> dict[str, Any]:
    """The value of ``AS_OF``: today."""
    return {"as_of": today()}


class MilestoneCols:
    """The columns the definitions read, from any alias or subquery of milestones/projects."""

    def __init__(
        self,
        *,
        weight: Any,
        state: Any,
        due_on: Any,
        completed_on: Any,
        project_status: Any,
        milestone_id: Any,
    ) -> None:
        self.weight = weight
        self.state = state
        self.due_on = due_on
        self.completed_on = completed_on
        self.project_status = project_status
        self.milestone_id = milestone_id


def counted(c: MilestoneCols) -> ColumnElement[bool]:
    """Milestones that are not cancelled, in projects that are not cancelled."""
    return and_(c.state != "cancelled", c.project_status != "cancelled")


def done_by(c: MilestoneCols, as_of: Any) -> ColumnElement[bool]:
    return and_(c.state == "done", c.completed_on <= as_of)


def overdue(c: MilestoneCols, as_of: Any) -> ColumnElement[bool]:
    """Counted, due before ``as_of`` and not done by then."""
    return and_(counted(c), c.due_on < as_of, not_(func.coalesce(done_by(c, as_of), False)))


PARTIALS = (
    "weight_total",
    "done_weight",
    "due_weight",
    "milestones",
    "milestones_done",
    "milestones_overdue",
    "worst_overdue_days",
)
"""The additive pieces a summary is made of: sums, counts and one maximum."""


def partial_columns(c: MilestoneCols, as_of: Any) -> dict[str, ColumnElement[Any]]:
    """Aggregates over milestone rows that add up across sets (keys: ``PARTIALS``).

    Group milestones by project with these, then ``rollup_columns`` over the project rows
    gives the figures of any union of projects (pillar, programme, partner, portfolio)
    without going back to the milestones.
    """
    is_counted = counted(c)
    done = and_(is_counted, done_by(c, as_of))
    late = overdue(c, as_of)
    return {
        "weight_total": func.coalesce(func.sum(c.weight).filter(is_counted), 0),
        "done_weight": func.coalesce(func.sum(c.weight).filter(done), 0),
        "due_weight": func.coalesce(
            func.sum(c.weight).filter(and_(is_counted, c.due_on <= as_of)), 0
        ),
        "milestones": func.count(c.milestone_id).filter(is_counted),
        "milestones_done": func.count(c.milestone_id).filter(done),
        "milestones_overdue": func.count(c.milestone_id).filter(late),
        "worst_overdue_days": func.max(as_of - c.due_on).filter(late),
    }


def rollup_columns(source: Any) -> dict[str, ColumnElement[Any]]:
    """``summary_columns`` of the union of rows that carry ``PARTIALS`` (e.g. one per project).

    ``source`` is a subquery/CTE (anything with ``.c``); rows with NULL partials (from an
    outer join) count as empty sets.
    """
    c = source.c
    return figures(
        weight_total=func.coalesce(func.sum(c.weight_total), 0),
        done_weight=func.coalesce(func.sum(c.done_weight), 0),
        due_weight=func.coalesce(func.sum(c.due_weight), 0),
        milestones=cast(func.coalesce(func.sum(c.milestones), 0), BigInteger),
        milestones_done=cast(func.coalesce(func.sum(c.milestones_done), 0), BigInteger),
        milestones_overdue=cast(func.coalesce(func.sum(c.milestones_overdue), 0), BigInteger),
        worst_overdue_days=func.max(c.worst_overdue_days),
    )


def figures(
    *,
    weight_total: Any,
    done_weight: Any,
    due_weight: Any,
    milestones: Any,
    milestones_done: Any,
    milestones_overdue: Any,
    worst_overdue_days: Any,
) -> dict[str, ColumnElement[Any]]:
    """The summary fields from the partial aggregates of a set of milestones.

    Keys: milestones, milestones_done, milestones_overdue, progress, expected_progress,
    variance, schedule. With W = 0 the fractions are NULL and the schedule ``not_planned``.
    """
    weight = func.nullif(weight_total, 0)
    progress = cast(done_weight, Numeric) / weight
    expected = cast(due_weight, Numeric) / weight
    schedule = case(
        (func.coalesce(weight_total, 0) == 0, literal("not_planned")),
        (milestones_done == milestones, literal("complete")),
        (worst_overdue_days > LATE_AFTER_DAYS, literal("late")),
        (milestones_overdue > 0, literal("behind")),
        else_=literal("on_track"),
    )
    return {
        "milestones": milestones,
        "milestones_done": milestones_done,
        "milestones_overdue": milestones_overdue,
        "progress": func.round(progress, PLACES),
        "expected_progress": func.round(expected, PLACES),
        "variance": func.round(progress - expected, PLACES),
        "schedule": schedule,
    }


def summary_columns(c: MilestoneCols, as_of: Any) -> dict[str, ColumnElement[Any]]:
    """Aggregates over a set of milestone rows (LEFT-joined rows with NULLs count as none).

    Keys: milestones, milestones_done, milestones_overdue, progress, expected_progress,
    variance, schedule.
    """
    return figures(**partial_columns(c, as_of))


def next_due_on(c: MilestoneCols, as_of: Any) -> ColumnElement[Any]:
    """Aggregate: the earliest ``due_on >= as_of`` among counted milestones not done by then."""
    open_ = and_(counted(c), c.due_on >= as_of, not_(func.coalesce(done_by(c, as_of), False)))
    return func.min(c.due_on).filter(open_)


def from_models(milestone: Any, project: Any) -> MilestoneCols:
    """MilestoneCols over the ORM classes (or aliases) ``Milestone`` and ``Project``."""
    return MilestoneCols(
        weight=milestone.weight,
        state=milestone.state,
        due_on=milestone.due_on,
        completed_on=milestone.completed_on,
        project_status=project.status,
        milestone_id=milestone.id,
    )
