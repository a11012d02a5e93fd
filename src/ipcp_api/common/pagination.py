"""Keyset pagination: signed opaque cursors, ``sort`` parsing, one statement for a page and
its total (``common/listing.py`` builds the statements from each resource's spec)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import Query, Request
from sqlalchemy import Integer, Select, Subquery, and_, bindparam, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ColumnElement

from ipcp_api.errors import Invalid

DEFAULT_LIMIT = 50
# The shape of a cursor (base64url payload, ".", 24 hex digits of signature), for the
# document only: decode_cursor answers anything it did not sign with its own 422.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]*\.[0-9a-f]{24}$"
MAX_LIMIT = 200


Column = QueryableAttribute[Any] | ColumnElement[Any]


@dataclass(frozen=True)
class SortField:
    column: Column
    id_column: Column
    nullable: bool = False
    is_date: bool = False


@dataclass(frozen=True)
class Sort:
    name: str
    descending: bool
    field: SortField

    @property
    def token(self) -> str:
        return ("-" if self.descending else "") + self.name


def parse_sort(value: str | None, fields: Mapping[str, SortField], default: str) -> Sort:
    raw = value if value is not None else default
    descending = raw.startswith("-")
    name = raw[1:] if descending else raw
    if name not in fields:
        allowed = ", ".join(sorted(fields))
        raise Invalid(("query", "sort"), f"unknown sort field {name!r}; sortable: {allowed}")
    return Sort(name=name, descending=descending, field=fields[name])


@dataclass(frozen=True)
class ListParams:
    limit: int
    cursor: str | None
    key: bytes
    # Older signing keys (IPCP_SECRET_KEYS after the first): their cursors are still accepted.
    old_keys: tuple[bytes, ...] = ()


async def list_params(
    request: Request,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Page size, 1–200.")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            max_length=512,
            description="The `next_cursor` of the previous page.",
            json_schema_extra={"pattern": CURSOR_PATTERN},
        ),
    ] = None,
) -> ListParams:
    # A coroutine on purpose: FastAPI runs a plain function dependency in a worker thread.
    state = request.app.state
    return ListParams(
        limit=limit, cursor=cursor, key=state.cursor_key, old_keys=state.old_cursor_keys
    )


def cursor_key(secret_key: str) -> bytes:
    """The key that signs list cursors, derived from the service's secret key."""
    return hashlib.sha256(b"cursor:" + secret_key.encode()).digest()


def _sign(key: bytes, payload: bytes) -> str:
    return hmac.new(key, payload, hashlib.sha256).hexdigest()[:24]


def encode_cursor(key: bytes, sort: Sort, value: Any, last_id: int) -> str:
    if isinstance(value, date):
        value = value.isoformat()
    payload = orjson.dumps([sort.token, value, last_id])
    token = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{token}.{_sign(key, payload)}"


def decode_cursor(key: bytes, sort: Sort, cursor: str, *old_keys: bytes) -> tuple[Any, int]:
    bad = Invalid(("query", "cursor"), "not a cursor this API issued")
    token, _, signature = cursor.partition(".")
    try:
        payload = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise bad from None
    # bytes: compare_digest refuses a str with non-ASCII characters (a TypeError, a 500)
    given = signature.encode("utf-8", "replace")
    if not any(hmac.compare_digest(_sign(k, payload).encode(), given) for k in (key, *old_keys)):
        raise bad
    sort_token, value, last_id = orjson.loads(payload)
    if sort_token != sort.token:
        raise Invalid(("query", "cursor"), "the cursor belongs to another sort order")
    if sort.field.is_date and value is not None:
        value = date.fromisoformat(value)
    return value, int(last_id)


def _after(sort: Sort, value: Any, last_id: int) -> ColumnElement[bool]:
    """Rows after (value, last_id) in ORDER BY col [DESC], id [DESC] (NULLS LAST ascending)."""
    col, id_col = sort.field.column, sort.field.id_column
    if not sort.descending:
        if value is None:
            return and_(col.is_(None), id_col > last_id)
        clauses = [col > value, and_(col == value, id_col > last_id)]
        if sort.field.nullable:
            clauses.append(col.is_(None))
        return or_(*clauses)
    if value is None:
        return or_(and_(col.is_(None), id_col < last_id), col.is_not(None))
    return or_(col < value, and_(col == value, id_col < last_id))


def order_by(sort: Sort) -> list[ColumnElement[Any]]:
    col, id_col = sort.field.column, sort.field.id_column
    if sort.descending:
        return [col.desc(), id_col.desc()]
    return [col.asc(), id_col.asc()]


# --- one statement per list "shape", rows as JSON-ready dicts ---------------------------------
# ``common/listing.py`` builds the statements once per shape (scope, which filters, sort,
# cursor) with a bind parameter for every value, caches them, and runs them with
# ``fetch_page_rows``: SQLAlchemy neither builds a statement nor computes a cache key per
# request, and no ORM object is made.


CursorShape = str | None
"""``None`` (first page), ``"value"`` or ``"null"`` (the cursor's sort value is NULL)."""


def cursor_values(sort: Sort, params: ListParams) -> tuple[CursorShape, dict[str, Any]]:
    """The shape of the request's cursor and its bind values (422 if this API did not sign it)."""
    if params.cursor is None:
        return None, {}
    value, last_id = decode_cursor(params.key, sort, params.cursor, *params.old_keys)
    if value is None:
        return "null", {"cursor_id": last_id}
    return "value", {"cursor_value": value, "cursor_id": last_id}


def keyset_page(stmt: Select[Any], sort: Sort, cursor: CursorShape) -> Select[Any]:
    """``stmt`` as a page: the sort key added, rows after ``:cursor_value``/``:cursor_id``,
    ordered, at most ``:page_limit`` rows (``fetch_page_rows`` asks for one more)."""
    col, id_col = sort.field.column, sort.field.id_column
    page = stmt.add_columns(col.label("sort_value"), id_col.label("sort_id"))
    last_id: Any = bindparam("cursor_id", type_=id_col.type)
    if cursor == "value":
        page = page.where(_after(sort, bindparam("cursor_value", type_=col.type), last_id))
    elif cursor == "null":
        page = page.where(_after(sort, None, last_id))
    return page.order_by(*order_by(sort)).limit(bindparam("page_limit", type_=Integer))


def count_statement(stmt: Select[Any]) -> Select[Any]:
    return select(func.count()).select_from(stmt.order_by(None).limit(None).subquery())


def page_with_total(
    page: Select[Any], count: Select[Any], sort: Sort, caller: Subquery | None = None
) -> Select[Any]:
    """The total and the page in one statement: ``total LEFT JOIN page``, every page row
    carrying ``page_total`` (one row of NULLs and the total when the page is empty).

    One round trip instead of two, and the total and the rows come from the same snapshot (a
    read runs in autocommit: two statements could see different commits). With ``caller`` (a
    one-row check of the caller's user): ``caller LEFT JOIN total LEFT JOIN page``, its
    columns first; no row at all when the check fails."""
    totals = count.subquery("totals")
    rows = page.subquery("page")
    key = (rows.c.sort_value, rows.c.sort_id)
    joined = totals.outerjoin(rows, true())
    columns: list[Any] = [totals.c[0].label("page_total"), rows]
    if caller is not None:
        joined = caller.outerjoin(totals, true()).outerjoin(rows, true())
        columns.insert(0, caller)
    return (
        select(*columns)
        .select_from(joined)
        .order_by(*(column.desc() if sort.descending else column.asc() for column in key))
    )


async def rows_as_dicts(
    session: AsyncSession, stmt: Executable, values: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The rows of a Core statement as dicts, on the session's connection and transaction.

    Skips the ORM's result machinery and Row attribute lookups, which for a report of
    thousands of rows cost more than the query itself (the lists and reports use it)."""
    connection = await session.connection()
    result = await connection.execute(stmt, dict(values))
    keys = tuple(map(str, result.keys()))  # plain str: orjson refuses str subclasses
    return [dict(zip(keys, row, strict=True)) for row in result]


def page_from_rows(
    rows: list[dict[str, Any]], sort: Sort, limit: int, key: bytes
) -> dict[str, Any]:
    """The rows of a ``page_with_total`` statement (asked for ``limit + 1``) as a JSON-ready
    page (``items``, ``total``, ``limit``, ``next_cursor``), shaped like ``Page``."""
    total = int(rows[0]["page_total"])  # always one row at least: the totals side
    if rows[0]["sort_id"] is None:  # the page is empty
        rows = []
    next_cursor = None
    if len(rows) > limit:
        del rows[limit:]
        last = rows[-1]
        next_cursor = encode_cursor(key, sort, last["sort_value"], int(last["sort_id"]))
    for row in rows:
        del row["page_total"], row["sort_value"], row["sort_id"]
    return {"items": rows, "total": total, "limit": limit, "next_cursor": next_cursor}


async def fetch_page_rows(
    session: AsyncSession,
    stmt: Select[Any],
    sort: Sort,
    params: ListParams,
    values: Mapping[str, Any],
) -> dict[str, Any]:
    """One statement (built by ``page_with_total`` over ``keyset_page``): a JSON-ready page."""
    rows = await rows_as_dicts(session, stmt, {**values, "page_limit": params.limit + 1})
    return page_from_rows(rows, sort, params.limit, params.key)
