"""User accounts. Admins only (the router checks), except ``me``.

Rules: ``partner_id`` is required for ``liaison``, optional for ``viewer`` and null for
``admin`` and ``staff`` (422 naming ``partner_id``); an admin may not delete, deactivate or
demote themself (409), so nobody locks themself out by mistake. Passwords are stored only as
argon2 hashes; the audit trail records a password as ``"(hidden)"``, never a value or a hash.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from ipcp_api.audit import service as audit
from ipcp_api.auth.actor import Actor
from ipcp_api.auth.security import hash_password
from ipcp_api.common import listing
from ipcp_api.common.crud import apply, check_exists, delete_row, one_or_404, patch_values
from ipcp_api.common.http import check_if_match
from ipcp_api.common.listing import equals, search
from ipcp_api.enums import AuditAction, Role
from ipcp_api.errors import Conflict, Invalid
from ipcp_api.models import Partner, User
from ipcp_api.users.schemas import UserCreate, UserPatch, UserRead


class UserSort(StrEnum):
    username = "username"
    role = "role"


LISTING = listing.Spec(
    name="user",
    model=User,
    read=UserRead,
    sort=UserSort,
    default_sort="username",
    filters={
        "q": search(User.username),
        "role": equals(User.role),
        "partner_id": equals(User.partner_id),
        "active": equals(User.active),
    },
)
"""Every user: only admins reach the collection (``me`` reads the caller's own row)."""
NULLABLE = ("partner_id",)
PASSWORD = "password"


def readable(_actor: Actor) -> Select[Any]:
    """Every user; only admins reach the collection (``me`` reads the caller's own row)."""
    return select(User)


def partner_rule(role: Role | str, partner_id: int | None) -> str | None:
    """Why ``partner_id`` does not fit ``role``, or None when it does."""
    if role == Role.liaison and partner_id is None:
        return "required when role is liaison"
    if role in (Role.admin, Role.staff) and partner_id is not None:
        return f"must be null when role is {Role(role).value}"
    return None


async def _check_partner(
    session: AsyncSession, role: Role | str, partner_id: int | None, *, changed: bool
) -> None:
    problem = partner_rule(role, partner_id)
    if problem is not None:
        raise Invalid(("body", "partner_id"), problem)
    if changed:
        stmt = select(Partner.id).where(Partner.id == partner_id)
        await check_exists(session, stmt, "partner_id", partner_id)


async def _hash(password: str) -> str:
    # argon2 is slow on purpose: keep it off the event loop.
    return await run_in_threadpool(hash_password, password)


def created_snapshot(user: User) -> dict[str, Any]:
    """The audited fields plus the password, hidden."""
    return audit.snapshot(user) | {PASSWORD: audit.HIDDEN}


async def get_user(
    session: AsyncSession, actor: Actor, user_id: int, *, for_update: bool = False
) -> User:
    stmt = readable(actor).where(User.id == user_id)
    if for_update:
        stmt = stmt.with_for_update()
    user: User = await one_or_404(session, stmt, "user", user_id)
    return user


async def _lock_active_admins(session: AsyncSession) -> set[int]:
    """Lock every active admin's row (in id order, so two callers never deadlock) and return
    their ids. Two admins demoting each other at once are serialised here: the second sees
    the first's change once it commits (READ COMMITTED re-checks a locked row) (API.md)."""
    stmt = (
        select(User.id)
        .where(User.role == Role.admin.value, User.active)
        .order_by(User.id)
        .with_for_update()
    )
    return set((await session.scalars(stmt)).all())


def _keep_an_admin(admins: set[int], user: User, *, role: str, active: bool) -> None:
    """409 when the change would leave no active admin."""
    if user.id in admins and (role != Role.admin.value or not active) and not admins - {user.id}:
        raise Conflict("there must always be at least one active admin")


async def create_user(session: AsyncSession, actor: Actor, data: UserCreate) -> User:
    await _check_partner(session, data.role, data.partner_id, changed=data.partner_id is not None)
    user = User(
        username=data.username,
        password_hash=await _hash(data.password),
        role=data.role,
        partner_id=data.partner_id,
        active=data.active,
    )
    session.add(user)
    await session.flush()
    audit.record(session, actor, AuditAction.create, user, after=created_snapshot(user))
    return user


async def update_user(
    session: AsyncSession,
    actor: Actor,
    user_id: int,
    patch: UserPatch,
    *,
    if_match: str | None,
) -> User:
    # A change of role or active may remove an admin: lock the admins first (always before
    # the user's own row, so the lock order is the same for everyone).
    admins = (
        await _lock_active_admins(session) if {"role", "active"} & patch.model_fields_set else None
    )
    user = await get_user(session, actor, user_id, for_update=True)
    check_if_match(if_match, user.version)
    values = patch_values(patch, nullable=NULLABLE)
    password = values.pop(PASSWORD, None)
    if user.id == actor.user_id:
        if values.get("active") is False:
            raise Conflict("you cannot deactivate yourself; ask another admin")
        if values.get("role", user.role) != user.role:
            raise Conflict("you cannot change your own role; ask another admin")
    role = values.get("role", user.role)
    if admins is not None:
        _keep_an_admin(admins, user, role=role, active=values.get("active", user.active))
    partner_id = values.get("partner_id", user.partner_id)
    await _check_partner(
        session, role, partner_id, changed=partner_id is not None and partner_id != user.partner_id
    )
    # What a token stood for changes: every token issued before stops working at once
    # (a reactivation too, so that it never revives the tokens of before the deactivation).
    revoke = password is not None or any(
        name in values and values[name] != getattr(user, name)
        for name in ("role", "partner_id", "active")
    )
    before = audit.snapshot(user)
    apply(user, values)
    if password is not None:
        # A new salted hash every time: a password in the patch is always a change.
        user.password_hash = await _hash(password)
    if revoke:
        user.revoke_tokens()
    await session.flush()
    audit.updated_hidden(session, actor, user, before, (PASSWORD,) if password is not None else ())
    return user


async def delete_user(
    session: AsyncSession, actor: Actor, user_id: int, *, if_match: str | None
) -> None:
    admins = await _lock_active_admins(session)
    user = await get_user(session, actor, user_id, for_update=True)
    if user.id == actor.user_id:
        raise Conflict("you cannot delete yourself; ask another admin")
    check_if_match(if_match, user.version)
    _keep_an_admin(admins, user, role="", active=False)
    before = created_snapshot(user)
    await delete_row(session, user)
    audit.deleted(session, actor, user, before)
