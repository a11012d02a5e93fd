from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import ConfigDict, Field

from ipcp_api.common.schemas import InputModel, NotNull, Page, ReadModel, ResourceRead
from ipcp_api.common.types import Text
from ipcp_api.enums import BaselineKind, MilestoneState, ProjectStatus

BaselineName = Annotated[Text, Field(min_length=1, max_length=200, examples=["Mid-term review"])]
BaselineNote = Annotated[Text, Field(max_length=2000)]

APPROVAL_NAME = "As approved"
"""The name of the baseline the approving PATCH takes."""


class BaselineCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Before the 2017 review", "note": "Plan as of 1 March 2017."}]
        }
    )

    name: BaselineName
    note: BaselineNote | None = None


class BaselinePatch(InputModel):
    """A JSON merge patch: only ``name`` and ``note`` change (anything else is 422)."""

    name: NotNull[BaselineName] = None
    note: BaselineNote | None = None


class BaselineRead(ResourceRead):
    programme_id: int
    kind: BaselineKind
    name: str
    note: str | None
    taken_at: datetime
    taken_by: int | None = Field(description="The id of the user who took it.")
    projects: int = Field(description="Projects copied, cancelled ones included.")
    milestones: int = Field(description="Milestones copied, cancelled ones included.")


class PlanMilestone(ReadModel):
    milestone_id: int
    title: str
    lang: str
    translations: dict[str, dict[str, str]]
    due_on: date
    weight: int
    state: MilestoneState
    completed_on: date | None


class PlanProject(ReadModel):
    project_id: int
    code: str
    title: str
    lang: str
    translations: dict[str, dict[str, str]]
    pillar_id: int
    starts_on: date
    ends_on: date
    status: ProjectStatus
    milestones: list[PlanMilestone]


class Plan(ReadModel):
    projects: list[PlanProject]


class BaselineWithPlan(BaselineRead):
    plan: Plan | None = Field(
        default=None, description="The copy, with `?include=plan` (projects by code)."
    )


BaselinePage = Page[BaselineRead]
