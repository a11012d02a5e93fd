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
from ipcp_api.common.schemas import InputModel, NotNull, Page, ReadModel, ResourceRead
from ipcp_api.common.types import IdRef, IsoDate, Text, integral
from ipcp_api.enums import ChairSide, ReviewFormat, ReviewStatus

# Lax so the JSON string becomes the enum member; anything unlisted is still 422.
Format = Annotated[
    ReviewFormat,
    Field(
        strict=False,
        description=(
            '`allies_plus_partner` (the allies and the partner: "28+1"), `allies_only`, '
            "`staff_talks` or `other`."
        ),
    ),
]
Status = Annotated[ReviewStatus, Field(strict=False)]
AlliesCount = Annotated[
    StrictInt,
    Field(ge=1, le=100, description="How many allies took part (28 in 2016)."),
    BeforeValidator(integral),
]
Place = Annotated[Text, Field(min_length=1, max_length=200, examples=["Brussels"])]
Summary = Annotated[Text, Field(max_length=20000)]
ChairName = Annotated[Text, Field(min_length=1, max_length=200)]


class ChairIn(InputModel):
    side: Annotated[ChairSide, Field(strict=False)]
    name: ChairName
    position: ChairName | None = None


Chairs = Annotated[list[ChairIn], Field(max_length=10, description="At most 10 chairs.")]

ReviewTranslations = TranslationsOf("Review", summary=Summary)
ReviewTranslationsPatch = TranslationsOf("ReviewPatch", patch=True, summary=Summary)

_EXAMPLE: dict[str, Any] = {
    "programme_id": 1,
    "committee_id": 1,
    "format": "allies_plus_partner",
    "allies_count": 28,
    "held_on": "2016-06-01",
    "place": "Brussels",
    "chairs": [{"side": "alliance", "name": "Chair of the PCSC", "position": None}],
    "summary": "Review of the IPCP 2016–2018 across its three pillars.",
    "status": "held",
    "lang": "en",
    "translations": {},
}


class ReviewCreate(InputModel):
    """A new review: ``planned``, or ``held`` when it records a past meeting (``held_on`` not
    after today)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    programme_id: IdRef
    committee_id: IdRef
    format: Format
    allies_count: AlliesCount | None = None
    held_on: IsoDate
    place: Place | None = None
    chairs: Chairs = Field(default_factory=list)
    summary: Summary | None = None
    status: Status = ReviewStatus.planned
    lang: Lang = Field(default_factory=default_language)
    translations: Annotated[TranslationsIn, ReviewTranslations] = Field(default_factory=dict)


class ReviewPatch(InputModel):
    """A JSON merge patch; the rules apply to the merged result."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "closed"}]})

    programme_id: NotNull[IdRef] = None
    committee_id: NotNull[IdRef] = None
    format: NotNull[Format] = None
    allies_count: AlliesCount | None = None
    held_on: NotNull[IsoDate] = None
    place: Place | None = None
    chairs: NotNull[Chairs] = None
    summary: Summary | None = None
    status: NotNull[Status] = None
    lang: NotNull[Lang] = None
    translations: Annotated[TranslationsIn | None, ReviewTranslationsPatch] = None


class ChairRead(ReadModel):
    side: ChairSide
    name: str
    position: str | None


class ReviewRead(ResourceRead):
    programme_id: int
    committee_id: int
    format: ReviewFormat
    allies_count: int | None
    held_on: date
    place: str | None
    chairs: list[ChairRead]
    summary: str | None
    status: ReviewStatus
    lang: str = LANG_READ
    translations: dict[str, dict[str, str]] = TRANSLATIONS_READ
    format_label: str | None = Field(
        description=(
            'Read-only: `"<n>+1"` for `allies_plus_partner` with n allies (`"28+1"`), '
            '`"<n>"` for `allies_only`, else null (and null while `allies_count` is null).'
        )
    )


ReviewPage = Page[ReviewRead]
