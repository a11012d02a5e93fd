from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ipcp_api.db.base import Resource
from ipcp_api.db.types import StrEnumType
from ipcp_api.enums import ImportStatus, sql_in


class DataImport(Resource):
    """An uploaded spreadsheet of a programme's projects and milestones: its parsed rows, the
    plan and the errors (JSONB), kept in PostgreSQL so that any replica can commit it."""

    __tablename__ = "imports"
    __table_args__ = (
        CheckConstraint(sql_in("status", ImportStatus), name="status"),
        CheckConstraint("char_length(sha256) = 64", name="sha256"),
        Index(None, "expires_at"),
        Index(None, "programme_id"),
    )

    programme_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("programmes.id", ondelete="CASCADE")
    )
    user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    status: Mapped[ImportStatus] = mapped_column(StrEnumType(ImportStatus, 16))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    plan: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    rows: Mapped[dict[str, Any]] = mapped_column(JSONB)
    committed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now() + interval '7 days'")
    )
