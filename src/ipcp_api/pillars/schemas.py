from __future__ import annotations

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
from ipcp_api.common.types import Text, integral

MAX_INT4 = 2**31 - 1

PILLAR_CODE = r"^[a-z0-9-]{2,64}$"
# json_schema_extra: a pattern on Text is enforced but would be missing from the document.
PillarCode = Annotated[
    Text,
    Field(
        pattern=PILLAR_CODE,
        examples=["political-diplomatic"],
        json_schema_extra={"pattern": PILLAR_CODE},
    ),
]
PillarName = Annotated[
    Text,
    Field(min_length=1, max_length=200, examples=["Political and diplomatic cooperation"]),
]
Description = Annotated[Text, Field(max_length=5000)]
Position = Annotated[
    StrictInt,
    Field(ge=1, le=MAX_INT4, description="Orders pillars in reports (1 first).", examples=[4]),
    BeforeValidator(integral),
]

PillarTranslations = TranslationsOf("Pillar", name=PillarName, description=Description)
PillarTranslationsPatch = TranslationsOf(
    "PillarPatch", patch=True, name=PillarName, description=Description
)

_EXAMPLE: dict[str, Any] = {
    "code": "capacity-building",
    "name": "Capacity building",
    "description": "Training and advice for the partner's institutions.",
    "position": 4,
    "lang": "en",
    "translations": {
        "fr": {
            "name": "Renforcement des capacités",
            "description": "Formation et conseil pour les institutions du partenaire.",
        },
        "ar": {"name": "بناء القدرات", "description": "التدريب والمشورة لمؤسسات الشريك."},
    },
}


class PillarCreate(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    code: PillarCode
    name: PillarName
    description: Description | None = None
    position: Position
    lang: Lang = Field(default_factory=default_language)
    translations: Annotated[TranslationsIn, PillarTranslations] = Field(default_factory=dict)


class PillarPatch(InputModel):
    """A JSON merge patch: absent fields stay, ``null`` clears a nullable field."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"position": 2}, {"translations": {"fr": {"name": "Renforcement"}}}]
        }
    )

    code: NotNull[PillarCode] = None
    name: NotNull[PillarName] = None
    description: Description | None = None
    position: NotNull[Position] = None
    lang: NotNull[Lang] = None
    translations: Annotated[TranslationsIn | None, PillarTranslationsPatch] = None


class PillarRead(ResourceRead):
    code: str
    name: str
    description: str | None
    position: int
    lang: str = LANG_READ
    translations: dict[str, dict[str, str]] = TRANSLATIONS_READ


PillarPage = Page[PillarRead]
