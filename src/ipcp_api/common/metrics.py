"""The progress definitions of API.md ("Progress reports") as SQL expressions.

One place for the rules, used by the project and milestone read paths (as of today) and by
the reports (as of any date). Everything here is an expression over a milestone row ``m``
and its project ``p``; callers aggregate it over whatever set they report on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Numeric, and_, case, cast, func, literal, not_

LATE_AFTER_DAYS = 30
PLACES = 4


def today() -> date:
    """ "Today" is the current UTC date."""
    return datetime.now(UTC).date()


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


def summary_columns(c: MilestoneCols, as_of: Any) -> dict[str, ColumnElement[Any]]:
    """Aggregates over a set of milestone rows (LEFT-joined rows with NULLs count as none).

    Keys: milestones, milestones_done, milestones_overdue, progress, expected_progress,
    variance, schedule.
    """
    is_counted = counted(c)
    weight_total = func.sum(c.weight).filter(is_counted)
    done = and_(is_counted, done_by(c, as_of))
    late = overdue(c, as_of)
    done_weight = func.sum(c.weight).filter(done)
    due_weight = func.sum(c.weight).filter(and_(is_counted, c.due_on <= as_of))
    n_counted = func.count(c.milestone_id).filter(is_counted)
    n_done = func.count(c.milestone_id).filter(done)
    n_overdue = func.count(c.milestone_id).filter(late)
    worst = func.max(as_of - c.due_on).filter(late)
    progress = cast(func.coalesce(done_weight, 0), Numeric) / func.nullif(weight_total, 0)
    expected = cast(func.coalesce(due_weight, 0), Numeric) / func.nullif(weight_total, 0)
    schedule = case(
        (func.coalesce(weight_total, 0) == 0, literal("not_planned")),
        (n_done == n_counted, literal("complete")),
        (worst > LATE_AFTER_DAYS, literal("late")),
        (n_overdue > 0, literal("behind")),
        else_=literal("on_track"),
    )
    return {
        "milestones": n_counted,
        "milestones_done": n_done,
        "milestones_overdue": n_overdue,
        "progress": func.round(progress, PLACES),
        "expected_progress": func.round(expected, PLACES),
        "variance": func.round(progress - expected, PLACES),
        "schedule": schedule,
    }


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
