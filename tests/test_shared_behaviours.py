"""What every resource does the same way, walked over a table of resources (as
``test_authorization.py`` walks the routes): ``304`` on a matching ``If-None-Match``, ``412``
on a stale ``If-Match`` (nothing changes), ``204`` then ``404`` on a delete, and the audit
row of that delete.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from ipcp_api.models import AuditEvent, Committee, Pillar
from tests.factories import Factory


async def _pillar(factory: Factory) -> Any:
    return await factory._add(Pillar(code="shared-extra", name="Shared extra", position=10))


async def _baseline(factory: Factory) -> Any:
    return await factory.baseline(programme_id=(await factory.programme()).id)


async def _committee(factory: Factory) -> Any:
    return await factory._add(Committee(code="SHX", name="Shared extra"))


@dataclass(frozen=True)
class Resource:
    collection: str
    make: Callable[[Factory], Awaitable[Any]]
    patch: dict[str, Any]
    """A change the resource accepts (to show that a stale If-Match blocks it)."""


RESOURCES = [
    Resource("frameworks", lambda f: f.framework(), {"name": "Changed"}),
    Resource("partners", lambda f: f.partner(), {"name": "Changed"}),
    Resource("pillars", _pillar, {"name": "Changed"}),
    Resource("programmes", lambda f: f.programme(), {"title": "Changed"}),
    Resource("projects", lambda f: f.project(), {"title": "Changed"}),
    Resource("milestones", lambda f: f.milestone(), {"title": "Changed"}),
    Resource("users", lambda f: f.user(role="staff"), {"role": "viewer"}),
    Resource("baselines", _baseline, {"name": "Changed"}),
    Resource("committees", _committee, {"name": "Changed"}),
    Resource("reviews", lambda f: f.review(), {"place": "Changed"}),
    Resource("decisions", lambda f: f.decision(), {"text": "Changed"}),
    Resource("action-items", lambda f: f.action_item(), {"title": "Changed"}),
]
IDS = [resource.collection for resource in RESOURCES]


@pytest.mark.parametrize("resource", RESOURCES, ids=IDS)
async def test_if_none_match_gives_304(
    client: httpx.AsyncClient, factory: Factory, resource: Resource
) -> None:
    url = f"/api/v1/{resource.collection}/{(await resource.make(factory)).id}"
    for tag in ('"1"', 'W/"1"', '"9", "1"', "*"):
        response = await client.get(url, headers={"If-None-Match": tag})
        assert response.status_code == 304, tag
        assert response.headers["etag"] == '"1"'
        assert response.content == b""
    other = await client.get(url, headers={"If-None-Match": '"2"'})
    assert other.status_code == 200
    assert other.headers["etag"] == '"1"'
    assert other.json()["version"] == 1


@pytest.mark.parametrize("resource", RESOURCES, ids=IDS)
async def test_a_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, factory: Factory, resource: Resource
) -> None:
    url = f"/api/v1/{resource.collection}/{(await resource.make(factory)).id}"
    before = (await client.get(url)).json()
    for method in ("PATCH", "DELETE"):
        body = resource.patch if method == "PATCH" else None
        stale = await client.request(method, url, json=body, headers={"If-Match": '"7"'})
        assert stale.status_code == 412, (method, stale.text)
        assert stale.headers["content-type"] == "application/problem+json"
        assert (await client.get(url)).json() == before
    current = await client.patch(url, json=resource.patch, headers={"If-Match": '"1"'})
    assert current.status_code == 200, current.text
    assert current.json()["version"] == 2


@pytest.mark.parametrize("resource", RESOURCES, ids=IDS)
async def test_a_delete_is_204_then_404_with_one_audit_row(
    client: httpx.AsyncClient, factory: Factory, session: Any, resource: Resource
) -> None:
    obj = await resource.make(factory)
    url = f"/api/v1/{resource.collection}/{obj.id}"
    before = (await client.get(url)).json()
    deleted = await client.delete(url, headers={"If-Match": '"1"'})
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (await client.get(url)).status_code == 404
    assert (await client.delete(url)).status_code == 404
    assert (await client.patch(url, json=resource.patch)).status_code == 404
    events = (
        await session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == resource.collection, AuditEvent.entity_id == obj.id
            )
        )
    ).all()
    assert [event.action for event in events] == ["delete"]
    changes = events[0].changes
    secret = changes.pop("password", None)  # a user's: recorded, never its value
    assert secret in (None, ["(hidden)", None])
    assert set(changes) == set(type(obj).audited_fields)
    for name, (old, new) in changes.items():
        assert new is None, name
        if name in before:
            assert old == before[name], name
    assert events[0].user_id == client.user.id  # type: ignore[attr-defined]
