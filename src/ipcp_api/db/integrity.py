"""The database-error map: SQLSTATE + constraint name -> ApiError (never the message text)."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy import exc as sa_exc

from ipcp_api.db.base import Base
from ipcp_api.errors import (
    ApiError,
    ConflictChildren,
    ConflictInFlight,
    ConflictUnique,
    Invalid,
    Unavailable,
)


def _constraint_index() -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """constraint name -> (kind, table, columns) from the models' metadata."""
    index: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            name = str(constraint.name) if constraint.name else None
            if not name:
                continue
            columns = tuple(column.name for column in getattr(constraint, "columns", ()))
            kind = type(constraint).__name__
            index[name] = (kind, table.name, columns)
    return index


_CONSTRAINTS: dict[str, tuple[str, str, tuple[str, ...]]] | None = None

# CHECK constraints whose name is not the field they guard.
_CHECK_FIELD = {"dates": "ends_on", "approved_on": "status"}


def asyncpg_error(exc: sa_exc.DBAPIError) -> Any:
    orig = exc.orig
    cause = getattr(orig, "__cause__", None)
    return cause if isinstance(cause, asyncpg.PostgresError) else orig


_CHILDREN = {
    "framework_memberships": "partners are still members of it",
    "programmes": "it still has programmes",
    "projects": "it still has projects",
    "milestones": "it still has milestones",
    "users": "users are still bound to it",
    "reviews": "it still has reviews",
    "decisions": "it still has decisions (or decisions refer to it)",
    "action_items": "it still has action items (or action items refer to it)",
}


def is_data_exception(exc: sa_exc.DBAPIError) -> bool:
    """SQLSTATE class 22: a value the database cannot compute with (data exception)."""
    sqlstate = getattr(asyncpg_error(exc), "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith("22")


def from_db_error(exc: sa_exc.DBAPIError, *, deleting: bool = False) -> ApiError:
    """Map a database error to an ApiError by SQLSTATE and constraint name (never the text)."""
    global _CONSTRAINTS
    if _CONSTRAINTS is None:
        _CONSTRAINTS = _constraint_index()
    error = asyncpg_error(exc)
    sqlstate = getattr(error, "sqlstate", None)
    constraint = getattr(error, "constraint_name", None) or ""
    _kind, owner, columns = _CONSTRAINTS.get(constraint, ("", "", ()))
    if sqlstate == "23505":  # unique_violation
        field = columns[-1] if columns else "id"
        detail = f"{field}: this value is already taken"
        return ConflictUnique(detail, errors=[{"loc": ["body", field], "msg": detail}])
    if sqlstate == "23001":  # restrict_violation: ON DELETE RESTRICT from PostgreSQL 18 on
        return ConflictChildren(
            f"cannot delete: {_CHILDREN.get(owner, 'other resources refer to it')}"
        )
    if sqlstate == "23503":  # foreign_key_violation (ON DELETE RESTRICT up to PostgreSQL 17)
        if deleting:
            return ConflictChildren(
                f"cannot delete: {_CHILDREN.get(owner, 'other resources refer to it')}"
            )
        field = columns[0] if columns else "id"
        return Invalid(("body", field), "refers to a resource that does not exist")
    if sqlstate == "23514":  # check_violation
        prefix = f"{owner}_"
        name = constraint[len(prefix) : -len("_check")] if constraint.startswith(prefix) else ""
        field = _CHECK_FIELD.get(name, name.removesuffix("_finite") or "body")
        return Invalid(("body", field), f"violates the rule {constraint}")
    if sqlstate in {"23502", "22001", "22003", "22007", "22008", "22P02", "22021"}:
        return Invalid(("body",), "a value is missing, too long or out of range")
    if sqlstate in {"40001", "40P01", "55P03"}:  # serialization, deadlock, lock not available
        return ConflictInFlight("the resource is being changed by another request; try again")
    if sqlstate == "57014":  # query_canceled (statement_timeout)
        return Unavailable("the request took too long; try again shortly")
    if exc.connection_invalidated or isinstance(error, OSError | asyncpg.InterfaceError):
        return Unavailable()
    # Several hosts, every one answering, none accepting writes (a failover under way):
    # asyncpg's TargetServerAttributeNotMatched, with no SQLSTATE.
    if isinstance(getattr(exc.orig, "__cause__", None), asyncpg.TargetServerAttributeNotMatched):
        return Unavailable("no database server accepts writes right now; try again shortly")
    # 08 connection, 53 resources (too many connections), 57 shutdown/operator intervention;
    # 28 and 3D: the server refuses this service's role or database (a rotated password, a
    # database being restored) — the service is unavailable, not broken: 503, never 500.
    if sqlstate is not None and sqlstate.startswith(("08", "28", "3D", "53", "57")):
        return Unavailable()
    raise exc
