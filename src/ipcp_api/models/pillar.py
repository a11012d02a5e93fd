from __future__ import annotations

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ipcp_api.db.base import Resource
from ipcp_api.db.localized import Localized, localized_table_args


class Pillar(Localized, Resource):
    __tablename__ = "pillars"
    __table_args__ = (
        CheckConstraint("code ~ '^[a-z0-9-]{2,64}$'", name="code"),
        CheckConstraint("char_length(name) BETWEEN 1 AND 200", name="name"),
        CheckConstraint("char_length(description) <= 5000", name="description"),
        CheckConstraint("position >= 1", name="position"),
        Index(None, "position", "id"),
        Index(None, "name", "id"),
        *localized_table_args(),
    )
    translatable = ("name", "description")
    searchable = ("code", "name", "description")
    audited_fields = ("code", "name", "description", "position", "lang", "translations")

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
