"""The caller: a bearer token checked against an active user, on every /api/v1 route.

Every protected route depends on ``token_caller`` (the token's signature and expiry: 401
without a database); the user is then checked either by ``current_actor`` (a statement of
its own) or, for the list and detail reads, in the statement that reads the rows
(``Caller``, ``common/listing.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from cachetools import LRUCache
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Subquery, Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ipcp_api.auth.actor import Actor
from ipcp_api.auth.security import TokenVerifier
from ipcp_api.db.session import SessionDep
from ipcp_api.enums import Role
from ipcp_api.errors import Forbidden, Unauthorized
from ipcp_api.models import User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="api/v1/auth/token", auto_error=False)

_users: Table = User.__table__  # type: ignore[assignment]
# Built once (a Core statement; building and keying an ORM select cost ~10 % of a detail
# request). Run on the request's own connection: it is the request's first statement.
# The token's version must still be the user's: a new password, role or partner, or a
# deactivation, bumps it and so revokes every token issued before (in the same statement).
_ACTIVE_USER = select(_users.c.id, _users.c.username, _users.c.role, _users.c.partner_id).where(
    _users.c.id == bindparam("user_id"),
    _users.c.active,
    _users.c.token_version == bindparam("token_version"),
)


def _actor(row: Any) -> Actor:
    return Actor(
        user_id=row.id, username=row.username, role=Role(row.role), partner_id=row.partner_id
    )


# --- the read path: the user checked in the same statement as the rows -------------------------

CALLER_COLUMNS = 4
"""The caller's columns that lead every row of a ``Caller``'s read (``caller_subquery``)."""


def caller_subquery() -> Subquery:
    """``_ACTIVE_USER`` as a FROM item (``caller``) that a read joins its rows to: no row when
    the user is gone, deactivated or the token's version is no longer the user's."""
    user = _users.alias("caller_user")
    return (
        select(
            user.c.id.label("caller_id"),
            user.c.username.label("caller_username"),
            user.c.role.label("caller_role"),
            user.c.partner_id.label("caller_partner_id"),
        )
        .where(
            user.c.id == bindparam("caller_user_id"),
            user.c.active,
            user.c.token_version == bindparam("caller_token_version"),
        )
        .subquery("caller")
    )


class KnownActors:
    """What each (user id, token version) was the last time a statement read it, per process.

    Only a guess, used to pick the shape of a read (scoped or not, and the scope's value): the
    read's own statement checks the user again and returns the user's role and partner, and a
    read whose guess proved wrong is discarded and run again (``common/listing.py``). So a
    change that bumps no token version cannot widen what anybody sees."""

    def __init__(self, size: int = 4096) -> None:
        self._known: LRUCache[tuple[int, int], Actor] = LRUCache(maxsize=size)

    def get(self, subject: tuple[int, int]) -> Actor | None:
        return self._known.get(subject)

    def remember(self, subject: tuple[int, int], actor: Actor) -> None:
        self._known[subject] = actor


@dataclass(frozen=True)
class Caller:
    """A bearer token whose signature and expiry hold; its user is not read yet. A list or
    detail read (``common/listing.py``) checks the user in the statement that reads the rows:
    one round trip instead of two, and still refused at once after a deactivation or a token
    version bump (on every worker and replica: the check is in the database)."""

    request: Request
    user_id: int
    token_version: int

    @property
    def values(self) -> dict[str, int]:
        return {"caller_user_id": self.user_id, "caller_token_version": self.token_version}

    def known(self) -> Actor | None:
        known: KnownActors = self.request.app.state.known_actors
        return known.get((self.user_id, self.token_version))

    def accept(self, row: Any) -> Actor:
        """The user as the read's statement saw it (its first ``CALLER_COLUMNS``), remembered;
        the request is now this user's."""
        actor = Actor(user_id=row[0], username=row[1], role=Role(row[2]), partner_id=row[3])
        known: KnownActors = self.request.app.state.known_actors
        known.remember((self.user_id, self.token_version), actor)
        self.request.state.user_id = actor.user_id
        return actor

    @property
    def user_values(self) -> dict[str, int]:
        return {"user_id": self.user_id, "token_version": self.token_version}

    async def load(self, connection: AsyncConnection) -> Actor:
        """The user read on its own (the first read of this token version in this process)."""
        row = (await connection.execute(_ACTIVE_USER, self.user_values)).first()
        if row is None:
            raise Unauthorized("invalid or expired token")
        return self.accept(tuple(row))


async def token_caller(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Caller:
    """The bearer token checked (signature, expiry), the user not yet: see ``Caller``."""
    if not token:
        raise Unauthorized("missing bearer token")
    tokens: TokenVerifier = request.app.state.tokens
    subject = tokens.subject(token)
    if subject is None:
        raise Unauthorized("invalid or expired token")
    return Caller(request, subject[0], subject[1])


CallerDep = Annotated[Caller, Depends(token_caller)]


async def current_actor(request: Request, session: SessionDep, caller: CallerDep) -> Actor:
    """The caller's user, read on its own (every route but the list and detail reads, which
    check it in their own statement: ``Caller``)."""
    connection = await session.connection()
    row = (await connection.execute(_ACTIVE_USER, caller.user_values)).first()
    if row is None:  # no such user any more, deactivated, or the token revoked: refused at once
        raise Unauthorized("invalid or expired token")
    actor = _actor(row)
    request.state.user_id = actor.user_id
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


async def require_admin(actor: CurrentActor) -> Actor:
    if actor.role is not Role.admin:
        raise Forbidden("only an admin may do this")
    return actor


async def require_staff(actor: CurrentActor) -> Actor:
    if not actor.is_staff:
        raise Forbidden("only admin and staff users may do this")
    return actor


AdminActor = Annotated[Actor, Depends(require_admin)]
StaffActor = Annotated[Actor, Depends(require_staff)]
