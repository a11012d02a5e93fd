"""Base schemas: strict, closed inputs; outputs read from ORM objects."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

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


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("may not be null")
    return value


def _document_without_null(schema: dict[str, Any]) -> None:
    options = schema.pop("anyOf", None)
    if options is not None:
        kept = [option for option in options if option != {"type": "null"}]
        if len(kept) == 1:
            for key, value in kept[0].items():
                schema.setdefault(key, value)
        else:
            schema["anyOf"] = kept
    if "default" in schema and schema["default"] is None:
        del schema["default"]


NotNull = Annotated[
    T | None, AfterValidator(_not_null), Field(json_schema_extra=_document_without_null)
]
"""A merge-patch field that may be left out but not cleared: ``code: NotNull[Code] = None``.

Absent, it stays ``None`` (and out of ``model_fields_set``); an explicit ``null`` is a 422
naming the field, before any If-Match is looked at. The document shows it without ``null``.
"""
