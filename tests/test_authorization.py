"""Object-level authorisation, walked over the app's whole route table.

Every route under /api/v1 is collected from the running app (so a new route is covered
without anyone remembering it) and classified by its path parameters and collection. Then:
- without a token every route answers 401 (except the token endpoint);
- a liaison and a viewer of partner A get 404 on each of partner B's objects, whatever the
  method, and the answers they may get on A's own objects (a positive control, so a route that
  404s everything cannot pass);
- forbidden writes are 403; a create that points into partner B is 422 (B does not exist for A).
A route the classifier does not know fails the test until someone classifies it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from ipcp_api.app import create_app
from ipcp_api.config import load_settings
from ipcp_api.models import DataImport

PUBLIC = {"/api/v1/auth/token"}
SCOPED = (
    "partner_id",
    "programme_id",
    "project_id",
    "milestone_id",
    "import_id",
    "review_id",
    "decision_id",
    "action_item_id",
    "baseline_id",
)
REFERENCE = ("frameworks", "pillars", "committees")


def _routes() -> list[tuple[str, str]]:
    app = create_app(load_settings(secret_key="route-table-" + "x" * 40))
    found = set()
    for context in iter_route_contexts(app.router.routes):
        route = context.route
        path = context.path
        # Routes outside the document only refuse (405, e.g. PATCH /users/me): not API routes.
        if isinstance(route, APIRoute) and route.include_in_schema and path.startswith("/api/v1/"):
            for method in context.methods or route.methods:
                found.add((method, path))
    return sorted(found)


ROUTES = _routes()
PROTECTED = [(method, path) for method, path in ROUTES if path not in PUBLIC]


def test_route_table_is_not_empty() -> None:
    assert len(ROUTES) >= 30
    assert ("GET", "/api/v1/programmes/{programme_id}/report") in ROUTES


@dataclass
class World:
    a: dict[str, int]
    b: dict[str, int]


@pytest.fixture
async def world(factory) -> World:
    ids: dict[str, dict[str, int]] = {}
    framework = await factory.framework()
    pillar = await factory.pillar(1)
    for name in ("a", "b"):
        partner = await factory.partner()
        programme = await factory.programme(partner_id=partner.id)
        project = await factory.project(programme_id=programme.id)
        milestone = await factory.milestone(project_id=project.id)
        review = await factory.review(programme_id=programme.id, status="held")
        decision = await factory.decision(review_id=review.id)
        item = await factory.action_item(review_id=review.id, owner_side="partner")
        user = await factory.user(role="liaison", partner_id=partner.id)
        stored = await factory._add(
            DataImport(
                programme_id=programme.id,
                status="valid",
                filename="x.xlsx",
                sha256="0" * 64,
                counts={"rows": 0, "create": 0, "update": 0, "unchanged": 0, "errors": 0},
                errors=[],
                plan=[],
                rows={"projects": [], "milestones": []},
            )
        )
        baseline = await factory.baseline(programme_id=programme.id)
        ids[name] = {
            "import_id": stored.id,
            "partner_id": partner.id,
            "programme_id": programme.id,
            "project_id": project.id,
            "milestone_id": milestone.id,
            "user_id": user.id,
            "framework_id": framework.id,
            "pillar_id": pillar.id,
            "baseline_id": baseline.id,
            "committee_id": review.committee_id,
            "review_id": review.id,
            "decision_id": decision.id,
            "action_item_id": item.id,
        }
    return World(a=ids["a"], b=ids["b"])


def _url(path: str, ids: dict[str, int]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)


def _params(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)


def _collection(path: str) -> str:
    return path.removeprefix("/api/v1/").split("/")[0]


def _create_body(collection: str, target: dict[str, int]) -> dict[str, Any]:
    """A valid create body that points into ``target``'s partner."""
    return {
        "programmes": {
            "partner_id": target["partner_id"],
            "code": "X-1",
            "title": "x",
            "starts_on": "2016-06-01",
            "ends_on": "2016-12-31",
        },
        "projects": {
            "programme_id": target["programme_id"],
            "pillar_id": target["pillar_id"],
            "code": "X1",
            "title": "x",
            "starts_on": "2016-06-01",
            "ends_on": "2016-12-31",
        },
        "milestones": {"project_id": target["project_id"], "title": "x", "due_on": "2016-07-01"},
        "reviews": {
            "programme_id": target["programme_id"],
            "committee_id": target["committee_id"],
            "format": "allies_plus_partner",
            "held_on": "2016-06-01",
        },
        "decisions": {"review_id": target["review_id"], "kind": "noted", "text": "x"},
        "action-items": {
            "review_id": target["review_id"],
            "title": "x",
            "owner": "x",
            "owner_side": "partner",
            "due_on": "2016-07-01",
        },
    }.get(collection, {})


async def _call(
    client: httpx.AsyncClient, method: str, url: str, body: Any = None
) -> httpx.Response:
    if method in {"POST", "PATCH"}:
        return await client.request(method, url, json=body if body is not None else {})
    return await client.request(method, url)


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_no_token_no_answer(anon: httpx.AsyncClient, method: str, path: str) -> None:
    ids = dict.fromkeys(_params(path), 1)
    response = await _call(anon, method, _url(path, ids))
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"


STAFF_ONLY_WRITES = {
    "frameworks",
    "pillars",
    "partners",
    "users",
    "audit",
    "committees",
    "reviews",
    "decisions",
}
MISSING = 10**12  # an id that exists nowhere


def _expected_for_b(role: str, method: str, path: str) -> set[int]:
    """What a liaison/viewer of partner A must get for ``method path`` aimed at partner B."""
    params = _params(path)
    collection = _collection(path)
    write = method in {"POST", "PATCH", "DELETE", "PUT"}
    if path == "/api/v1/users/me":
        return {200}
    if collection in {"users", "audit"}:
        return {403}
    if write and (role == "viewer" or collection in STAFF_ONLY_WRITES):
        return {403}
    if write and path.endswith(("/baselines", "/baselines/{baseline_id}")):
        return {403}  # baselines: admin and staff write, liaison and viewer read

    if collection == "action-items" and method in {"POST", "DELETE"}:
        return {403}  # a liaison only changes status and completed_on of its partner's items
    if any(p in SCOPED for p in params):
        return {404}
    if collection in {
        *REFERENCE,
        "partners",
        "reports",
        "programmes",
        "projects",
        "milestones",
        "reviews",
        "decisions",
        "action-items",
    }:
        if not write:
            return {200}
        if not params and method == "POST":
            return {422}  # points into partner B, which does not exist for A
    raise AssertionError(f"unclassified route {method} {path}: add it to the classifier")


@pytest.mark.parametrize("role", ["liaison", "viewer"])
@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_partner_a_cannot_reach_partner_b(
    client_for, world: World, role: str, method: str, path: str
) -> None:
    user = await client_for(role, world.a["partner_id"])
    expected = _expected_for_b(role, method, path)
    url = _url(path, world.b)
    body = _create_body(_collection(path), world.b) if method == "POST" else {}
    response = await _call(user, method, url, body)
    assert response.status_code in expected, (method, url, response.status_code, response.text)
    if response.status_code == 422 and method == "POST":
        locs = [e["loc"][-1] for e in response.json()["errors"]]
        assert set(locs) & {"partner_id", "programme_id", "project_id", "review_id"}, response.text
    if method == "GET" and response.status_code == 200:
        text = response.text
        for key in ("partner_id", "programme_id", "project_id"):
            assert f'"{key}":{world.b[key]},' not in text.replace(" ", ""), (url, key)
    # B's object answers exactly as an object that does not exist at all.
    if any(p in SCOPED for p in _params(path)):
        missing = await _call(user, method, _url(path, dict.fromkeys(_params(path), MISSING)), body)
        assert missing.status_code == response.status_code, (method, path, missing.text)
    # Positive control: A's own object of the same route is reachable for reads.
    if method == "GET" and any(p in SCOPED for p in _params(path)):
        own = await user.get(_url(path, world.a))
        assert own.status_code == 200, (path, own.text)


async def test_lists_and_totals_hide_partner_b(client_for, world: World) -> None:
    liaison = await client_for("liaison", world.a["partner_id"])
    for collection, key in (
        ("partners", "id"),
        ("programmes", "partner_id"),
        ("projects", "programme_id"),
        ("milestones", "project_id"),
        ("reviews", "programme_id"),
        ("decisions", "review_id"),
        ("action-items", "review_id"),
    ):
        body = (await liaison.get(f"/api/v1/{collection}")).json()
        own = world.a["partner_id" if collection == "partners" else key]
        assert body["total"] == len(body["items"]) == 1, collection
        assert body["items"][0][key] == own, collection
    portfolio = (await liaison.get("/api/v1/reports/portfolio")).json()
    assert [row["partner"]["id"] for row in portfolio["partners"]] == [world.a["partner_id"]]
