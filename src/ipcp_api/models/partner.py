from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ipcp_api.db.base import Resource
from ipcp_api.db.localized import Localized, localized_table_args
from ipcp_api.db.types import StrEnumType
from ipcp_api.enums import PartnerKind, sql_in

if TYPE_CHECKING:
    from ipcp_api.models.framework_membership import FrameworkMembership


class Partner(Localized, Resource):
    __tablename__ = "partners"
    __table_args__ = (
        CheckConstraint(sql_in("kind", PartnerKind), name="kind"),
        CheckConstraint(
            "(kind = 'country' AND code ~ '^[A-Z]{3}$')"
            " OR (kind = 'organisation' AND code ~ '^[A-Z0-9-]{2,16}$')",
            name="code",
        ),
        CheckConstraint("char_length(name) BETWEEN 1 AND 200", name="name"),
        Index(None, "name", "id"),
        Index(None, "kind"),
        *localized_table_args(),
    )
    translatable = ("name",)
    searchable = ("code", "name")
    audited_fields = ("code", "kind", "name", "memberships", "lang", "translations")

    code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[PartnerKind] = mapped_column(StrEnumType(PartnerKind, 16))
    name: Mapped[str] = mapped_column(String(200))

    memberships: Mapped[list[FrameworkMembership]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="FrameworkMembership.framework_id",
    )
