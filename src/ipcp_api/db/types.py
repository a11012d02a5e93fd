"""Column types: enumerations kept as ``varchar`` + CHECK in the database, enums in Python."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

E = TypeVar("E", bound=StrEnum)


class StrEnumType(TypeDecorator[E], Generic[E]):
    """A ``StrEnum`` stored as ``varchar(length)`` (the CHECK constraint lists the values).

    Reads give the enum's members (so services compare and dispatch without casting); writes
    and bind parameters take a member or its plain string. Not a PostgreSQL enum type: adding
    a value stays a CHECK change, and the migration's column types are unchanged.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:  # noqa: ARG002
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:  # noqa: ARG002
        return None if value is None else self.enum(value)

    @property
    def python_type(self) -> type[E]:
        return self.enum
