from __future__ import annotations

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
from ipcp_api.common.types import Text

COMMITTEE_CODE = r"^[A-Z0-9-]{2,16}$"
CommitteeCode = Annotated[
    Text,
    Field(pattern=COMMITTEE_CODE, examples=["PCSC"], json_schema_extra={"pattern": COMMITTEE_CODE}),
]
CommitteeName = Annotated[
    Text,
    Field(
        min_length=1, max_length=200, examples=["Partnerships and Cooperative Security Committee"]
    ),
]
Description = Annotated[Text, Field(max_length=5000)]

CommitteeTranslations = TranslationsOf("Committee", name=CommitteeName, description=Description)
CommitteeTranslationsPatch = TranslationsOf(
    "CommitteePatch", patch=True, name=CommitteeName, description=Description
)

_EXAMPLE: dict[str, Any] = {
    "code": "MC",
    "name": "Military Committee",
    "description": None,
    "lang": "en",
    "translations": {"fr": {"name": "Comité militaire"}, "ar": {"name": "اللجنة العسكرية"}},
}


class CommitteeCreate(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    code: CommitteeCode
    name: CommitteeName
    description: Description | None = None
    lang: Lang = Field(default_factory=default_language)
    translations: Annotated[TranslationsIn, CommitteeTranslations] = Field(default_factory=dict)


class CommitteePatch(InputModel):
    """A JSON merge patch: absent fields stay, ``null`` clears a nullable field."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Military Committee"}]})

    code: NotNull[CommitteeCode] = None
    name: NotNull[CommitteeName] = None
    description: Description | None = None
    lang: NotNull[Lang] = None
    translations: Annotated[TranslationsIn | None, CommitteeTranslationsPatch] = None


class CommitteeRead(ResourceRead):
    code: str
    name: str
    description: str | None
    lang: str = LANG_READ
    translations: dict[str, dict[str, str]] = TRANSLATIONS_READ


CommitteePage = Page[CommitteeRead]
