"""Rows for tests, written straight through the ORM (fast; the API is tested separately)."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.auth.security import hash_password
from ipcp_api.models import (
    ActionItem,
    Baseline,
    Committee,
    Decision,
    Framework,
    Milestone,
    Partner,
    Pillar,
    Programme,
    Project,
    Review,
    User,
)

_seq = itertools.count(1)
_PASSWORD_HASH: str | None = None


class Factory:
    PASSWORD = "correct horse battery staple"

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _add(self, obj: Any) -> Any:
        self.session.add(obj)
        await self.session.flush()
        return obj

    async def user(self, *, role: str = "admin", partner_id: int | None = None, **kw: Any) -> User:
        global _PASSWORD_HASH
        if _PASSWORD_HASH is None:
            _PASSWORD_HASH = hash_password(self.PASSWORD)
        n = next(_seq)
        return await self._add(
            User(
                username=kw.pop("username", f"user{n}"),
                password_hash=_PASSWORD_HASH,
                role=role,
                partner_id=partner_id,
                active=kw.pop("active", True),
                **kw,
            )
        )

    async def framework(self, **kw: Any) -> Framework:
        n = next(_seq)
        kw.setdefault("code", f"FW{n}")
        kw.setdefault("name", f"Framework {n}")
        return await self._add(Framework(**kw))

    async def partner(self, **kw: Any) -> Partner:
        n = next(_seq)
        kw.setdefault("kind", "organisation")
        kw.setdefault("code", f"ORG{n}")
        kw.setdefault("name", f"Partner {n}")
        return await self._add(Partner(**kw))

    async def pillar(self, position: int = 1) -> Pillar:
        pillar = await self.session.scalar(select(Pillar).where(Pillar.position == position))
        assert pillar is not None
        return pillar

    async def programme(self, **kw: Any) -> Programme:
        n = next(_seq)
        if "partner_id" not in kw:
            kw["partner_id"] = (await self.partner()).id
        kw.setdefault("code", f"PRG-{n}")
        kw.setdefault("title", f"Programme {n}")
        kw.setdefault("starts_on", date(2016, 6, 1))
        kw.setdefault("ends_on", date(2018, 6, 30))
        kw.setdefault("kind", "IPCP")
        kw.setdefault("status", "draft")
        return await self._add(Programme(**kw))

    async def project(self, **kw: Any) -> Project:
        n = next(_seq)
        if "programme_id" not in kw:
            kw["programme_id"] = (await self.programme()).id
        if "pillar_id" not in kw:
            kw["pillar_id"] = (await self.pillar(1)).id
        kw.setdefault("code", f"P{n}")
        kw.setdefault("title", f"Project {n}")
        kw.setdefault("starts_on", date(2016, 6, 1))
        kw.setdefault("ends_on", date(2018, 6, 30))
        kw.setdefault("status", "planned")
        kw.setdefault("areas", [])
        return await self._add(Project(**kw))

    async def milestone(self, **kw: Any) -> Milestone:
        n = next(_seq)
        if "project_id" not in kw:
            kw["project_id"] = (await self.project()).id
        kw.setdefault("title", f"Milestone {n}")
        kw.setdefault("due_on", date(2017, 1, 1))
        kw.setdefault("weight", 1)
        kw.setdefault("state", "pending")
        return await self._add(Milestone(**kw))

    async def baseline(self, *, programme_id: int, **kw: Any) -> Baseline:
        """A named baseline row with an empty copy (tests of the copy go through the API)."""
        n = next(_seq)
        kw.setdefault("kind", "named")
        kw.setdefault("name", f"Baseline {n}")
        return await self._add(Baseline(programme_id=programme_id, **kw))

    async def committee(self, code: str = "PCSC") -> Committee:
        committee = await self.session.scalar(select(Committee).where(Committee.code == code))
        assert committee is not None
        return committee

    async def review(self, **kw: Any) -> Review:
        if "programme_id" not in kw:
            kw["programme_id"] = (await self.programme()).id
        if "committee_id" not in kw:
            kw["committee_id"] = (await self.committee()).id
        kw.setdefault("format", "allies_plus_partner")
        kw.setdefault("allies_count", 28)
        kw.setdefault("held_on", date(2016, 6, 1))
        kw.setdefault("status", "planned")
        return await self._add(Review(**kw))

    async def decision(self, **kw: Any) -> Decision:
        if "review_id" not in kw:
            kw["review_id"] = (await self.review(status="held")).id
        kw.setdefault("kind", "noted")
        kw.setdefault("text", f"Decision {next(_seq)}")
        return await self._add(Decision(**kw))

    async def action_item(self, **kw: Any) -> ActionItem:
        if "review_id" not in kw:
            kw["review_id"] = (await self.review(status="held")).id
        kw.setdefault("title", f"Action {next(_seq)}")
        kw.setdefault("owner", "Ministry of Foreign Affairs")
        kw.setdefault("owner_side", "alliance")
        kw.setdefault("due_on", date(2016, 9, 30))
        kw.setdefault("status", "open")
        return await self._add(ActionItem(**kw))
