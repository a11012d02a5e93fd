from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from ipcp_api.db.base import Resource, finite_date
from ipcp_api.db.localized import Localized, localized_table_args
from ipcp_api.db.types import StrEnumType
from ipcp_api.enums import ProjectStatus, sql_in


class Project(Localized, Resource):
    __tablename__ = "projects"
    __table_args__ = (
        finite_date("starts_on"),
        finite_date("ends_on"),
        CheckConstraint("char_length(code) BETWEEN 1 AND 32", name="code"),
        CheckConstraint("char_length(title) BETWEEN 1 AND 300", name="title"),
        CheckConstraint("char_length(description) <= 20000", name="description"),
        CheckConstraint("char_length(lead) BETWEEN 1 AND 200", name="lead"),
        CheckConstraint("cardinality(areas) <= 20", name="areas"),
        CheckConstraint(sql_in("status", ProjectStatus), name="status"),
        CheckConstraint("ends_on >= starts_on", name="dates"),
        UniqueConstraint("programme_id", "code"),
        Index(None, "pillar_id", "id"),
        Index(None, "status", "id"),
        Index(None, "code", "id"),
        Index(None, "title", "id"),
        Index(None, "starts_on", "id"),
        Index(None, "ends_on", "id"),
        Index(None, "areas", postgresql_using="gin"),
        *localized_table_args(),
    )
    translatable = ("title", "description")
    searchable = ("code", "title", "description", "lead")
    audited_fields = (
        "programme_id",
        "pillar_id",
        "code",
        "title",
        "description",
        "lead",
        "areas",
        "starts_on",
        "ends_on",
        "status",
        "lang",
        "translations",
    )

    programme_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("programmes.id", ondelete="RESTRICT")
    )
    pillar_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("pillars.id", ondelete="RESTRICT")
    )
    code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    lead: Mapped[str | None] = mapped_column(String(200))
    areas: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ProjectStatus] = mapped_column(
        StrEnumType(ProjectStatus, 16), server_default=ProjectStatus.planned.value
    )
