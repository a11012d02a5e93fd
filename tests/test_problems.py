"""Problem types (API.md, Conventions, *Problem types*): every kind of error names its slug,
and ``GET /problems/<slug>`` explains it without a token."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ipcp_api.problems import PROBLEM_TYPES

SLUGS = [
    "validation",
    "unauthorized",
    "forbidden",
    "not-found",
    "method-not-allowed",
    "not-acceptable",
    "conflict-unique",
    "conflict-children",
    "conflict-state",
    "conflict-in-flight",
    "stale-version",
    "payload-too-large",
    "too-many-requests",
    "unavailable",
]


def kind(response: httpx.Response) -> str:
    assert response.headers["content-type"] == "application/problem+json", response.text
    body = response.json()
    assert body["status"] == response.status_code
    return str(body["type"])


def test_the_slugs_are_the_contracts() -> None:
    assert list(PROBLEM_TYPES) == SLUGS


@pytest.mark.parametrize("slug", SLUGS)
async def test_each_problem_type_is_described_without_a_token(
    anon: httpx.AsyncClient, slug: str
) -> None:
    response = await anon.get(f"/problems/{slug}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == PROBLEM_TYPES[slug].status
    assert len(body["description"]) > 30


@pytest.mark.parametrize("slug", ["nope", "Validation", "validation.json", "conflict"])
async def test_an_unknown_problem_type_is_404(anon: httpx.AsyncClient, slug: str) -> None:
    response = await anon.get(f"/problems/{slug}")
    assert response.status_code == 404
    assert kind(response) == "/problems/not-found"


async def test_errors_carry_their_kind(
    anon: httpx.AsyncClient, client: httpx.AsyncClient, client_for: Any, factory: Any
) -> None:
    partner = await factory.partner()
    programme = await factory.programme(partner_id=partner.id)

    assert kind(await anon.get("/api/v1/programmes")) == "/problems/unauthorized"
    viewer = await client_for("viewer")
    created = await viewer.post("/api/v1/frameworks", json={"code": "NOPE", "name": "No"})
    assert kind(created) == "/problems/forbidden"
    assert kind(await client.get("/api/v1/programmes/999999999")) == "/problems/not-found"
    assert kind(await client.get("/api/v1/nowhere")) == "/problems/not-found"
    assert kind(await client.put(f"/api/v1/programmes/{programme.id}")) == (
        "/problems/method-not-allowed"
    )
    report = await client.get(
        f"/api/v1/programmes/{programme.id}/report", headers={"Accept": "image/png"}
    )
    assert kind(report) == "/problems/not-acceptable"
    stale = await client.patch(
        f"/api/v1/programmes/{programme.id}", json={"title": "T"}, headers={"If-Match": '"99"'}
    )
    assert kind(stale) == "/problems/stale-version"
    big = await client.post(
        "/api/v1/frameworks",
        content=b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert kind(big) == "/problems/payload-too-large"
    invalid = await client.get("/api/v1/programmes", params={"limit": 500})
    assert kind(invalid) == "/problems/validation"


async def test_the_three_kinds_of_409_are_told_apart(
    client: httpx.AsyncClient, factory: Any
) -> None:
    first = await client.post("/api/v1/frameworks", json={"code": "ICI", "name": "ICI"})
    assert first.status_code == 201, first.text
    again = await client.post("/api/v1/frameworks", json={"code": "ICI", "name": "Other"})
    assert again.status_code == 409
    assert kind(again) == "/problems/conflict-unique"
    assert again.json()["errors"] == [
        {"loc": ["body", "code"], "msg": "code: this value is already taken"}
    ]

    partner = await factory.partner()
    programme = await factory.programme(partner_id=partner.id)
    children = await client.delete(f"/api/v1/partners/{partner.id}")
    assert children.status_code == 409
    assert kind(children) == "/problems/conflict-children"

    state = await client.patch(f"/api/v1/programmes/{programme.id}", json={"status": "active"})
    assert state.status_code == 409
    assert kind(state) == "/problems/conflict-state"
    # nothing changed
    assert (await client.get(f"/api/v1/partners/{partner.id}")).status_code == 200
    assert (await client.get(f"/api/v1/programmes/{programme.id}")).json()["status"] == "draft"


@pytest.mark.parametrize(
    ("params", "loc", "msg"),
    [
        ({"as_of": "2017-02-30"}, ["query", "as_of"], "must be a real calendar date (YYYY-MM-DD)"),
        ({"as_of": "30/06/2017"}, ["query", "as_of"], "must be a date in the form YYYY-MM-DD"),
    ],
)
async def test_messages_carry_no_framework_prefix(
    client: httpx.AsyncClient, params: dict[str, str], loc: list[str], msg: str
) -> None:
    response = await client.get("/api/v1/reports/portfolio", params=params)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"loc": loc, "msg": msg}]
    assert response.json()["detail"] == f"{'.'.join(loc)}: {msg}"


def test_each_error_class_names_a_kind_of_its_status() -> None:
    import ipcp_api.errors as errors_module

    classes = [
        value
        for value in vars(errors_module).values()
        if isinstance(value, type) and issubclass(value, errors_module.ApiError)
    ]
    assert len(classes) >= 12
    for cls in classes:
        if cls is errors_module.ApiError:
            continue
        assert cls.slug in PROBLEM_TYPES, cls
        assert PROBLEM_TYPES[cls.slug].status == cls.status_code, cls


@pytest.mark.parametrize(
    ("name", "msg"),
    [
        ("", "String should have at least 1 character"),
        ("x" * 201, "String should have at most 200 characters"),
    ],
)
async def test_text_lengths_are_told_in_characters(
    client: httpx.AsyncClient, name: str, msg: str
) -> None:
    response = await client.post("/api/v1/frameworks", json={"code": "LEN", "name": name})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"loc": ["body", "name"], "msg": msg}]
