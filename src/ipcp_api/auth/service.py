from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.auth.security import verify_password
from ipcp_api.models import User


async def authenticate(session: AsyncSession, *, username: str, password: str) -> User | None:
    """The active user with these credentials, or None; the same cost either way."""
    # No stored username holds NUL (PostgreSQL text cannot); looking one up is a DB error.
    user = (
        None
        if "\x00" in username
        else await session.scalar(select(User).where(User.username == username))
    )
    ok = verify_password(password, user.password_hash if user is not None else None)
    if user is None or not ok or not user.active:
        return None
    return user
