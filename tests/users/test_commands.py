"""``ipcp-api create-user``: these tests commit for real, so each one cleans up after itself."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select

from ipcp_api import cli
from ipcp_api.auth.security import verify_password
from ipcp_api.config import Settings
from ipcp_api.db.session import make_engine, make_sessionmaker
from ipcp_api.models import AuditEvent, Partner, User
from ipcp_api.users.commands import CommandError, create_or_reset

PASSWORD = "a long enough passphrase"


class Db:
    """Committed reads and writes on the test database, outside the test's transaction."""

    def __init__(self, settings: Settings) -> None:
        self.engine = make_engine(settings)
        self.maker = make_sessionmaker(self.engine)
        self.usernames: list[str] = []
        self.partner_codes: list[str] = []

    async def user(self, username: str) -> User | None:
        async with self.maker() as session:
            user: User | None = await session.scalar(select(User).where(User.username == username))
            return user

    async def events(self, user_id: int) -> list[AuditEvent]:
        async with self.maker() as session:
            return list(
                (
                    await session.scalars(
                        select(AuditEvent)
                        .where(AuditEvent.entity == "users", AuditEvent.entity_id == user_id)
                        .order_by(AuditEvent.id)
                    )
                ).all()
            )

    async def count_users(self) -> int:
        async with self.maker() as session:
            return int(await session.scalar(select(func.count()).select_from(User)) or 0)

    async def partner(self) -> Partner:
        code = f"CLI-{uuid.uuid4().hex[:8].upper()}"
        self.partner_codes.append(code)
        async with self.maker() as session, session.begin():
            partner = Partner(code=code, kind="organisation", name=f"Partner {code}")
            session.add(partner)
        return partner

    async def deactivate(self, username: str) -> None:
        async with self.maker() as session, session.begin():
            user = await session.scalar(select(User).where(User.username == username))
            assert user is not None
            user.active = False

    async def cleanup(self) -> None:
        async with self.maker() as session, session.begin():
            ids = (
                await session.scalars(select(User.id).where(User.username.in_(self.usernames)))
            ).all()
            await session.execute(
                delete(AuditEvent).where(
                    AuditEvent.entity == "users", AuditEvent.entity_id.in_(ids)
                )
            )
            await session.execute(delete(User).where(User.id.in_(ids)))
            await session.execute(delete(Partner).where(Partner.code.in_(self.partner_codes)))
        await self.engine.dispose()


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Db]:
    db = Db(settings)
    try:
        yield db
    finally:
        await db.cleanup()


def _name(db: Db) -> str:
    name = f"cli.{uuid.uuid4().hex[:10]}"
    db.usernames.append(name)
    return name


async def _run(settings: Settings, **kw: Any) -> str:
    kw.setdefault("partner_code", None)
    kw.setdefault("password", PASSWORD)
    return await create_or_reset(settings, **kw)


async def test_create_then_reset(settings: Settings, db: Db) -> None:
    name = _name(db)
    message = await _run(settings, username=name, role="admin")
    assert message == f"created user {name} (role admin)"
    user = await db.user(name)
    assert user is not None
    assert user.role == "admin"
    assert user.partner_id is None
    assert user.active is True
    assert user.password_hash.startswith("$argon2")
    assert verify_password(PASSWORD, user.password_hash)

    new = "another long passphrase"
    message = await _run(settings, username=name, role="staff", password=new)
    assert message == f"reset user {name}: new password, role staff"
    reset = await db.user(name)
    assert reset is not None
    assert reset.id == user.id
    assert reset.role == "staff"
    assert reset.version == 2
    assert verify_password(new, reset.password_hash)
    assert not verify_password(PASSWORD, reset.password_hash)

    events = await db.events(user.id)
    assert [(e.action, e.user_id) for e in events] == [("create", None), ("update", None)]
    assert events[0].changes == {
        "username": [None, name],
        "role": [None, "admin"],
        "partner_id": [None, None],
        "active": [None, True],
        "password": [None, "(hidden)"],
    }
    assert events[1].changes == {
        "role": ["admin", "staff"],
        "password": ["(hidden)", "(hidden)"],
    }
    assert "argon2" not in str([e.changes for e in events])


async def test_partner_binding(settings: Settings, db: Db) -> None:
    partner = await db.partner()
    name = _name(db)
    message = await _run(settings, username=name, role="liaison", partner_code=partner.code)
    assert message == f"created user {name} (role liaison, partner {partner.code})"
    user = await db.user(name)
    assert user is not None
    assert user.partner_id == partner.id
    # a reset sets the partner as given: a viewer without --partner sees all partners
    await _run(settings, username=name, role="viewer")
    user = await db.user(name)
    assert user is not None
    assert (user.role, user.partner_id) == ("viewer", None)
    await _run(settings, username=name, role="viewer", partner_code=partner.code)
    user = await db.user(name)
    assert user is not None
    assert (user.role, user.partner_id) == ("viewer", partner.id)


async def test_reset_makes_an_inactive_user_active(settings: Settings, db: Db) -> None:
    name = _name(db)
    await _run(settings, username=name, role="admin")
    await db.deactivate(name)
    message = await _run(settings, username=name, role="admin")
    assert message.endswith("; active again")
    user = await db.user(name)
    assert user is not None
    assert user.active is True


async def test_invalid_input_changes_nothing(settings: Settings, db: Db) -> None:
    partner = await db.partner()
    existing = _name(db)
    await _run(settings, username=existing, role="staff")
    before_user = await db.user(existing)
    before_count = await db.count_users()
    cases: list[dict[str, Any]] = [
        {"username": "ab", "role": "staff"},
        {"username": "Upper.Case", "role": "staff"},
        {"username": "x" * 65, "role": "staff"},
        {"username": "new\x00user", "role": "staff"},
        {"username": "new.user", "role": "root"},
        {"username": "new.user", "role": "staff", "password": "too short"},
        {"username": "new.user", "role": "staff", "password": "x" * 11},
        {"username": "new.user", "role": "staff", "password": "x" * 1025},
        {"username": "new.user", "role": "staff", "password": "twelve chars\x00"},
        {"username": "new.user", "role": "liaison"},
        {"username": "new.user", "role": "admin", "partner_code": partner.code},
        {"username": "new.user", "role": "staff", "partner_code": partner.code},
        {"username": "new.user", "role": "liaison", "partner_code": "NO-SUCH-PARTNER"},
        {"username": "new.user", "role": "viewer", "partner_code": "NO-SUCH-PARTNER"},
        # a failed reset leaves the existing user as it was
        {"username": existing, "role": "liaison"},
        {"username": existing, "role": "admin", "password": "short"},
        {"username": existing, "role": "liaison", "partner_code": "NO-SUCH-PARTNER"},
    ]
    for case in cases:
        with pytest.raises(CommandError) as caught:
            await _run(settings, **case)
        message = str(caught.value)
        assert message
        assert "\n" not in message, case
    assert await db.count_users() == before_count
    after_user = await db.user(existing)
    assert after_user is not None
    assert before_user is not None
    assert (after_user.version, after_user.password_hash, after_user.role) == (
        before_user.version,
        before_user.password_hash,
        before_user.role,
    )
    assert len(await db.events(after_user.id)) == 1


async def test_unreachable_database_is_a_command_error(settings: Settings) -> None:
    unreachable = settings.model_copy(
        update={
            "database_url": "postgresql+asyncpg://nobody@127.0.0.1:1/nothing",
            "db_connect_timeout": 1.0,
        }
    )
    with pytest.raises(CommandError, match="database"):
        await _run(unreachable, username="nobody.here", role="staff")


async def test_created_user_can_sign_in(
    settings: Settings, db: Db, anon: httpx.AsyncClient
) -> None:
    name = _name(db)
    await _run(settings, username=name, role="viewer")
    response = await anon.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
    assert response.status_code == 200, response.text


def test_command_line(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``printf '%s\\n' "$PASSWORD" | ipcp-api create-user NAME --role R --password-stdin``.

    A plain (sync) test: ``cli.main`` runs its own event loop, so each database step here
    runs in one ``asyncio.run`` with its own engine.
    """
    name = f"cli.{uuid.uuid4().hex[:10]}"

    async def read() -> User | None:
        db = Db(settings)
        try:
            return await db.user(name)
        finally:
            await db.engine.dispose()

    async def cleanup() -> None:
        db = Db(settings)
        db.usernames.append(name)
        await db.cleanup()

    try:
        monkeypatch.setenv("DATABASE_URL", str(settings.database_url))
        monkeypatch.setenv("IPCP_DATA_DIR", str(settings.data_dir))
        monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        cli.main(["create-user", name, "--role", "staff", "--password-stdin"])
        assert capsys.readouterr().out.strip() == f"created user {name} (role staff)"
        user = asyncio.run(read())
        assert user is not None
        assert verify_password(PASSWORD, user.password_hash)

        monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
        with pytest.raises(SystemExit) as exited:
            cli.main(["create-user", name, "--role", "staff", "--password-stdin"])
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("ipcp-api: the password is too short")
        assert err.count("\n") == 1
    finally:
        asyncio.run(cleanup())
