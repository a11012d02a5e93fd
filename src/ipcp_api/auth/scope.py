"""The partner scope, in one place: what a caller bound to one partner may see.

A liaison (and a viewer bound to a partner) sees only the rows that reach its partner through
``programmes.partner_id`` (or ``partners.id``); admins, staff and unbound viewers see every
row. This is the only module that reads ``Actor.partner_scope`` (``tests/test_architecture.py``
checks it on the syntax tree): every read and every lock of a write starts from a statement
narrowed here, so out-of-scope rows vanish from lists, totals, reports and single reads.

Two forms of the same rule:

- ``restrict(stmt, actor, via=column)``: the caller's partner as a literal value (writes,
  locks, one-off statements);
- ``bound(via=column)`` + ``values(actor)``: a ``:scope`` bind parameter, for statements
  built once per shape and cached (the read path); ``is_scoped(actor)`` picks the shape.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, select

from ipcp_api.auth.actor import Actor
from ipcp_api.models import Partner, Programme

S = TypeVar("S", bound=Select[*tuple[Any, ...]])

SCOPE_PARAM = "scope"


def partner_of(actor: Actor) -> int | None:
    """The one partner this caller may see, or None for every partner."""
    return actor.partner_scope


def is_scoped(actor: Actor) -> bool:
    """Whether the caller sees only one partner's rows (the shape of a cached statement)."""
    return actor.partner_scope is not None


def values(actor: Actor) -> dict[str, Any]:
    """The value of the ``:scope`` bind parameter of a statement built with ``bound``."""
    scope = actor.partner_scope
    return {SCOPE_PARAM: scope} if scope is not None else {}


def bound(via: Any) -> ColumnElement[bool]:
    """``via`` (a column holding a partner id) equal to the ``:scope`` bind parameter."""
    condition: ColumnElement[bool] = via == bindparam(SCOPE_PARAM)
    return condition


def restrict(stmt: S, actor: Actor, *, via: Any) -> S:
    """``stmt`` narrowed to the rows whose ``via`` (a partner id column) the caller may see."""
    scope = actor.partner_scope
    if scope is None:
        return stmt
    narrowed: S = stmt.where(via == scope)
    return narrowed


def visible_programmes(actor: Actor) -> Select[Any]:
    """Programmes (ORM entities) the caller may see."""
    return restrict(select(Programme), actor, via=Programme.partner_id)


def visible_partners(actor: Actor) -> Select[Any]:
    """Partners (ORM entities) the caller may see."""
    return restrict(select(Partner), actor, via=Partner.id)


def visible_partner_id(actor: Actor, partner_id: int) -> Select[Any]:
    """``partner_id`` if the caller may see that partner (no row otherwise)."""
    return restrict(select(Partner.id).where(Partner.id == partner_id), actor, via=Partner.id)
