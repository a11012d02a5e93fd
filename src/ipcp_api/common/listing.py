"""One read path: a small declarative ``Spec`` per resource, one engine for every list and
every detail read.

A spec says what a resource's reads are made of:

- its **columns**, in the field order of its ``XRead`` schema (computed ones such as a
  project's progress or a milestone's ``overdue`` included), so rows come back JSON-ready in
  the order the document shows;
- how a row **reaches the partner scope** (``joins`` then ``scope_via``, a column holding
  ``programmes.partner_id`` or ``partners.id``), or that it has none (reference data, and the
  admin/staff collections whose routers refuse everybody else);
- its **filters**, as named predicates over bind parameters;
- its **sort**: a ``StrEnum`` that is the one source of the ``sort`` query parameter (its
  document and its 422) and of the ORDER BY.

The engine builds the Core statement of each *shape* (scope or not, which filters, sort,
cursor or not) once and caches it; every value is a bind parameter, so per request SQLAlchemy
finds the compiled SQL in its cache, builds nothing and makes no ORM object. A page and its
total come back in one statement (``page_with_total``), keyset-paged with the signed cursors
of ``common/pagination.py``. Writes keep the ORM.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Date, Select, bindparam, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.auth import scope
from ipcp_api.auth.actor import Actor
from ipcp_api.auth.dependencies import CALLER_COLUMNS, Caller, caller_subquery
from ipcp_api.common import i18n
from ipcp_api.common import search as folded
from ipcp_api.common.http import etag, in_id_range, json_response, not_modified
from ipcp_api.common.pagination import (
    CursorShape,
    ListParams,
    Sort,
    SortField,
    count_statement,
    cursor_values,
    fetch_page_rows,
    keyset_page,
    page_from_rows,
    page_with_total,
    parse_sort,
    rows_as_dicts,
)
from ipcp_api.common.types import MAX_BIGINT, Text
from ipcp_api.db.localized import search_column
from ipcp_api.db.session import read_connection
from ipcp_api.errors import NotFound, Unauthorized, Unavailable

Row = dict[str, Any]
"""A row as JSON-ready data, its keys in the ``XRead`` field order."""


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Filter:
    """A named predicate over the bind parameter of the same name.

    ``value`` turns the request's value into the bind value; ``joins`` is how many of the
    spec's ``joins`` it needs. A ``flag`` takes no bind value: ``true`` keeps the rows the
    predicate holds for, ``false`` the others (``overdue``).
    """

    where: Callable[[], ColumnElement[bool]]
    value: Callable[[Any], Any] | None = _same
    joins: int = 0
    flag: bool = False
    variant: Callable[[Any], str] | None = None
    """Another statement shape for some values (``q`` too short for the trigram index): the
    request's value -> a variant name, or ``""`` for ``where``."""
    variant_where: Callable[[str], ColumnElement[bool]] | None = None


def flag(where: Callable[[], ColumnElement[bool]]) -> Filter:
    """A boolean filter: ``true`` keeps the rows ``where`` holds for, ``false`` the others."""
    return Filter(where, None, flag=True)


def equals(column: Any, name: str | None = None, *, joins: int = 0) -> Filter:
    """``column = :name`` (an enum's bind value is its string)."""
    key = name or column.key

    def where() -> ColumnElement[bool]:
        condition: ColumnElement[bool] = column == bindparam(key)
        return condition

    return Filter(where, _plain, joins=joins)


def search(*sources: Any, name: str = "q") -> Filter:
    """``q``: a literal substring of any of ``sources`` after folding (``common/search.py``).
    A model (``search(Project)``) stands for its generated ``search`` column, which holds its
    code, texts and translations already folded and has a trigram index; a column is matched
    as it is (``users.username``, lowercase ASCII)."""

    columns = [search_column(s) if isinstance(s, type) else s for s in sources]

    def where() -> ColumnElement[bool]:
        return or_(*(folded.matches(column, folded.term(name)) for column in columns))

    def short(_variant: str) -> ColumnElement[bool]:
        return or_(*(folded.contains(column, folded.term(name)) for column in columns))

    # A term without three letters or digits in a row has no trigram to look up: the index
    # would return every row to recheck (a generic plan of the LIKE statement does exactly
    # that, ~10x slower than a scan). It gets a statement of its own that scans the table.
    return Filter(where, folded.check_q, variant=folded.shape, variant_where=short)


def missing_translation(model: Any, name: str = "missing_translation") -> Filter:
    """``missing_translation=<lang>``: rows with a translatable, non-null field that has no
    text in that language (``common/i18n.py``)."""
    return Filter(lambda: i18n.missing_translation(model, name), i18n.check_language)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, StrEnum) else value


@dataclass(frozen=True)
class Join:
    target: Any
    on: Callable[[], ColumnElement[bool]]


@dataclass(frozen=True, eq=False)
class Spec:
    """The reads of one resource (see the module's docstring)."""

    name: str
    """For messages: ``project 7 does not exist``."""
    model: Any
    read: type[BaseModel]
    sort: type[StrEnum]
    default_sort: str
    """A sort token: ``code``, or ``-id`` for newest first."""
    computed: Mapping[str, Callable[[], ColumnElement[Any]]] = field(default_factory=dict)
    """Columns of ``read`` that are not the model's, as expressions in the same SELECT."""
    extend: Callable[[Select[Any]], Select[Any]] | None = None
    """Adds the last columns of ``read`` with a join of their own (a LATERAL aggregate):
    applied to the page and the detail read, never to the total."""
    joins: tuple[Join, ...] = ()
    always_joins: int = 0
    """How many of ``joins`` every statement needs (a computed column reads them)."""
    scope_via: Any = None
    """The column (after all ``joins``) holding the row's partner id; None: no partner scope."""
    filters: Mapping[str, Filter] = field(default_factory=dict)
    sort_columns: Mapping[str, Any] = field(default_factory=dict)
    """``sort`` member -> column, where it is not the model's column of the same name; ties
    break on the model's ``id``."""
    values: Callable[[], Mapping[str, Any]] | None = None
    """Bind values every statement takes (``as_of`` today)."""

    def __post_init__(self) -> None:
        names = {str(member) for member in self.sort}
        if not set(self.sort_columns) <= names:
            raise ValueError(f"{self.name}: sort {sorted(names)} lacks {sorted(self.sort_columns)}")
        for name in names - set(self.sort_columns):
            if getattr(self.model, name, None) is None:
                raise ValueError(f"{self.name}: sort {name!r} is no column of {self.model}")
        if self.default_sort.removeprefix("-") not in names:
            raise ValueError(f"{self.name}: default sort {self.default_sort!r} is not a member")

    @functools.cached_property
    def sort_fields(self) -> dict[str, SortField]:
        """The ORDER BY of each ``sort`` member (the model's column of that name by default)."""
        fields = {}
        for member in self.sort:
            name = str(member)
            column = self.sort_columns.get(name, getattr(self.model, name, None))
            expression = getattr(column, "expression", column)
            fields[name] = SortField(
                column,
                self.model.id,
                nullable=bool(getattr(expression, "nullable", False)),
                is_date=isinstance(expression.type, Date),
            )
        return fields

    @functools.cached_property
    def columns(self) -> tuple[ColumnElement[Any], ...]:
        """The SELECT list: the ``read`` fields up to those ``extend`` adds, labelled."""
        out: list[ColumnElement[Any]] = []
        for name in self.read.model_fields:
            if name in self.computed:
                out.append(self.computed[name]().label(name))
            else:
                attribute = getattr(self.model, name, None)
                if attribute is None or not hasattr(attribute, "expression"):
                    break  # the rest comes from ``extend``
                out.append(attribute.expression.label(name))
        return tuple(out)


# --- statements ---------------------------------------------------------------------------------


def visible(spec: Spec, scoped: bool, *, joins: int = 0) -> Select[Any]:
    """The rows of ``spec`` the caller may see, with no columns yet (``add_columns``):
    ``scoped`` narrows them to the ``:scope`` partner (``scope.values(actor)``)."""
    needed = len(spec.joins) if scoped and spec.scope_via is not None else 0
    stmt: Select[Any] = select().select_from(spec.model)
    for join in spec.joins[: max(needed, joins, spec.always_joins)]:
        stmt = stmt.join(join.target, join.on())
    if scoped and spec.scope_via is not None:
        stmt = stmt.where(scope.bound(spec.scope_via))
    return stmt


_NOT = "!"
"""The shape of a flag filter given as ``false``: ``!overdue``."""


_VARIANT = "@"
"""The shape of a filter's variant: ``q@short``."""


def _base(name: str) -> str:
    return name.removeprefix(_NOT).partition(_VARIANT)[0]


def _predicate(spec: Spec, name: str) -> ColumnElement[bool]:
    variant = name.partition(_VARIANT)[2]
    kind = spec.filters[_base(name)]
    if variant and kind.variant_where is not None:
        return kind.variant_where(variant)
    if name.startswith(_NOT):
        return not_(kind.where())
    return kind.where()


def _rows(spec: Spec, scoped: bool, filters: tuple[str, ...]) -> Select[Any]:
    joins = max((spec.filters[_base(name)].joins for name in filters), default=0)
    stmt = visible(spec, scoped, joins=joins).add_columns(*spec.columns)
    if filters:
        stmt = stmt.where(*(_predicate(spec, name) for name in filters))
    return stmt


def _extended(spec: Spec, stmt: Select[Any]) -> Select[Any]:
    return spec.extend(stmt) if spec.extend is not None else stmt


@functools.lru_cache(maxsize=1024)
def list_statement(
    spec: Spec,
    scoped: bool,
    filters: tuple[str, ...],
    sort: str,
    cursor: CursorShape,
    gated: bool = False,
) -> Select[Any]:
    """The page and its total (``page_with_total``) of one shape of a list; ``gated``: behind
    the check of the caller's user (``caller_subquery``), whose columns come first."""
    base = _rows(spec, scoped, filters)
    order = parse_sort(sort, spec.sort_fields, spec.default_sort)
    page = keyset_page(_extended(spec, base), order, cursor)
    count = count_statement(base.with_only_columns(spec.model.id))
    return page_with_total(page, count, order, caller_subquery() if gated else None)


@functools.lru_cache(maxsize=64)
def one_statement(spec: Spec, scoped: bool) -> Select[Any]:
    """One row by ``:id``."""
    return _extended(spec, _rows(spec, scoped, ())).where(spec.model.id == bindparam("id"))


@functools.lru_cache(maxsize=64)
def gated_one_statement(spec: Spec, scoped: bool) -> Select[Any]:
    """``one_statement`` behind the check of the caller's user: ``caller LEFT JOIN row``.
    No row: the user is refused (401); the caller's columns and NULLs: no such row (404)."""
    caller = caller_subquery()
    row = one_statement(spec, scoped).subquery("row")
    return select(caller, row).select_from(caller.outerjoin(row, true()))


# --- running them -------------------------------------------------------------------------------


def _values(spec: Spec, actor: Actor) -> dict[str, Any]:
    values = dict(spec.values()) if spec.values is not None else {}
    values.update(scope.values(actor))
    return values


async def list_rows(
    session: AsyncSession,
    spec: Spec,
    actor: Actor,
    params: ListParams,
    *,
    sort: str | None = None,
    filters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A page of ``spec.read`` rows as JSON-ready data shaped like ``Page``, in one statement.

    ``filters``: name -> the request's value; ``None`` (or an empty ``q``) leaves it out."""
    order, shape, present, values = _list_shape(spec, params, sort, filters)
    values.update(_values(spec, actor))
    stmt = list_statement(spec, scope.is_scoped(actor), present, order.token, shape)
    return await fetch_page_rows(session, stmt, order, params, values)


def _list_shape(
    spec: Spec, params: ListParams, sort: str | None, filters: Mapping[str, Any] | None
) -> tuple[Sort, CursorShape, tuple[str, ...], dict[str, Any]]:
    order = parse_sort(sort, spec.sort_fields, spec.default_sort)
    shape, values = cursor_values(order, params)
    present = []
    for name, given in (filters or {}).items():
        if given is None or given == "":
            continue
        kind = spec.filters[name]
        if kind.value is not None:
            values[name] = kind.value(given)
        if kind.flag:
            present.append(name if given else _NOT + name)
        elif kind.variant is not None and (variant := kind.variant(given)):
            present.append(name + _VARIANT + variant)
        else:
            present.append(name)
    return order, shape, tuple(present), values


async def read_row(session: AsyncSession, spec: Spec, actor: Actor, ident: int) -> Row:
    """One row of ``spec.read`` as JSON-ready data, in one statement; 404 when not visible."""
    rows: list[Row] = []
    if in_id_range(ident):
        stmt = one_statement(spec, scope.is_scoped(actor))
        rows = await rows_as_dicts(session, stmt, {**_values(spec, actor), "id": ident})
    if not rows:
        raise NotFound(f"{spec.name} {ident} does not exist")
    return rows[0]


# --- a caller's read: the user checked in the same statement -----------------------------------

_ATTEMPTS = 3


async def _gated(
    caller: Caller, statement: Callable[[Actor], tuple[Select[Any], dict[str, Any]]]
) -> tuple[tuple[str, ...], list[Any]]:
    """Runs ``statement(actor)`` (a ``gated`` statement) on a plain connection, in one round
    trip: the rows' keys (the caller's columns left out) and the rows (with them).

    The shape (scoped or not, and the scope's value) comes from what this token's user was the
    last time (``Caller.known``; read on its own the first time). The statement returns the
    user as it is now: if its scope is not the guessed one, the rows are discarded and read
    again with the right one. No row: the user is gone, deactivated or the token revoked: 401.
    """
    async with read_connection(caller.request.app.state) as connection:
        actor = caller.known() or await caller.load(connection)
        for _ in range(_ATTEMPTS):
            stmt, values = statement(actor)
            result = await connection.execute(stmt, {**values, **caller.values})
            keys = tuple(map(str, result.keys()))[CALLER_COLUMNS:]
            rows = result.all()
            if not rows:
                raise Unauthorized("invalid or expired token")
            seen = caller.accept(rows[0])
            if scope.values(seen) == scope.values(actor):
                return keys, rows
            actor = seen
    raise Unavailable("the caller's user kept changing; try again")


def _as_dicts(keys: tuple[str, ...], rows: list[Any]) -> list[Row]:
    return [dict(zip(keys, row[CALLER_COLUMNS:], strict=True)) for row in rows]


async def read_visible(caller: Caller, spec: Spec, ident: int) -> Row:
    """``read_row`` for a ``Caller``: the user check and the row in one statement, on a plain
    connection; 401 when the user is refused, 404 when the row is not visible."""
    key = ident if in_id_range(ident) else None  # out of range: no row, the user still checked

    def statement(actor: Actor) -> tuple[Select[Any], dict[str, Any]]:
        values = {**_values(spec, actor), "id": key}
        return gated_one_statement(spec, scope.is_scoped(actor)), values

    keys, rows = await _gated(caller, statement)
    row = _as_dicts(keys, rows[:1])[0]
    if row["id"] is None:
        raise NotFound(f"{spec.name} {ident} does not exist")
    return row


async def list_visible(
    caller: Caller,
    spec: Spec,
    params: ListParams,
    *,
    sort: str | None = None,
    filters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``list_rows`` for a ``Caller``: the user check, the page and its total in one
    statement, on a plain connection."""
    order, shape, present, values = _list_shape(spec, params, sort, filters)
    values["page_limit"] = params.limit + 1

    def statement(actor: Actor) -> tuple[Select[Any], dict[str, Any]]:
        stmt = list_statement(spec, scope.is_scoped(actor), present, order.token, shape, True)
        return stmt, {**values, **_values(spec, actor)}

    keys, rows = await _gated(caller, statement)
    return page_from_rows(_as_dicts(keys, rows), order, params.limit, params.key)


# --- the router's side --------------------------------------------------------------------------


def sort_names(spec: Spec) -> Iterable[str]:
    return (str(member) for member in spec.sort)


def sort_query(spec: Spec) -> Any:
    """The ``sort`` query parameter of a list, documented from ``spec.sort``."""
    names = list(sort_names(spec))
    return Query(
        description=(
            f"Sort field ({', '.join(names)}); prefix `-` for descending. "
            f"Default `{spec.default_sort}`."
        ),
        max_length=64,
        json_schema_extra={"enum": [f"{sign}{name}" for name in names for sign in ("", "-")]},
    )


def next_link(request: Request, next_cursor: str | None) -> dict[str, str]:
    """The ``Link`` header to the next page, as a relative reference (path and query only:
    nothing from the ``Host`` header is reflected)."""
    if next_cursor is None:
        return {}
    url = request.url.include_query_params(cursor=next_cursor)
    return {"Link": f'<{url.path}?{url.query}>; rel="next"'}


def filter_id(description: str) -> Any:
    """An id filter: a positive integer in the database's range (else 422)."""
    return Query(ge=1, le=MAX_BIGINT, description=description)


CodeFilter = Annotated[
    Text | None,
    Query(
        min_length=1,
        max_length=64,
        description="Only the resources with exactly this `code` (case-sensitive).",
    ),
]


def page_response(request: Request, page: dict[str, Any]) -> Response:
    """A list's page (``list_rows``) written once, with its ``Link`` to the next page."""
    return json_response(page, headers=next_link(request, page["next_cursor"]))


def row_response(row: Row, if_none_match: str | None) -> Response:
    """A detail read (``read_row``): ``304`` when ``If-None-Match`` matches, else the row with
    its ``ETag``."""
    if (cached := not_modified(if_none_match, row["version"])) is not None:
        return cached
    return json_response(row, headers={"ETag": etag(row["version"])})
