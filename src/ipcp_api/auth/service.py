from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.auth.security import PasswordChecker
from ipcp_api.auth.throttle import normalise_username
from ipcp_api.models import User


async def find_user(session: AsyncSession, username: str) -> User | None:
    """The user whose username matches after NFKC and case folding (stored usernames are
    already in that form: lower-case ASCII), active or not."""
    wanted = normalise_username(username)
    # No stored username holds NUL (PostgreSQL text cannot); looking one up is a DB error.
    if "\x00" in wanted:
        return None
    user: User | None = await session.scalar(select(User).where(User.username == wanted))
    return user


async def check_credentials(checker: PasswordChecker, user: User | None, password: str) -> bool:
    """True for an active user with this password; the same cost either way (argon2 runs in
    a worker thread, never on the event loop)."""
    ok = await checker.verify(password, user.password_hash if user is not None else None)
    return user is not None and ok and user.active
