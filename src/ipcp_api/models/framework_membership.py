from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from ipcp_api.db.base import Base, finite_date


class FrameworkMembership(Base):
    """A partner's membership of a framework; owned by the partner (deleted with it)."""

    __tablename__ = "framework_memberships"
    __table_args__ = (
        finite_date("joined_on"),
        CheckConstraint("char_length(note) <= 2000", name="note"),
        Index(None, "framework_id"),
    )

    partner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    framework_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("frameworks.id", ondelete="RESTRICT"), primary_key=True
    )
    joined_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
