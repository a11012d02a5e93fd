"""Lists in request bodies are bounded, and no statement binds one parameter per value
(issue 14, item 4: 32,768 memberships hit asyncpg's bind-parameter limit, a 500)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import httpx

import ipcp_api
from tests.conftest import StatementCounter


def _memberships(ids: range) -> list[dict[str, Any]]:
    return [{"framework_id": n} for n in ids]


async def test_over_100_memberships_is_422(client: httpx.AsyncClient) -> None:
    for count in (101, 40_000):
        body = {"code": "MANY", "kind": "organisation", "name": "Many"}
        response = await client.post(
            "/api/v1/partners", json=body | {"memberships": _memberships(range(1, count + 1))}
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["loc"] == ["body", "memberships"]
    listed = (await client.get("/api/v1/partners", params={"limit": 200})).json()["items"]
    assert [p for p in listed if p["code"] == "MANY"] == []
    partner = (
        await client.post(
            "/api/v1/partners", json={"code": "FEW", "kind": "organisation", "name": "F"}
        )
    ).json()
    response = await client.patch(
        f"/api/v1/partners/{partner['id']}", json={"memberships": _memberships(range(1, 40_001))}
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", "memberships"]
    after = (await client.get(f"/api/v1/partners/{partner['id']}")).json()
    assert (after["version"], after["memberships"]) == (1, [])


async def test_100_memberships_take_one_parameter(
    client: httpx.AsyncClient, factory: Any, statements: StatementCounter
) -> None:
    frameworks = [await factory.framework() for _ in range(100)]
    statements.reset()
    response = await client.post(
        "/api/v1/partners",
        json={
            "code": "HUNDRED",
            "kind": "organisation",
            "name": "Member of everything",
            "memberships": [{"framework_id": f.id} for f in frameworks],
        },
    )
    assert response.status_code == 201, response.text
    assert len(response.json()["memberships"]) == 100
    lookups = [s for s in statements.statements if "FROM frameworks" in s]
    assert len(lookups) == 1
    assert "ANY" in lookups[0].upper()
    assert " IN (" not in lookups[0].upper()


def test_no_in_list_of_values_in_the_source() -> None:
    """``column.in_(values)`` sends one bind parameter per value; ``= ANY(:array)`` sends one.
    Only subqueries may be given to ``in_``."""
    allowed = {"projects_of"}  # reports/service.py: a SELECT, not a list
    offenders = []
    root = Path(ipcp_api.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"in_", "not_in", "notin_"}
                and not (isinstance(node.args[0], ast.Name) and node.args[0].id in allowed)
            ):
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []
