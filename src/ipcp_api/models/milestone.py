from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ipcp_api.db.base import Resource, finite_date
from ipcp_api.db.localized import Localized, localized_table_args
from ipcp_api.db.types import StrEnumType
from ipcp_api.enums import MilestoneState, sql_in


class Milestone(Localized, Resource):
    __tablename__ = "milestones"
    __table_args__ = (
        finite_date("due_on"),
        finite_date("completed_on"),
        CheckConstraint("char_length(title) BETWEEN 1 AND 300", name="title"),
        CheckConstraint("char_length(ref) BETWEEN 1 AND 32", name="ref"),
        UniqueConstraint("project_id", "ref"),
        CheckConstraint("weight BETWEEN 1 AND 100", name="weight"),
        CheckConstraint(sql_in("state", MilestoneState), name="state"),
        CheckConstraint("(state = 'done') = (completed_on IS NOT NULL)", name="completed_on"),
        Index(None, "project_id", "due_on", "id"),
        Index(None, "due_on", "id"),
        Index(None, "title", "id"),
        Index(None, "weight", "id"),
        Index(None, "state", "id"),
        *localized_table_args(),
    )
    translatable = ("title",)
    searchable = ("ref", "title")
    audited_fields = (
        "project_id",
        "ref",
        "title",
        "due_on",
        "weight",
        "state",
        "completed_on",
        "lang",
        "translations",
    )

    project_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("projects.id", ondelete="RESTRICT")
    )
    ref: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date] = mapped_column(Date)
    weight: Mapped[int] = mapped_column(Integer, server_default="1")
    state: Mapped[MilestoneState] = mapped_column(
        StrEnumType(MilestoneState, 16), server_default=MilestoneState.pending.value
    )
    completed_on: Mapped[date | None] = mapped_column(Date)
