"""Partners: countries (ISO 3166-1 alpha-3 codes) and organisations, and their memberships."""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import pycountry
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from ipcp_api.audit import service as audit
from ipcp_api.auth import scope
from ipcp_api.auth.actor import Actor
from ipcp_api.common import i18n, listing
from ipcp_api.common.crud import apply, delete_row, one_or_404, patch_values
from ipcp_api.common.http import check_if_match
from ipcp_api.common.listing import Filter, equals, missing_translation, search
from ipcp_api.enums import PartnerKind
from ipcp_api.errors import Invalid
from ipcp_api.models import Framework, FrameworkMembership, Partner
from ipcp_api.partners.schemas import PartnerCreate, PartnerPatch, PartnerRead

COUNTRY_CODES: frozenset[str] = frozenset(str(c.alpha_3) for c in pycountry.countries)
ORGANISATION_CODE = re.compile(r"^[A-Z0-9-]{2,16}$")


class PartnerSort(StrEnum):
    code = "code"
    name = "name"


def _memberships() -> ColumnElement[Any]:
    """The partner's memberships as a JSON array ordered by ``framework_id`` (a correlated
    subquery: no second statement, whatever the number of partners)."""
    m = FrameworkMembership
    item = func.json_build_object(
        "framework_id", m.framework_id, "joined_on", m.joined_on, "note", m.note
    )
    items = func.coalesce(
        func.json_agg(aggregate_order_by(item, m.framework_id)), literal_column("'[]'::json")
    )
    return select(items).where(m.partner_id == Partner.id).correlate(Partner).scalar_subquery()


def _member_of() -> ColumnElement[bool]:
    m = FrameworkMembership
    return (
        select(m.partner_id)
        .where(m.partner_id == Partner.id, m.framework_id == bindparam("framework_id"))
        .correlate(Partner)
        .exists()
    )


LISTING = listing.Spec(
    name="partner",
    model=Partner,
    read=PartnerRead,
    sort=PartnerSort,
    default_sort="code",
    computed={"memberships": _memberships},
    scope_via=Partner.id,
    filters={
        "q": search(Partner),
        "missing_translation": missing_translation(Partner),
        "code": equals(Partner.code),
        "kind": equals(Partner.kind),
        "framework_id": Filter(_member_of),
    },
)
"""Partners: a liaison or bound viewer sees only its own."""


def scoped(actor: Actor) -> Select[Any]:
    """The partners ``actor`` may see: all, or only the one a liaison/bound viewer belongs to."""
    return scope.visible_partners(actor)


def readable(actor: Actor) -> Select[Any]:
    """``scoped`` with the memberships loaded (one extra statement for any number of rows)."""
    return scoped(actor).options(selectinload(Partner.memberships))


def check_code(code: str, kind: str, field: str = "code") -> None:
    """A country's code must be a real ISO 3166-1 alpha-3 code; an organisation's matches
    ``[A-Z0-9-]{2,16}``."""
    if kind == PartnerKind.country:
        if code not in COUNTRY_CODES:
            raise Invalid(("body", field), f"{code!r} is not an ISO 3166-1 alpha-3 country code")
    elif not ORGANISATION_CODE.match(code):
        raise Invalid(
            ("body", field), "an organisation's code is 2–16 characters of A–Z, 0–9 and '-'"
        )


async def check_memberships(session: AsyncSession, items: Sequence[dict[str, Any]]) -> None:
    """Each framework at most once, and each must exist: else 422 naming the item's field."""
    problems: list[dict[str, Any]] = []
    first_at: dict[int, int] = {}
    for index, item in enumerate(items):
        framework_id = int(item["framework_id"])
        if framework_id in first_at:
            problems.append(
                {
                    "loc": ["body", "memberships", index, "framework_id"],
                    "msg": f"framework {framework_id} is already listed at "
                    f"memberships[{first_at[framework_id]}]",
                }
            )
        else:
            first_at[framework_id] = index
    if first_at:
        # one array parameter (= ANY), never one bind parameter per value (IN (...)): the
        # statement stays the same whatever the number of items
        ids = bindparam("ids", list(first_at), type_=ARRAY(BigInteger))
        found = set(
            (await session.scalars(select(Framework.id).where(Framework.id == any_(ids)))).all()
        )
        for framework_id, index in first_at.items():
            if framework_id not in found:
                problems.append(
                    {
                        "loc": ["body", "memberships", index, "framework_id"],
                        "msg": f"framework_id {framework_id} does not exist",
                    }
                )
    if problems:
        problems.sort(key=lambda p: p["loc"][2])
        error = Invalid(problems[0]["loc"], problems[0]["msg"])
        error.errors = problems
        raise error


def _membership_values(partner: Partner) -> list[dict[str, Any]]:
    return [
        {"framework_id": m.framework_id, "joined_on": m.joined_on, "note": m.note}
        for m in sorted(partner.memberships, key=lambda m: m.framework_id)
    ]


def _snapshot(partner: Partner) -> dict[str, Any]:
    """The audited fields, memberships as ``[{framework_id, joined_on, note}, ...]``."""
    partner.audit_extra = {"memberships": _membership_values(partner)}  # type: ignore[attr-defined]
    return audit.snapshot(partner)


def _replace_memberships(partner: Partner, items: Sequence[dict[str, Any]]) -> bool:
    """Make the memberships exactly ``items`` (kept rows change in place); True if anything
    changed."""
    current = {m.framework_id: m for m in partner.memberships}
    changed = set(current) != {int(item["framework_id"]) for item in items}
    memberships = []
    for item in items:
        membership = current.get(int(item["framework_id"]))
        if membership is None:
            membership = FrameworkMembership(**item)
        else:
            for name in ("joined_on", "note"):
                if getattr(membership, name) != item[name]:
                    setattr(membership, name, item[name])
                    changed = True
        memberships.append(membership)
    if changed:
        partner.memberships = sorted(memberships, key=lambda m: m.framework_id)
    return changed


async def get_partner(
    session: AsyncSession, actor: Actor, partner_id: int, *, for_update: bool = False
) -> Partner:
    stmt = readable(actor).where(Partner.id == partner_id)
    if for_update:
        stmt = stmt.with_for_update(of=Partner)
    partner: Partner = await one_or_404(session, stmt, "partner", partner_id)
    return partner


async def create_partner(session: AsyncSession, actor: Actor, data: PartnerCreate) -> Partner:
    check_code(data.code, data.kind)
    i18n.check_new(data.lang, data.translations)
    items = [m.model_dump() for m in data.memberships]
    await check_memberships(session, items)
    partner = Partner(
        code=data.code,
        kind=data.kind,
        name=data.name,
        lang=data.lang,
        translations=data.translations,
        memberships=[
            FrameworkMembership(**item)
            for item in sorted(items, key=lambda item: int(item["framework_id"]))
        ],
    )
    session.add(partner)
    await session.flush()
    _snapshot(partner)
    audit.created(session, actor, partner)
    return partner


async def update_partner(
    session: AsyncSession,
    actor: Actor,
    partner_id: int,
    patch: PartnerPatch,
    *,
    if_match: str | None,
) -> Partner:
    """A merge patch; ``memberships``, when present, replaces the whole list (RFC 7396 treats
    an array as one value)."""
    partner = await get_partner(session, actor, partner_id, for_update=True)
    check_if_match(if_match, partner.version)
    values = patch_values(patch, nullable=("translations",))
    i18n.merge(partner, values)
    memberships: list[dict[str, Any]] | None = None
    if values.pop("memberships", None) is not None and patch.memberships is not None:
        # Each item is a whole value (the array replaces the old one): an omitted
        # ``joined_on`` or ``note`` is null, not "keep" (``exclude_unset`` would drop it).
        memberships = [m.model_dump() for m in patch.memberships]
    if "code" in values or "kind" in values:
        check_code(
            values.get("code", partner.code),
            values.get("kind", partner.kind),
            "code" if "code" in values else "kind",
        )
    if memberships is not None:
        await check_memberships(session, memberships)
    before = _snapshot(partner)
    apply(partner, values)
    if memberships is not None and _replace_memberships(partner, memberships):
        # A membership is part of the partner: its change is a new version of the partner.
        partner.updated_at = func.now()
    await session.flush()
    _snapshot(partner)
    audit.updated(session, actor, partner, before)
    return partner


async def delete_partner(
    session: AsyncSession, actor: Actor, partner_id: int, *, if_match: str | None
) -> None:
    """409 while programmes (or users) refer to it; its memberships go with it."""
    partner = await get_partner(session, actor, partner_id, for_update=True)
    check_if_match(if_match, partner.version)
    before = _snapshot(partner)
    await delete_row(session, partner)
    audit.deleted(session, actor, partner, before)
