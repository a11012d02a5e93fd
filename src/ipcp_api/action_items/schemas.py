from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from ipcp_api.common.i18n import (
    LANG_READ,
    TRANSLATIONS_READ,
    Lang,
    TranslationsIn,
    TranslationsOf,
    default_language,
)
from ipcp_api.common.schemas import InputModel, NotNull, Page, ResourceRead
from ipcp_api.common.types import IdRef, IsoDate, Text
from ipcp_api.enums import ActionStatus, OwnerSide

Title = Annotated[Text, Field(min_length=1, max_length=300)]
Owner = Annotated[
    Text, Field(min_length=1, max_length=200, examples=["Ministry of Foreign Affairs"])
]
Side = Annotated[OwnerSide, Field(strict=False)]
Status = Annotated[ActionStatus, Field(strict=False)]
CompletedOn = Annotated[
    IsoDate,
    Field(description="Required when `status` is `done`, null otherwise; not after today (UTC)."),
]

ActionItemTranslations = TranslationsOf("ActionItem", title=Title)
ActionItemTranslationsPatch = TranslationsOf("ActionItemPatch", patch=True, title=Title)

_EXAMPLE: dict[str, Any] = {
    "review_id": 1,
    "decision_id": None,
    "title": "Nominate the course participants",
    "owner": "Ministry of Interior",
    "owner_side": "partner",
    "due_on": "2016-09-30",
    "status": "open",
    "completed_on": None,
    "project_id": None,
    "milestone_id": None,
    "lang": "en",
    "translations": {},
}


class ActionItemCreate(InputModel):
    """Follow-up agreed at a ``held`` or ``closed`` review."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    review_id: IdRef
    decision_id: IdRef | None = None
    title: Title
    owner: Owner
    owner_side: Side
    due_on: IsoDate
    status: Status = ActionStatus.open
    completed_on: CompletedOn | None = None
    project_id: IdRef | None = None
    milestone_id: IdRef | None = None
    lang: Lang = Field(default_factory=default_language)
    translations: Annotated[TranslationsIn, ActionItemTranslations] = Field(default_factory=dict)


class ActionItemPatch(InputModel):
    """A JSON merge patch; the rules apply to the merged result. A liaison may send only
    ``status`` and ``completed_on``."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "done", "completed_on": "2016-09-20"}]}
    )

    review_id: NotNull[IdRef] = None
    decision_id: IdRef | None = None
    title: NotNull[Title] = None
    owner: NotNull[Owner] = None
    owner_side: NotNull[Side] = None
    due_on: NotNull[IsoDate] = None
    status: NotNull[Status] = None
    completed_on: CompletedOn | None = None
    project_id: IdRef | None = None
    milestone_id: IdRef | None = None
    lang: NotNull[Lang] = None
    translations: Annotated[TranslationsIn | None, ActionItemTranslationsPatch] = None


class ActionItemRead(ResourceRead):
    review_id: int
    decision_id: int | None
    title: str
    owner: str
    owner_side: OwnerSide
    due_on: date
    status: ActionStatus
    completed_on: date | None
    project_id: int | None
    milestone_id: int | None
    lang: str = LANG_READ
    translations: dict[str, dict[str, str]] = TRANSLATIONS_READ
    overdue: bool = Field(description="Read-only, as of today (UTC): open and due before today.")
    days_overdue: int | None = Field(
        description="Read-only: today − `due_on` when overdue, else null."
    )


ActionItemPage = Page[ActionItemRead]
