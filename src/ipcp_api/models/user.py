from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from ipcp_api.db.base import Resource
from ipcp_api.db.types import StrEnumType
from ipcp_api.enums import Role, sql_in


class User(Resource):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("username ~ '^[a-z0-9._-]{3,64}$'", name="username"),
        CheckConstraint(sql_in("role", Role), name="role"),
        CheckConstraint(
            "(role = 'liaison' AND partner_id IS NOT NULL)"
            " OR role = 'viewer'"
            " OR (role IN ('admin', 'staff') AND partner_id IS NULL)",
            name="partner_id",
        ),
        Index(None, "partner_id"),
    )
    # The password hash is never audited.
    audited_fields = ("username", "role", "partner_id", "active")

    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(StrEnumType(Role, 16))
    partner_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("partners.id", ondelete="RESTRICT")
    )
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    # In every access token; bumped by a new password, role or partner and by deactivation,
    # which revokes every token issued before (auth/dependencies.py). Never audited.
    token_version: Mapped[int] = mapped_column(Integer, server_default="0")

    def revoke_tokens(self) -> None:
        """Make every token issued so far invalid (the row must be locked: FOR UPDATE)."""
        self.token_version = self.token_version + 1
