from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ipcp_api.db.base import Resource, finite_date
from ipcp_api.db.localized import Localized, localized_table_args


class Framework(Localized, Resource):
    __tablename__ = "frameworks"
    __table_args__ = (
        finite_date("launched_on"),
        CheckConstraint("code ~ '^[A-Z0-9-]{2,16}$'", name="code"),
        CheckConstraint("char_length(name) BETWEEN 1 AND 200", name="name"),
        CheckConstraint("char_length(description) <= 5000", name="description"),
        Index(None, "name", "id"),
        Index(None, "launched_on", "id"),
        *localized_table_args(),
    )
    translatable = ("name", "description")
    searchable = ("code", "name", "description")
    audited_fields = ("code", "name", "launched_on", "description", "lang", "translations")

    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    launched_on: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)
