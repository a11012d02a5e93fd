"""Annotated types for request bodies and query strings: strict, NUL-free, round-tripping."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StrictInt, StrictStr, WithJsonSchema

MAX_BIGINT = 2**63 - 1
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain the NUL character")
    try:
        # JSON may escape half a surrogate pair ("\ud800"): not text, cannot be stored
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no unpaired surrogate)") from None
    return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a real calendar date (YYYY-MM-DD)") from None


Text = Annotated[StrictStr, AfterValidator(_no_nul)]
"""Any text: a JSON string without NUL (or unpaired surrogate), kept exactly as sent."""

IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "example": "2017-06-30"}),
]
"""A calendar date written ``YYYY-MM-DD``; numbers and other formats are rejected."""


def integral(value: Any) -> Any:
    """``BeforeValidator`` of integer inputs, after their ``Field`` constraints:
    ``Annotated[StrictInt, Field(ge=1), BeforeValidator(integral)]``.

    JSON has one number type: ``4.0`` is the integer 4 (and an integer to JSON Schema, so to
    the OpenAPI document). ``4.5``, ``"4"`` and ``true`` are still 422.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


IdRef = Annotated[StrictInt, Field(ge=1, le=MAX_BIGINT), BeforeValidator(integral)]
"""A reference to another resource by id."""


def text(min_length: int = 0, max_length: int | None = None, pattern: str | None = None) -> Any:
    """``Text`` with length bounds and an optional pattern."""
    return Annotated[Text, Field(min_length=min_length, max_length=max_length, pattern=pattern)]
