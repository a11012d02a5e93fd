from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field

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
from ipcp_api.enums import ProjectStatus, Schedule

AREA_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
"""An area tag: lowercase words of a–z and 0–9 joined by single hyphens, 1–64 characters."""
AREA_MAX_LENGTH = 64
MAX_AREAS = 20

ProjectCode = Annotated[Text, Field(min_length=1, max_length=32, examples=["CT-COURSE-1"])]
ProjectTitle = Annotated[
    Text, Field(min_length=1, max_length=300, examples=["Counter-terrorism training course"])
]
Description = Annotated[Text, Field(max_length=20000)]
Lead = Annotated[Text, Field(min_length=1, max_length=200, examples=["Ministry of Interior"])]
AreaTag = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=AREA_MAX_LENGTH,
        pattern=AREA_PATTERN,
        examples=["counter-terrorism"],
        # the pattern is enforced either way; this also shows it in the OpenAPI document
        json_schema_extra={"pattern": AREA_PATTERN},
    ),
]


def _distinct(tags: list[str]) -> list[str]:
    seen: set[str] = set()
    for tag in tags:
        if tag in seen:
            raise ValueError(f"duplicate area {tag!r}: each area may appear once")
        seen.add(tag)
    return tags


Areas = Annotated[
    list[AreaTag],
    Field(
        max_length=MAX_AREAS,
        json_schema_extra={"uniqueItems": True},
        description=(
            "Distinct lowercase tags (at most 20), each 1–64 characters matching "
            "`^[a-z0-9]+(-[a-z0-9]+)*$`, e.g. `counter-terrorism`."
        ),
    ),
    AfterValidator(_distinct),
]
# Enum values arrive as JSON strings: the field is lax so "planned" becomes the enum member
# (strict mode would demand an instance); anything but a listed value is still 422.
Status = Annotated[ProjectStatus, Field(strict=False)]

ProjectTranslations = TranslationsOf("Project", title=ProjectTitle, description=Description)
ProjectTranslationsPatch = TranslationsOf(
    "ProjectPatch", patch=True, title=ProjectTitle, description=Description
)

_EXAMPLE: dict[str, Any] = {
    "programme_id": 1,
    "pillar_id": 2,
    "code": "CT-COURSE-1",
    "title": "Counter-terrorism training course",
    "description": "A two-week course for officers of the Ministry of Interior.",
    "lead": "Ministry of Interior",
    "areas": ["counter-terrorism", "training"],
    "starts_on": "2016-09-01",
    "ends_on": "2017-06-30",
    "status": "planned",
    "lang": "en",
    "translations": {
        "fr": {
            "title": "Cours de formation à la lutte contre le terrorisme",
            "description": "Un cours de deux semaines pour des officiers du ministère de"
            " l'Intérieur.",
        },
        "ar": {
            "title": "دورة تدريبية في مكافحة الإرهاب",
            "description": "دورة لمدة أسبوعين لضباط وزارة الداخلية.",
        },
    },
}


class ProjectCreate(InputModel):
    """A new project. ``starts_on`` and ``ends_on`` must lie inside the programme's period."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    programme_id: IdRef
    pillar_id: IdRef
    code: ProjectCode
    title: ProjectTitle
    description: Description | None = None
    lead: Lead | None = None
    areas: Areas = Field(default_factory=list)
    starts_on: IsoDate
    ends_on: IsoDate
    status: Status = ProjectStatus.planned
    lang: Lang = Field(default_factory=default_language)
    translations: Annotated[TranslationsIn, ProjectTranslations] = Field(default_factory=dict)


class ProjectPatch(InputModel):
    """A JSON merge patch: absent fields stay, ``null`` clears ``description`` or ``lead``.

    The rules apply to the merged result. ``programme_id`` moves the project to another
    programme the caller can see, if the project's dates fit inside its period.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "in_progress", "lead": None},
                {"translations": {"fr": {"title": "Cours de lutte contre le terrorisme"}}},
            ]
        }
    )

    programme_id: NotNull[IdRef] = None
    pillar_id: NotNull[IdRef] = None
    code: NotNull[ProjectCode] = None
    title: NotNull[ProjectTitle] = None
    description: Description | None = None
    lead: Lead | None = None
    areas: NotNull[Areas] = None
    starts_on: NotNull[IsoDate] = None
    ends_on: NotNull[IsoDate] = None
    status: NotNull[Status] = None
    lang: NotNull[Lang] = None
    translations: Annotated[TranslationsIn | None, ProjectTranslationsPatch] = None


class ProjectRead(ResourceRead):
    programme_id: int
    pillar_id: int
    code: str
    title: str
    description: str | None
    lead: str | None
    areas: list[str]
    starts_on: date
    ends_on: date
    status: ProjectStatus
    lang: str = LANG_READ
    translations: dict[str, dict[str, str]] = TRANSLATIONS_READ
    progress: float | None = Field(
        description="Weight done by today over the counted weight (4 places); null when none."
    )
    expected_progress: float | None = Field(
        description="Weight due by today over the counted weight (4 places); null when none."
    )
    schedule: Schedule = Field(description="complete, late, behind, on_track or not_planned.")


ProjectPage = Page[ProjectRead]
