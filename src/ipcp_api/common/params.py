"""Parameters shared by routes: ids in paths, If-Match, the list page, text search."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query
from pydantic import BeforeValidator

from ipcp_api.common.pagination import ListParams, list_params
from ipcp_api.common.types import Text

_PLAIN_INTEGER = re.compile(r"0|-?[1-9][0-9]*")


def plain_integer(value: Any) -> Any:
    """An id in a path is written as a plain decimal integer: ``1.0``, ``+2``, ``02``, `` 2``
    and ``1_000`` (all of which ``int()`` would take) are 422, not another name of id 2."""
    if isinstance(value, str) and not _PLAIN_INTEGER.fullmatch(value):
        raise ValueError("must be an integer written in plain decimal digits")
    return value


# Any integer: an id beyond the database's range is simply not found (404), never a 500.
ResourceId = Annotated[
    int,
    BeforeValidator(plain_integer),
    Path(
        description="The id (a number). To find it from a code, list the collection with `code=`."
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The `ETag` you read (`"<version>"`): the change is made only if nobody'
        " changed the resource since; otherwise 412 and nothing changes. Leave it empty to"
        " change it whatever its version.",
    ),
]
IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        description="The `ETag` you already have: if it is still current the answer is 304"
        " with no body (nothing changed since you read it).",
    ),
]
PageParams = Annotated[ListParams, Depends(list_params)]
Search = Annotated[
    Text | None,
    Query(
        min_length=1,
        max_length=200,
        description="Words to look for in the codes, names and titles, in every language of"
        " the resource; upper and lower case, accents, Arabic diacritics and hamza forms,"
        " tatweel and Arabic-Indic digits all match (`امن` finds «الأَمْنُ», `2016` finds"
        " «٢٠١٦»). 1–200 characters; leave it out to list everything.",
    ),
]


def sort_query(fields: str, default: str) -> object:
    # The document lists the accepted values; the service checks them (422 naming `sort`).
    names = [name.strip() for name in fields.split(",")]
    return Query(
        description=f"Sort field ({fields}); prefix `-` for descending. Default `{default}`.",
        max_length=64,
        json_schema_extra={"enum": [f"{sign}{name}" for name in names for sign in ("", "-")]},
    )
