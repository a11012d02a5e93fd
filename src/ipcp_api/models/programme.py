from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ipcp_api.db.base import Resource, finite_date
from ipcp_api.db.localized import Localized, localized_table_args
from ipcp_api.db.types import StrEnumType
from ipcp_api.enums import ProgrammeKind, ProgrammeStatus, sql_in


class Programme(Localized, Resource):
    __tablename__ = "programmes"
    __table_args__ = (
        finite_date("starts_on"),
        finite_date("ends_on"),
        finite_date("approved_on"),
        CheckConstraint("code ~ '^[A-Z0-9-]{2,32}$'", name="code"),
        CheckConstraint("char_length(title) BETWEEN 1 AND 300", name="title"),
        CheckConstraint("char_length(description) <= 20000", name="description"),
        CheckConstraint(sql_in("kind", ProgrammeKind), name="kind"),
        CheckConstraint(sql_in("status", ProgrammeStatus), name="status"),
        CheckConstraint("ends_on >= starts_on", name="dates"),
        CheckConstraint(
            "approved_on IS NOT NULL OR status NOT IN ('approved', 'active', 'completed')",
            name="approved_on",
        ),
        # Unique among the partner's programmes only: a code-wide key would tell a liaison,
        # through a 409, that another partner uses a code (API.md, Programmes).
        UniqueConstraint("partner_id", "code"),
        Index(None, "code", "id"),
        Index(None, "partner_id", "id"),
        Index(None, "status", "id"),
        Index(None, "kind", "id"),
        Index(None, "title", "id"),
        Index(None, "starts_on", "id"),
        Index(None, "ends_on", "id"),
        *localized_table_args(),
    )
    translatable = ("title", "description")
    searchable = ("code", "title", "description")
    audited_fields = (
        "partner_id",
        "code",
        "title",
        "kind",
        "starts_on",
        "ends_on",
        "description",
        "status",
        "approved_on",
        "lang",
        "translations",
    )

    partner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("partners.id", ondelete="RESTRICT")
    )
    code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[ProgrammeKind] = mapped_column(
        StrEnumType(ProgrammeKind, 8), server_default=ProgrammeKind.IPCP.value
    )
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ProgrammeStatus] = mapped_column(
        StrEnumType(ProgrammeStatus, 16), server_default=ProgrammeStatus.draft.value
    )
    approved_on: Mapped[date | None] = mapped_column(Date)
