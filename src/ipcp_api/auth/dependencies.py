"""The caller: a bearer token checked against an active user, on every /api/v1 route."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Table, bindparam, select

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


async def current_actor(
    request: Request,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Actor:
    if not token:
        raise Unauthorized("missing bearer token")
    tokens: TokenVerifier = request.app.state.tokens
    subject = tokens.subject(token)
    if subject is None:
        raise Unauthorized("invalid or expired token")
    user_id, token_version = subject
    connection = await session.connection()
    row = (
        await connection.execute(_ACTIVE_USER, {"user_id": user_id, "token_version": token_version})
    ).first()
    if row is None:  # no such user any more, deactivated, or the token revoked: refused at once
        raise Unauthorized("invalid or expired token")
    actor = Actor(
        user_id=row.id, username=row.username, role=Role(row.role), partner_id=row.partner_id
    )
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
