"""What contract fuzzing (.ci/fuzz.sh) found on the wire, across domains, kept fixed."""

from __future__ import annotations

import httpx
import pytest

PROBLEM_JSON = "application/problem+json"


def _is_422_naming(response: httpx.Response, loc: list[object]) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert loc in [item["loc"] for item in response.json()["errors"]]


@pytest.mark.parametrize(
    "body",
    [
        b"\x80not utf-8",  # FastAPI answered 400 "There was an error parsing the body"
        b"[" * 100_000,  # nested deeper than the decoder goes: 400 too
    ],
    ids=["not-utf-8", "too-deep"],
)
async def test_a_body_that_cannot_be_decoded_is_422(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post(
        "/api/v1/frameworks", content=body, headers={"Content-Type": "application/json"}
    )
    _is_422_naming(response, ["body"])


async def test_a_broken_form_is_422(anon: httpx.AsyncClient) -> None:
    response = await anon.post(
        "/api/v1/auth/token", content=b"xyz", headers={"Content-Type": "multipart/form-data"}
    )
    _is_422_naming(response, ["body"])


@pytest.mark.parametrize(
    ("collection", "field"),
    [
        ("frameworks", "name"),
        ("partners", "kind"),
        ("pillars", "position"),
        ("programmes", "status"),
        ("projects", "status"),
        ("milestones", "weight"),
        ("users", "active"),
    ],
)
async def test_null_for_a_field_that_cannot_be_cleared_is_422_before_if_match(
    client: httpx.AsyncClient, factory, collection: str, field: str
) -> None:
    """A merge patch with null for a non-nullable field was 412 when If-Match was stale too
    (the null was only noticed after the precondition): an invalid body is 422 first."""
    make = {
        "frameworks": factory.framework,
        "partners": factory.partner,
        "programmes": factory.programme,
        "projects": factory.project,
        "milestones": factory.milestone,
        "users": lambda: factory.user(role="viewer"),
    }
    if collection == "pillars":
        row = await factory.pillar(1)
    else:
        row = await make[collection]()
    response = await client.patch(
        f"/api/v1/{collection}/{row.id}", json={field: None}, headers={"If-Match": '"999"'}
    )
    _is_422_naming(response, ["body", field])
    # an absent field is still "unchanged", and a stale If-Match is still 412
    stale = await client.patch(
        f"/api/v1/{collection}/{row.id}", json={}, headers={"If-Match": '"999"'}
    )
    assert stale.status_code == 412, stale.text


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/v1/frameworks", "GET, POST"),
        ("POST", "/api/v1/frameworks/1", "DELETE, GET, PATCH"),
        ("DELETE", "/api/v1/programmes/1/report", "GET"),
        ("POST", "/healthz", "GET"),
    ],
)
async def test_405_lists_exactly_the_methods_of_the_path(
    client: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allow
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_text_with_an_unpaired_surrogate_is_422(client: httpx.AsyncClient) -> None:
    """JSON can escape half a surrogate pair; it reached the database driver, which cannot
    encode it (500). A whole pair is ordinary text."""
    broken = b'{"code": "SURR", "name": "a\\ud800b"}'
    response = await client.post(
        "/api/v1/frameworks", content=broken, headers={"Content-Type": "application/json"}
    )
    _is_422_naming(response, ["body", "name"])
    whole = b'{"code": "SURR", "name": "a\\ud83d\\ude00b"}'
    response = await client.post(
        "/api/v1/frameworks", content=whole, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "a\U0001f600b"


async def test_a_cursor_with_non_ascii_characters_is_422(client: httpx.AsyncClient) -> None:
    """hmac.compare_digest refuses a str with non-ASCII characters: a TypeError (500)."""
    response = await client.get("/api/v1/frameworks", params={"cursor": "AAAA.é"})
    _is_422_naming(response, ["query", "cursor"])


async def test_an_integral_json_number_is_an_integer(client: httpx.AsyncClient, factory) -> None:
    """JSON Schema (and so the document) counts 4.0 as an integer; it was 422. 4.5 still is."""
    response = await client.post(
        "/api/v1/pillars", json={"code": "float-position", "name": "x", "position": 40.0}
    )
    assert response.status_code == 201, response.text
    assert response.json()["position"] == 40
    project = await factory.project()
    response = await client.post(
        "/api/v1/milestones",
        json={
            "project_id": float(project.id),
            "title": "m",
            "due_on": project.starts_on.isoformat(),
            "weight": 3.0,
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["weight"] == 3
    assert response.json()["project_id"] == project.id
    fraction = await client.post(
        "/api/v1/pillars", json={"code": "half", "name": "x", "position": 4.5}
    )
    _is_422_naming(fraction, ["body", "position"])
