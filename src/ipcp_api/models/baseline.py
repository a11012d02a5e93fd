"""Baselines: frozen copies of a programme's plan (issue 17).

``baseline_projects`` and ``baseline_milestones`` hold *copies*: they keep the live ids
(``project_id``, ``milestone_id``, ``pillar_id``) as plain numbers with no foreign key, so a copy
survives the deletion of what it copied. Only ``baselines.programme_id`` is a foreign key (a
programme's baselines go with it). The copies keep ``lang`` and ``translations`` of the titles,
so a plan read in Arabic names a project or milestone deleted since.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ipcp_api.db.base import Base, Resource, finite_date
from ipcp_api.db.types import StrEnumType
from ipcp_api.enums import BaselineKind, MilestoneState, ProjectStatus, sql_in


class Baseline(Resource):
    __tablename__ = "baselines"
    __table_args__ = (
        CheckConstraint(sql_in("kind", BaselineKind), name="kind"),
        CheckConstraint("char_length(name) BETWEEN 1 AND 200", name="name"),
        CheckConstraint("char_length(note) <= 2000", name="note"),
        # one approval baseline per programme, ever
        Index(
            "baselines_programme_id_approval_key",
            "programme_id",
            unique=True,
            postgresql_where=text("kind = 'approval'"),
        ),
        Index(None, "programme_id", "id"),
    )
    audited_fields = ("programme_id", "kind", "name", "note", "taken_at", "taken_by")

    programme_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("programmes.id", ondelete="CASCADE")
    )
    kind: Mapped[BaselineKind] = mapped_column(StrEnumType(BaselineKind, 16))
    name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # the user who took it; no foreign key (users may be deleted, the record stays)
    taken_by: Mapped[int | None] = mapped_column(BigInteger)
    projects: Mapped[int] = mapped_column(Integer, server_default="0")
    milestones: Mapped[int] = mapped_column(Integer, server_default="0")


class BaselineProject(Base):
    __tablename__ = "baseline_projects"
    __table_args__ = (finite_date("starts_on"), finite_date("ends_on"))

    baseline_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("baselines.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    pillar_id: Mapped[int] = mapped_column(BigInteger)
    code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    lang: Mapped[str] = mapped_column(String(8))
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(JSONB)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[ProjectStatus] = mapped_column(StrEnumType(ProjectStatus, 16))


class BaselineMilestone(Base):
    __tablename__ = "baseline_milestones"
    __table_args__ = (
        finite_date("due_on"),
        finite_date("completed_on"),
        Index(None, "baseline_id", "project_id"),
    )

    baseline_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("baselines.id", ondelete="CASCADE"), primary_key=True
    )
    milestone_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    project_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(300))
    lang: Mapped[str] = mapped_column(String(8))
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(JSONB)
    due_on: Mapped[date] = mapped_column(Date)
    weight: Mapped[int] = mapped_column(Integer)
    state: Mapped[MilestoneState] = mapped_column(StrEnumType(MilestoneState, 16))
    completed_on: Mapped[date | None] = mapped_column(Date)
