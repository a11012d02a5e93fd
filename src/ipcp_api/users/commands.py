"""``ipcp-api create-user``: create a user, or reset one's password, role and partner.

The same rules as the API (username, password length, role and partner binding), checked
here with one-line messages. The change is audited with ``user_id`` null (the command line),
the password recorded only as ``"(hidden)"``. A reset also makes an inactive user active
again: the command is how an operator lets a locked-out admin back in.
"""

from __future__ import annotations

import re

from sqlalchemy import exc as sa_exc
from sqlalchemy import select

from ipcp_api.audit import service as audit
from ipcp_api.auth.security import hash_password
from ipcp_api.config import Settings
from ipcp_api.db.session import make_engine, make_sessionmaker
from ipcp_api.enums import AuditAction, Role
from ipcp_api.models import Partner, User
from ipcp_api.users.schemas import PASSWORD_MAX, PASSWORD_MIN, USERNAME_PATTERN
from ipcp_api.users.service import PASSWORD, created_snapshot

_USERNAME = re.compile(USERNAME_PATTERN)


class CommandError(Exception):
    """A one-line message for the operator; nothing was changed."""


def _check(username: str, role: str, partner_code: str | None, password: str) -> Role:
    if not _USERNAME.match(username):
        raise CommandError(
            f"invalid username {username!r}: 3–64 characters of a–z, 0–9, '.', '_', '-'"
        )
    try:
        checked = Role(role)
    except ValueError:
        raise CommandError(
            f"invalid role {role!r}: one of {', '.join(r.value for r in Role)}"
        ) from None
    if "\x00" in password:
        raise CommandError("the password must not contain the NUL character")
    if len(password) < PASSWORD_MIN:
        raise CommandError(f"the password is too short: at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise CommandError(f"the password is too long: at most {PASSWORD_MAX} characters")
    if checked is Role.liaison and partner_code is None:
        raise CommandError("a liaison user needs --partner CODE")
    if checked in (Role.admin, Role.staff) and partner_code is not None:
        raise CommandError(f"--partner is only for liaison and viewer users, not {checked.value}")
    return checked


async def create_or_reset(
    settings: Settings,
    *,
    username: str,
    role: str,
    partner_code: str | None,
    password: str,
) -> str:
    """Create ``username``, or reset its password, role and partner; returns one line."""
    checked = _check(username, role, partner_code, password)
    password_hash = hash_password(password)
    engine = make_engine(settings)
    try:
        maker = make_sessionmaker(engine)
        async with maker() as session, session.begin():
            partner_id = None
            if partner_code is not None:
                partner_id = await session.scalar(
                    select(Partner.id).where(Partner.code == partner_code)
                )
                if partner_id is None:
                    raise CommandError(f"no partner with code {partner_code!r}")
            user = await session.scalar(
                select(User).where(User.username == username).with_for_update()
            )
            bound = f", partner {partner_code}" if partner_code is not None else ""
            if user is None:
                user = User(
                    username=username,
                    password_hash=password_hash,
                    role=checked.value,
                    partner_id=partner_id,
                    active=True,
                )
                session.add(user)
                await session.flush()
                audit.record(session, None, AuditAction.create, user, after=created_snapshot(user))
                return f"created user {username} (role {checked.value}{bound})"
            before = audit.snapshot(user)
            reactivated = not user.active
            user.password_hash = password_hash
            user.role = checked
            user.partner_id = partner_id
            user.active = True
            user.revoke_tokens()  # a new password: the tokens issued before stop working
            await session.flush()
            audit.updated_hidden(session, None, user, before, (PASSWORD,))
            again = "; active again" if reactivated else ""
            return f"reset user {username}: new password, role {checked.value}{bound}{again}"
    except sa_exc.IntegrityError:
        raise CommandError(
            f"user {username} was created by someone else meanwhile; run the command again"
        ) from None
    except (sa_exc.DBAPIError, OSError, TimeoutError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise CommandError(
            f"database error: {reason[0] if reason else type(exc).__name__}"
        ) from None
    finally:
        await engine.dispose()
