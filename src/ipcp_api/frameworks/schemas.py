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
from ipcp_api.common.types import IsoDate, Text

FRAMEWORK_CODE = r"^[A-Z0-9-]{2,16}$"
# json_schema_extra: a pattern on Text is enforced but would be missing from the document.
FrameworkCode = Annotated[
    Text,
    Field(pattern=FRAMEWORK_CODE, examples=["ICI"], json_schema_extra={"pattern": FRAMEWORK_CODE}),
]
FrameworkName = Annotated[
    Text, Field(min_length=1, max_length=200, examples=["Istanbul Cooperation Initiative"])
]
Description = Annotated[Text, Field(max_length=5000)]

FrameworkTranslations = TranslationsOf("Framework", name=FrameworkName, description=Description)
FrameworkTranslationsPatch = TranslationsOf(
    "FrameworkPatch", patch=True, name=FrameworkName, description=Description
)

_EXAMPLE: dict[str, Any] = {
    "code": "ICI",
    "name": "Istanbul Cooperation Initiative",
    "launched_on": "2004-06-28",
    "description": "Practical security cooperation with the countries of the Gulf.",
    "lang": "en",
    "translations": {
        "fr": {
            "name": "Initiative de coopération d'Istanbul",
            "description": "Coopération pratique en matière de sécurité avec les pays du Golfe.",
        },
        "ar": {
            "name": "مبادرة إسطنبول للتعاون",
            "description": "تعاون عملي في مجال الأمن مع دول الخليج.",
        },
    },
}


class FrameworkCreate(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    code: FrameworkCode
    name: FrameworkName
    launched_on: IsoDate | None = None
    description: Description | None = None
    lang: Lang = Field(default_factory=default_language)
    translations: Annotated[TranslationsIn, FrameworkTranslations] = Field(default_factory=dict)


class FrameworkPatch(InputModel):
    """A JSON merge patch: absent fields stay, ``null`` clears a nullable field."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"launched_on": "2004-06-28"},
                {"translations": {"ar": {"description": None}, "fr": {"name": "ICI"}}},
            ]
        }
    )

    code: NotNull[FrameworkCode] = None
    name: NotNull[FrameworkName] = None
    launched_on: IsoDate | None = None
    description: Description | None = None
    lang: NotNull[Lang] = None
    translations: Annotated[TranslationsIn | None, FrameworkTranslationsPatch] = None


class FrameworkRead(ResourceRead):
    code: str
    name: str
    launched_on: date | None
    description: str | None
    lang: str = LANG_READ
    translations: dict[str, dict[str, str]] = TRANSLATIONS_READ


FrameworkPage = Page[FrameworkRead]
