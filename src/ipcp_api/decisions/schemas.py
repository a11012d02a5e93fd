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
from ipcp_api.common.types import IdRef, Text, integral
from ipcp_api.enums import DecisionKind

MAX_INT4 = 2**31 - 1

Kind = Annotated[DecisionKind, Field(strict=False)]
DecisionText = Annotated[Text, Field(min_length=1, max_length=5000)]
Position = Annotated[
    StrictInt,
    Field(ge=1, le=MAX_INT4, description="Orders a review's decisions (1 first)."),
    BeforeValidator(integral),
]

DecisionTranslations = TranslationsOf("Decision", text=DecisionText)
DecisionTranslationsPatch = TranslationsOf("DecisionPatch", patch=True, text=DecisionText)

_EXAMPLE: dict[str, Any] = {
    "review_id": 1,
    "kind": "approved",
    "text": "The committee endorsed the counter-terrorism training course.",
    "project_id": None,
    "position": 1,
    "lang": "en",
    "translations": {},
}


class DecisionCreate(InputModel):
    """A decision of a ``held`` review; ``project_id`` a project of the review's programme."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    review_id: IdRef
    kind: Kind
    text: DecisionText
    project_id: IdRef | None = None
    position: Position = 1
    lang: Lang = Field(default_factory=default_language)
    translations: Annotated[TranslationsIn, DecisionTranslations] = Field(default_factory=dict)


class DecisionPatch(InputModel):
    """A JSON merge patch; the rules apply to the merged result."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"kind": "deferred"}]})

    review_id: NotNull[IdRef] = None
    kind: NotNull[Kind] = None
    text: NotNull[DecisionText] = None
    project_id: IdRef | None = None
    position: NotNull[Position] = None
    lang: NotNull[Lang] = None
    translations: Annotated[TranslationsIn | None, DecisionTranslationsPatch] = None


class DecisionRead(ResourceRead):
    review_id: int
    kind: DecisionKind
    text: str
    project_id: int | None
    position: int
    lang: str = LANG_READ
    translations: dict[str, dict[str, str]] = TRANSLATIONS_READ


DecisionPage = Page[DecisionRead]
