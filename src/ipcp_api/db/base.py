"""Declarative base, naming convention and the columns every resource shares."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Integer, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

# Constraint names are the error map (DESIGN.md, convention 9): errors.py reads them back.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}


def finite_date(column: str) -> CheckConstraint:
    """``CHECK (isfinite(column))``: a date is a calendar date, never ``±infinity``.

    The service never writes an infinite date (``db/session.py`` encodes ``date.min`` and
    ``date.max`` exactly); the constraint keeps anything else from storing one, since an
    infinite date breaks date arithmetic in every report (``cannot subtract infinite dates``).
    """
    return CheckConstraint(f"isfinite({column})", name=f"{column}_finite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Resource(Base):
    """id, created_at, updated_at and an optimistic-concurrency ``version``."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, sort_order=-10)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), sort_order=10
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), sort_order=10
    )
    version: Mapped[int] = mapped_column(Integer, server_default="1", sort_order=10)

    # Writable fields whose change is recorded in the audit trail (set per model).
    audited_fields: ClassVar[tuple[str, ...]] = ()

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version, "eager_defaults": True}
