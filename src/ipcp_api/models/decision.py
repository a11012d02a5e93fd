from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from ipcp_api.db.base import Resource
from ipcp_api.db.localized import Localized, localized_table_args
from ipcp_api.db.types import StrEnumType
from ipcp_api.enums import DecisionKind, sql_in


class Decision(Localized, Resource):
    """What a review decided."""

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint(sql_in("kind", DecisionKind), name="kind"),
        CheckConstraint("char_length(text) BETWEEN 1 AND 5000", name="text"),
        CheckConstraint("position >= 1", name="position"),
        Index(None, "review_id", "position", "id"),
        Index(None, "project_id"),
        Index(None, "position", "id"),
        Index(None, "kind", "id"),
        *localized_table_args(),
    )
    translatable = ("text",)
    searchable = ("text",)
    audited_fields = ("review_id", "kind", "text", "project_id", "position", "lang", "translations")

    review_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("reviews.id", ondelete="RESTRICT")
    )
    kind: Mapped[DecisionKind] = mapped_column(StrEnumType(DecisionKind, 32))
    text: Mapped[str] = mapped_column(Text)
    project_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("projects.id", ondelete="RESTRICT")
    )
    position: Mapped[int] = mapped_column(Integer, server_default="1")
