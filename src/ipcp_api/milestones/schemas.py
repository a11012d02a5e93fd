from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, StrictInt

from ipcp_api.common.i18n import (
    LANG_READ,
    TRANSLATIONS_READ,
    Lang,
    TranslationsIn,
    TranslationsOf,
    default_language,
)
from ipcp_api.common.schemas import InputModel, NotNull, Page, ResourceRead
from ipcp_api.common.types import IdRef, IsoDate, Text, integral
from ipcp_api.enums import MilestoneState

MilestoneTitle = Annotated[
    Text, Field(min_length=1, max_length=300, examples=["Course curriculum agreed"])
]
MilestoneRef = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=32,
        examples=["M1"],
        description="A stable key, unique within the project (imports match on it); nullable.",
    ),
]
Weight = Annotated[
    StrictInt,
    Field(ge=1, le=100, description="Relative weight, 1–100."),
    BeforeValidator(integral),
]
# Lax so the JSON string "done" becomes the enum member; anything unlisted is still 422.
State = Annotated[MilestoneState, Field(strict=False)]
CompletedOn = Annotated[
    IsoDate,
    Field(description="Required when `state` is `done`, null otherwise; not after today (UTC)."),
]

MilestoneTranslations = TranslationsOf("Milestone", title=MilestoneTitle)
MilestoneTranslationsPatch = TranslationsOf("MilestonePatch", patch=True, title=MilestoneTitle)

_EXAMPLE: dict[str, Any] = {
    "project_id": 1,
    "ref": "M1",
    "title": "Course curriculum agreed",
    "due_on": "2016-12-15",
    "weight": 2,
    "state": "done",
    "completed_on": "2016-12-10",
    "lang": "en",
    "translations": {
        "fr": {"title": "Programme du cours approuvé"},
        "ar": {"title": "الاتفاق على منهج الدورة"},
    },
}


class MilestoneCreate(InputModel):
    """A new milestone; ``due_on`` must lie inside the project's period."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    project_id: IdRef
    ref: MilestoneRef | None = None
    title: MilestoneTitle
    due_on: IsoDate
    weight: Weight = 1
    state: State = MilestoneState.pending
    completed_on: CompletedOn | None = None
    lang: Lang = Field(default_factory=default_language)
    translations: Annotated[TranslationsIn, MilestoneTranslations] = Field(default_factory=dict)


class MilestonePatch(InputModel):
    """A JSON merge patch; the rules apply to the merged result.

    Strict: marking a milestone ``done`` must send its ``completed_on``; setting a done one
    back to ``pending`` or ``cancelled`` must send ``"completed_on": null`` in the same body
    (else 422: nothing is cleared behind the caller's back).
    """

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"state": "done", "completed_on": "2016-12-10"}]}
    )

    project_id: NotNull[IdRef] = None
    ref: MilestoneRef | None = None
    title: NotNull[MilestoneTitle] = None
    due_on: NotNull[IsoDate] = None
    weight: NotNull[Weight] = None
    state: NotNull[State] = None
    completed_on: CompletedOn | None = None
    lang: NotNull[Lang] = None
    translations: Annotated[TranslationsIn | None, MilestoneTranslationsPatch] = None


class MilestoneRead(ResourceRead):
    project_id: int
    ref: str | None
    title: str
    due_on: date
    weight: int
    state: MilestoneState
    completed_on: date | None
    lang: str = LANG_READ
    translations: dict[str, dict[str, str]] = TRANSLATIONS_READ
    overdue: bool = Field(
        description=(
            "Read-only, as of today (UTC): counted (neither it nor its project cancelled), "
            "due before today and not done."
        )
    )


MilestonePage = Page[MilestoneRead]
