from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ipcp_api.db.base import Resource, finite_date
from ipcp_api.db.localized import Localized, localized_table_args
from ipcp_api.db.types import StrEnumType
from ipcp_api.enums import ReviewFormat, ReviewStatus, sql_in


class Review(Localized, Resource):
    """A committee's meeting that reviews a programme (the "28+1" meetings)."""

    __tablename__ = "reviews"
    __table_args__ = (
        finite_date("held_on"),
        CheckConstraint(sql_in("format", ReviewFormat), name="format"),
        CheckConstraint(sql_in("status", ReviewStatus), name="status"),
        CheckConstraint("allies_count BETWEEN 1 AND 100", name="allies_count"),
        CheckConstraint("char_length(place) BETWEEN 1 AND 200", name="place"),
        CheckConstraint("char_length(summary) <= 20000", name="summary"),
        CheckConstraint(
            "jsonb_typeof(chairs) = 'array' AND jsonb_array_length(chairs) <= 10", name="chairs"
        ),
        Index(None, "programme_id", "held_on", "id"),
        Index(None, "committee_id", "id"),
        Index(None, "held_on", "id"),
        Index(None, "status", "id"),
        *localized_table_args(),
    )
    translatable = ("summary",)
    searchable = ("place", "summary")
    audited_fields = (
        "programme_id",
        "committee_id",
        "format",
        "allies_count",
        "held_on",
        "place",
        "chairs",
        "summary",
        "status",
        "lang",
        "translations",
    )

    programme_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("programmes.id", ondelete="RESTRICT")
    )
    committee_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("committees.id", ondelete="RESTRICT")
    )
    format: Mapped[ReviewFormat] = mapped_column(StrEnumType(ReviewFormat, 32))
    allies_count: Mapped[int | None] = mapped_column(Integer)
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(String(200))
    chairs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    summary: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ReviewStatus] = mapped_column(
        StrEnumType(ReviewStatus, 16), server_default=ReviewStatus.planned.value
    )
