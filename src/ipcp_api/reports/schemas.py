"""Progress reports: programme, partner and portfolio.

The field descriptions speak to the people who read the reports; the examples are one
consistent picture (8 milestones of equal weight, 4 done, 5 due, 1 overdue: ``behind``), which
ReDoc shows as the sample answer.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from ipcp_api.enums import (
    OwnerSide,
    ProgrammeStatus,
    ProjectStatus,
    ReviewFormat,
    ReviewStatus,
    Schedule,
)

_FRACTION = "4 decimals; empty (null) when no milestone counts."


Projects = Annotated[
    int, Field(description="Projects in the set, cancelled ones included.", examples=[4])
]
Milestones = Annotated[
    int,
    Field(
        description="Milestones that count: not cancelled, in a project that is not cancelled.",
        examples=[8],
    ),
]
MilestonesDone = Annotated[
    int, Field(description="Milestones that count and were done by `as_of`.", examples=[4])
]
MilestonesOverdue = Annotated[
    int,
    Field(
        description="Milestones that count, were due before `as_of` and were not done by then.",
        examples=[1],
    ),
]
Progress = Annotated[
    float | None,
    Field(
        description="The share of the work done by `as_of`, by weight: 0.3396 means 34 % done. "
        + _FRACTION,
        examples=[0.5],
    ),
]
Expected = Annotated[
    float | None,
    Field(
        description="The share of the work that was due by `as_of`, by weight: what progress"
        " would be if everything had been done on time. " + _FRACTION,
        examples=[0.625],
    ),
]
Variance = Annotated[
    float | None,
    Field(
        description="progress − expected_progress: below zero is behind the plan (−0.125 is"
        " 12.5 percentage points behind), above zero ahead of it. " + _FRACTION,
        examples=[-0.125],
    ),
]
ScheduleField = Annotated[Schedule, Field(examples=["behind"])]


class Summary(BaseModel):
    """The figures of a set of projects and their milestones, as of ``as_of``."""

    projects: Projects
    milestones: Milestones
    milestones_done: MilestonesDone
    milestones_overdue: MilestonesOverdue
    progress: Progress
    expected_progress: Expected
    variance: Variance
    schedule: ScheduleField


Rendered = Annotated[
    str,
    Field(
        description="In the report's language (`lang`, else `Accept-Language`): its translation"
        " in that language, else its own text."
    ),
]


class PartnerRef(BaseModel):
    id: int
    code: str
    name: Rendered


class PillarRef(BaseModel):
    id: int
    code: str
    name: Rendered


class ProgrammeHeader(BaseModel):
    id: int
    code: str
    title: Rendered
    status: ProgrammeStatus
    starts_on: date
    ends_on: date
    partner: PartnerRef


class ProgrammeRef(BaseModel):
    id: int
    code: str
    title: Rendered
    status: ProgrammeStatus


class PillarRow(BaseModel):
    pillar: PillarRef
    projects: Projects
    milestones: Milestones
    milestones_done: MilestonesDone
    milestones_overdue: MilestonesOverdue
    progress: Progress
    expected_progress: Expected
    variance: Variance
    schedule: ScheduleField


class ProjectRow(BaseModel):
    id: int
    code: str
    title: Rendered
    pillar_id: int
    status: ProjectStatus
    projects: Projects
    milestones: Milestones
    milestones_done: MilestonesDone
    milestones_overdue: MilestonesOverdue
    progress: Progress
    expected_progress: Expected
    variance: Variance
    schedule: ScheduleField
    next_due_on: date | None = Field(
        description="The earliest due date ≥ `as_of` among its counted milestones not done "
        "by `as_of`."
    )


class OverdueMilestone(BaseModel):
    milestone_id: int
    project_id: int
    title: Rendered
    due_on: date
    days_overdue: int


class UpcomingMilestone(BaseModel):
    milestone_id: int
    project_id: int
    title: Rendered
    due_on: date


class CommitteeRef(BaseModel):
    id: int
    code: str
    name: str


class ReviewRef(BaseModel):
    id: int
    held_on: date
    committee: CommitteeRef
    format: ReviewFormat
    format_label: str | None = Field(description='`"28+1"`: n allies plus the partner.')
    status: ReviewStatus


class Reviews(BaseModel):
    last: ReviewRef | None = Field(
        description="The latest review `held` or `closed` with `held_on` ≤ `as_of`."
    )
    next: ReviewRef | None = Field(
        description="The earliest review not `cancelled` with `held_on` > `as_of`."
    )
    milestones_done_since_last: int | None = Field(
        description=(
            "Counted milestones done with `completed_on` in (`last.held_on`, `as_of`]; "
            "null without `last`."
        )
    )


class OpenActionItem(BaseModel):
    id: int
    review_id: int
    title: str
    owner: str
    owner_side: OwnerSide
    due_on: date
    days_overdue: int | None


class Actions(BaseModel):
    open: int = Field(
        description=(
            "Action items of reviews held by `as_of`, not `dropped`, open as of `as_of` "
            "(`open`, or `done` later than `as_of`)."
        )
    )
    overdue: int = Field(description="Open ones due before `as_of`.")
    items: list[OpenActionItem] = Field(description="The open ones, overdue first, by due date.")


class ProgrammeReport(BaseModel):
    as_of: date
    programme: ProgrammeHeader
    summary: Summary
    pillars: list[PillarRow] = Field(description="Every pillar, by position.")
    projects: list[ProjectRow] = Field(description="By pillar position, then code.")
    overdue: list[OverdueMilestone] = Field(description="Oldest first.")
    upcoming: list[UpcomingMilestone] = Field(
        description="Counted, not done by `as_of`, due in (as_of, as_of + 30 days]; soonest first."
    )
    reviews: Reviews
    actions: Actions


class ProgrammeRow(BaseModel):
    programme: ProgrammeRef
    projects: Projects
    milestones: Milestones
    milestones_done: MilestonesDone
    milestones_overdue: MilestonesOverdue
    progress: Progress
    expected_progress: Expected
    variance: Variance
    schedule: ScheduleField


class PartnerReport(BaseModel):
    as_of: date
    partner: PartnerRef
    summary: Summary
    pillars: list[PillarRow] = Field(description="Every pillar, by position.")
    programmes: list[ProgrammeRow] = Field(description="By starts_on, then code.")


class PartnerRow(BaseModel):
    partner: PartnerRef
    programmes: int = Field(description="Matching programmes of this partner.")
    projects: Projects
    milestones: Milestones
    milestones_done: MilestonesDone
    milestones_overdue: MilestonesOverdue
    progress: Progress
    expected_progress: Expected
    variance: Variance
    schedule: ScheduleField


class PortfolioReport(BaseModel):
    as_of: date
    summary: Summary
    pillars: list[PillarRow] = Field(description="Every pillar, by position.")
    partners: list[PartnerRow] = Field(
        description="Partners with at least one matching programme, by partner code."
    )


# --- against a baseline (issue 17): what ``baseline=`` adds to the programme report ----------


class BaselineFigures(BaseModel):
    baseline_expected_progress: float | None = Field(
        description="Weight of the baseline's counted milestones due by `as_of` (their"
        " baseline due date) / their total weight; null when that is 0."
    )
    variance_vs_baseline: float | None = Field(
        description="progress − baseline_expected_progress (null when either is)."
    )
    milestones_slipped: int = Field(description="Counted now and then, due later than then.")
    max_slip_days: int = Field(description="The largest slip in days (0: none slipped).")
    milestones_added: int = Field(description="Counted now, not counted in the baseline.")
    milestones_removed: int = Field(description="Counted in the baseline, deleted or not now.")


class BaselineRef(BaseModel):
    id: int
    kind: str
    name: str
    taken_at: datetime


class SummaryVsBaseline(Summary, BaselineFigures):
    pass


class PillarRowVsBaseline(PillarRow, BaselineFigures):
    pass


class ProjectRowVsBaseline(ProjectRow, BaselineFigures):
    pass


class BaselineDates(BaseModel):
    baseline_due_on: date | None = Field(description="Its due date in the baseline, or null.")
    slip_days: int | None = Field(description="due_on − baseline_due_on, or null.")


class OverdueVsBaseline(OverdueMilestone, BaselineDates):
    pass


class UpcomingVsBaseline(UpcomingMilestone, BaselineDates):
    pass


class ProgrammeReportVsBaseline(ProgrammeReport):
    """The programme report with ``baseline=approval`` or ``baseline=<id>``."""

    baseline: BaselineRef
    summary: SummaryVsBaseline
    pillars: list[PillarRowVsBaseline]  # type: ignore[assignment]
    projects: list[ProjectRowVsBaseline]  # type: ignore[assignment]
    overdue: list[OverdueVsBaseline]  # type: ignore[assignment]
    upcoming: list[UpcomingVsBaseline]  # type: ignore[assignment]
