from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ipcp_api.db.base import Resource, finite_date
from ipcp_api.db.localized import Localized, localized_table_args
from ipcp_api.db.types import StrEnumType
from ipcp_api.enums import ActionStatus, OwnerSide, sql_in


class ActionItem(Localized, Resource):
    """Follow-up agreed at a review, owned by the alliance or the partner."""

    __tablename__ = "action_items"
    __table_args__ = (
        finite_date("due_on"),
        finite_date("completed_on"),
        CheckConstraint("char_length(title) BETWEEN 1 AND 300", name="title"),
        CheckConstraint("char_length(owner) BETWEEN 1 AND 200", name="owner"),
        CheckConstraint(sql_in("owner_side", OwnerSide), name="owner_side"),
        CheckConstraint(sql_in("status", ActionStatus), name="status"),
        CheckConstraint("(status = 'done') = (completed_on IS NOT NULL)", name="completed_on"),
        Index(None, "review_id", "due_on", "id"),
        Index(None, "decision_id"),
        Index(None, "project_id"),
        Index(None, "milestone_id"),
        Index(None, "due_on", "id"),
        Index(None, "status", "id"),
        *localized_table_args(),
    )
    translatable = ("title",)
    searchable = ("title", "owner")
    audited_fields = (
        "review_id",
        "decision_id",
        "title",
        "owner",
        "owner_side",
        "due_on",
        "status",
        "completed_on",
        "project_id",
        "milestone_id",
        "lang",
        "translations",
    )

    review_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("reviews.id", ondelete="RESTRICT")
    )
    decision_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("decisions.id", ondelete="RESTRICT")
    )
    title: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str] = mapped_column(String(200))
    owner_side: Mapped[OwnerSide] = mapped_column(StrEnumType(OwnerSide, 16))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ActionStatus] = mapped_column(
        StrEnumType(ActionStatus, 16), server_default=ActionStatus.open.value
    )
    completed_on: Mapped[date | None] = mapped_column(Date)
    project_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("projects.id", ondelete="RESTRICT")
    )
    milestone_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("milestones.id", ondelete="RESTRICT")
    )
