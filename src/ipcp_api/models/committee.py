from __future__ import annotations

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ipcp_api.db.base import Resource
from ipcp_api.db.localized import Localized, localized_table_args


class Committee(Localized, Resource):
    """Reference data: a body that reviews programmes (``PCSC``, ``NAC``)."""

    __tablename__ = "committees"
    __table_args__ = (
        CheckConstraint("code ~ '^[A-Z0-9-]{2,16}$'", name="code"),
        CheckConstraint("char_length(name) BETWEEN 1 AND 200", name="name"),
        CheckConstraint("char_length(description) <= 5000", name="description"),
        Index(None, "name", "id"),
        *localized_table_args(),
    )
    translatable = ("name", "description")
    searchable = ("code", "name", "description")
    audited_fields = ("code", "name", "description", "lang", "translations")

    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
