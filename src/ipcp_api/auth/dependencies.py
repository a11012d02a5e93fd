"""The caller: a bearer token checked against an active user, on every /api/v1 route."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select

from ipcp_api.auth.actor import Actor
from ipcp_api.auth.security import decode_token
from ipcp_api.common.types import MAX_BIGINT
from ipcp_api.db.session import SessionDep
from ipcp_api.enums import Role
from ipcp_api.errors import Forbidden, Unauthorized
from ipcp_api.models import User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="api/v1/auth/token", auto_error=False)


async def current_actor(
    request: Request,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Actor:
    if not token:
        raise Unauthorized("missing bearer token")
    claims = decode_token(request.app.state.secret_key, token)
    sub = claims.get("sub") if claims else None
    if not isinstance(sub, str) or not sub.isdigit() or int(sub) > MAX_BIGINT:
        raise Unauthorized("invalid or expired token")
    row = (
        await session.execute(
            select(User.id, User.username, User.role, User.partner_id, User.active).where(
                User.id == int(sub)
            )
        )
    ).first()
    if row is None or not row.active:
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
