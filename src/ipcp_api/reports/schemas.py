"""Progress reports: programme, partner and portfolio (API.md "Progress reports")."""

from __future__ import annotations

from datetime import date
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

_FRACTION = "Rounded to 4 places; null when the set has no counted weight (W = 0)."


Projects = Annotated[int, Field(description="Projects in the set, cancelled ones included.")]
Milestones = Annotated[
    int, Field(description="Counted milestones (not cancelled, in a project not cancelled).")
]
MilestonesDone = Annotated[int, Field(description="Counted milestones done by `as_of`.")]
MilestonesOverdue = Annotated[int, Field(description="Counted milestones overdue at `as_of`.")]
Progress = Annotated[
    float | None, Field(description="Weight done by `as_of` / W. " + _FRACTION, examples=[0.5])
]
Expected = Annotated[
    float | None, Field(description="Weight due by `as_of` / W. " + _FRACTION, examples=[0.625])
]
Variance = Annotated[
    float | None,
    Field(description="progress − expected_progress. " + _FRACTION, examples=[-0.125]),
]


class Summary(BaseModel):
    """The figures of a set of projects and their milestones, as of ``as_of``."""

    projects: Projects
    milestones: Milestones
    milestones_done: MilestonesDone
    milestones_overdue: MilestonesOverdue
    progress: Progress
    expected_progress: Expected
    variance: Variance
    schedule: Schedule


class PartnerRef(BaseModel):
    id: int
    code: str
    name: str


class PillarRef(BaseModel):
    id: int
    code: str
    name: str


class ProgrammeHeader(BaseModel):
    id: int
    code: str
    title: str
    status: ProgrammeStatus
    starts_on: date
    ends_on: date
    partner: PartnerRef


class ProgrammeRef(BaseModel):
    id: int
    code: str
    title: str
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
    schedule: Schedule


class ProjectRow(BaseModel):
    id: int
    code: str
    title: str
    pillar_id: int
    status: ProjectStatus
    projects: Projects
    milestones: Milestones
    milestones_done: MilestonesDone
    milestones_overdue: MilestonesOverdue
    progress: Progress
    expected_progress: Expected
    variance: Variance
    schedule: Schedule
    next_due_on: date | None = Field(
        description="The earliest due date ≥ `as_of` among its counted milestones not done "
        "by `as_of`."
    )


class OverdueMilestone(BaseModel):
    milestone_id: int
    project_id: int
    title: str
    due_on: date
    days_overdue: int


class UpcomingMilestone(BaseModel):
    milestone_id: int
    project_id: int
    title: str
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
    schedule: Schedule


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
    schedule: Schedule


class PortfolioReport(BaseModel):
    as_of: date
    summary: Summary
    pillars: list[PillarRow] = Field(description="Every pillar, by position.")
    partners: list[PartnerRow] = Field(
        description="Partners with at least one matching programme, by partner code."
    )
