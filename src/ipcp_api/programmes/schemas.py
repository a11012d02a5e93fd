from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import ConfigDict, Field, WithJsonSchema

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
from ipcp_api.enums import ProgrammeKind, ProgrammeStatus

PROGRAMME_CODE = r"^[A-Z0-9-]{2,32}$"
# json_schema_extra: a pattern on Text is enforced but would be missing from the document.
ProgrammeCode = Annotated[
    Text,
    Field(
        pattern=PROGRAMME_CODE,
        examples=["BHR-IPCP-2016"],
        json_schema_extra={"pattern": PROGRAMME_CODE},
    ),
]
ProgrammeTitle = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=300,
        examples=["Individual Partnership and Cooperation Programme, Bahrain 2016–2018"],
    ),
]
Description = Annotated[Text, Field(max_length=20000)]
# Request bodies are validated as Python objects, where strict mode wants enum instances: the
# enums alone are lax, which accepts exactly their string values (and nothing else).
Kind = Annotated[ProgrammeKind, Field(strict=False)]
Status = Annotated[ProgrammeStatus, Field(strict=False)]
# A new programme is always a draft: the document offers `draft` only (any other is 422).
NewStatus = Annotated[
    Status,
    WithJsonSchema({"type": "string", "enum": [ProgrammeStatus.draft.value], "title": "Status"}),
]

ProgrammeTranslations = TranslationsOf("Programme", title=ProgrammeTitle, description=Description)
ProgrammeTranslationsPatch = TranslationsOf(
    "ProgrammePatch", patch=True, title=ProgrammeTitle, description=Description
)

_EXAMPLE: dict[str, Any] = {
    "partner_id": 1,
    "code": "BHR-IPCP-2016",
    "title": "Individual Partnership and Cooperation Programme, Bahrain 2016–2018",
    "kind": "IPCP",
    "starts_on": "2016-06-01",
    "ends_on": "2018-06-30",
    "description": "Agreed with the Kingdom of Bahrain under the Istanbul Cooperation Initiative.",
    "lang": "en",
    "translations": {
        "fr": {
            "title": "Programme individuel de partenariat et de coopération, Bahreïn 2016–2018",
            "description": "Convenu avec le Royaume de Bahreïn dans le cadre de l'Initiative de"
            " coopération d'Istanbul.",
        },
        "ar": {
            "title": "برنامج الشراكة والتعاون الفردي، البحرين 2016–2018",
            "description": "اتُّفق عليه مع مملكة البحرين في إطار مبادرة إسطنبول للتعاون.",
        },
    },
}


class ProgrammeCreate(InputModel):
    """A new programme. It always starts as ``draft``: ``status`` may be sent only as
    ``draft``; any other value is 422 (use the workflow afterwards)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    partner_id: IdRef
    code: ProgrammeCode
    title: ProgrammeTitle
    kind: Kind = ProgrammeKind.IPCP
    starts_on: IsoDate
    ends_on: IsoDate
    description: Description | None = None
    status: NewStatus = ProgrammeStatus.draft
    lang: Lang = Field(default_factory=default_language)
    translations: Annotated[TranslationsIn, ProgrammeTranslations] = Field(default_factory=dict)


class ProgrammePatch(InputModel):
    """A JSON merge patch: absent fields stay, ``null`` clears ``description``.

    ``status`` moves the programme through its workflow; ``approved_on`` is read-only.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "submitted"},
                {"translations": {"ar": {"title": "برنامج الشراكة والتعاون الفردي"}}},
            ]
        }
    )

    partner_id: NotNull[IdRef] = None
    code: NotNull[ProgrammeCode] = None
    title: NotNull[ProgrammeTitle] = None
    kind: NotNull[Kind] = None
    starts_on: NotNull[IsoDate] = None
    ends_on: NotNull[IsoDate] = None
    description: Description | None = None
    status: NotNull[Status] = None
    lang: NotNull[Lang] = None
    translations: Annotated[TranslationsIn | None, ProgrammeTranslationsPatch] = None


class ProgrammeRead(ResourceRead):
    partner_id: int
    code: str
    title: str
    kind: ProgrammeKind
    starts_on: date
    ends_on: date
    description: str | None
    status: ProgrammeStatus
    approved_on: date | None
    lang: str = LANG_READ
    translations: dict[str, dict[str, str]] = TRANSLATIONS_READ


ProgrammePage = Page[ProgrammeRead]
