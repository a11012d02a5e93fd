from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ipcp_api.db.base import Base
from ipcp_api.db.types import StrEnumType
from ipcp_api.enums import AuditAction, sql_in


class AuditEvent(Base):
    """One create, update or delete of one resource, written in the same transaction.

    ``user_id`` carries no foreign key on purpose: the trail outlives deleted users.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint(sql_in("action", AuditAction), name="action"),
        Index(None, "entity", "entity_id", "id"),
        Index(None, "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[AuditAction] = mapped_column(StrEnumType(AuditAction, 8))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB)
