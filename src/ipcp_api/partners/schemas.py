from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import pycountry
from pydantic import ConfigDict, Field

from ipcp_api.common.i18n import (
    LANG_READ,
    TRANSLATIONS_READ,
    Lang,
    TranslationsIn,
    TranslationsOf,
    default_language,
)
from ipcp_api.common.schemas import InputModel, NotNull, Page, ReadModel, ResourceRead
from ipcp_api.common.types import IdRef, IsoDate, Text
from ipcp_api.enums import PartnerKind

# The shape both kinds share; the service checks the kind's own rule (ISO 3166-1 alpha-3
# for a country) so that a PATCH of only `kind` or only `code` is judged on the result.
PARTNER_CODE = r"^[A-Z0-9-]{2,16}$"
PartnerCode = Annotated[
    Text,
    Field(
        pattern=PARTNER_CODE,
        # a pattern on Text is enforced but would be missing from the document
        json_schema_extra={"pattern": PARTNER_CODE},
        description=(
            "For `kind=country` an ISO 3166-1 alpha-3 code (`BHR`); for "
            "`kind=organisation` 2–16 characters of A–Z, 0–9 and `-`."
        ),
        examples=["BHR"],
    ),
]
PartnerName = Annotated[Text, Field(min_length=1, max_length=200, examples=["Kingdom of Bahrain"])]
MembershipNote = Annotated[Text, Field(max_length=2000)]
# Request bodies arrive as parsed JSON (Python objects), where a strict enum wants an
# instance; lax here accepts exactly the enum's string values and nothing else.
KindIn = Annotated[PartnerKind, Field(strict=False)]

PartnerTranslations = TranslationsOf("Partner", name=PartnerName)
PartnerTranslationsPatch = TranslationsOf("PartnerPatch", patch=True, name=PartnerName)

_EXAMPLE: dict[str, Any] = {
    "code": "BHR",
    "kind": "country",
    "name": "Kingdom of Bahrain",
    "lang": "en",
    "translations": {"fr": {"name": "Royaume de Bahreïn"}, "ar": {"name": "مملكة البحرين"}},
    "memberships": [
        {"framework_id": 1, "joined_on": "2004-06-28", "note": "date per the ICI fact sheet"}
    ],
}


class MembershipIn(InputModel):
    """One framework the partner belongs to (each framework at most once)."""

    framework_id: IdRef
    joined_on: IsoDate | None = None
    note: MembershipNote | None = None


# The document states the country rule too: with `kind: country`, `code` is one of these.
_COUNTRY_RULE: dict[str, Any] = {
    "if": {"properties": {"kind": {"const": PartnerKind.country.value}}, "required": ["kind"]},
    "then": {"properties": {"code": {"enum": sorted(str(c.alpha_3) for c in pycountry.countries)}}},
}


MAX_MEMBERSHIPS = 100
"""A partner belongs to at most this many frameworks (there are a handful in the world)."""

Memberships = Annotated[
    list[MembershipIn],
    Field(
        max_length=MAX_MEMBERSHIPS,
        description=f"The frameworks the partner belongs to (each at most once; at most"
        f" {MAX_MEMBERSHIPS}).",
    ),
]


class PartnerCreate(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE], **_COUNTRY_RULE})

    code: PartnerCode
    kind: KindIn
    name: PartnerName
    memberships: Memberships = Field(default_factory=list)
    lang: Lang = Field(default_factory=default_language)
    translations: Annotated[TranslationsIn, PartnerTranslations] = Field(default_factory=dict)


class PartnerPatch(InputModel):
    """A JSON merge patch: absent fields stay; `memberships`, when present, replaces the list."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "Kingdom of Bahrain"},
                {"translations": {"ar": {"name": "مملكة البحرين"}}},
            ]
        }
    )

    code: NotNull[PartnerCode] = None
    kind: NotNull[KindIn] = None
    name: NotNull[PartnerName] = None
    memberships: NotNull[Memberships] = None
    lang: NotNull[Lang] = None
    translations: Annotated[TranslationsIn | None, PartnerTranslationsPatch] = None


class MembershipRead(ReadModel):
    framework_id: int
    joined_on: date | None
    note: str | None


class PartnerRead(ResourceRead):
    code: str
    kind: PartnerKind
    name: str
    memberships: list[MembershipRead] = Field(description="Ordered by `framework_id`.")
    lang: str = LANG_READ
    translations: dict[str, dict[str, str]] = TRANSLATIONS_READ


PartnerPage = Page[PartnerRead]
