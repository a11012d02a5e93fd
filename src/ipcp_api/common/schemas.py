"""Base schemas: strict, closed inputs; outputs read from ORM objects."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class InputModel(BaseModel):
    """Request bodies: unknown (and read-only) fields are an error, nothing is coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ResourceRead(ReadModel):
    id: int
    created_at: datetime
    updated_at: datetime
    version: int


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    next_cursor: str | None
