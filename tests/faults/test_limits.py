"""Limits the service holds whatever the client sends (the gaps the domain tests leave).

Already covered elsewhere, not repeated here: string lengths and ``areas`` count per field
(tests/<domain>/test_router.py), ``limit=201`` on every list, a body with a Content-Length over
1 MiB on one route (tests/frameworks), login throttling (tests/auth/test_token.py), an
``Idempotency-Key`` over 255 characters (tests/frameworks).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ipcp_api.middleware import MAX_BODY_BYTES

FRAMEWORKS = "/api/v1/frameworks"
TOKEN = "/api/v1/auth/token"
JSON = {"content-type": "application/json"}


async def chunked(size: int, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    """``size`` bytes as a stream: httpx sends it chunked, with no Content-Length."""
    sent = 0
    while sent < size:
        part = min(chunk, size - sent)
        yield b" " * part
        sent += part


def assert_413(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 413
    assert str(MAX_BODY_BYTES) in body["detail"]


async def test_content_length_over_the_limit_is_refused_before_anything_else(
    anon: httpx.AsyncClient,
) -> None:
    """A declared length over 1 MiB is 413 at once: before authentication (no 401) and
    without reading a byte of the body (the body sent here is tiny)."""
    for url in (FRAMEWORKS, TOKEN, "/api/v1/projects", "/healthz"):
        response = await anon.post(
            url,
            content=b"{}",
            headers={**JSON, "content-length": str(MAX_BODY_BYTES + 1)},
        )
        assert_413(response)
        assert response.headers["connection"] == "close"
        assert response.headers["x-request-id"]


async def test_chunked_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(FRAMEWORKS, content=chunked(MAX_BODY_BYTES + 1), headers=JSON)
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_413(response)
    assert (await client.get(FRAMEWORKS)).json()["total"] == 0


async def test_chunked_form_over_the_limit_is_413(anon: httpx.AsyncClient) -> None:
    """The token endpoint parses a form: the limit holds there too (before the password
    hash is ever computed)."""
    response = await anon.post(
        TOKEN,
        content=chunked(MAX_BODY_BYTES + 10),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_413(response)


@pytest.mark.parametrize("streamed", [False, True])
async def test_exactly_one_mebibyte_passes_the_limit(
    client: httpx.AsyncClient, streamed: bool
) -> None:
    """1 MiB is allowed (the answer is then about the content: 422); one byte more is 413."""
    content = chunked(MAX_BODY_BYTES) if streamed else b" " * MAX_BODY_BYTES
    at_limit = await client.post(FRAMEWORKS, content=content, headers=JSON)
    assert at_limit.status_code == 422, at_limit.text
    over = chunked(MAX_BODY_BYTES + 1) if streamed else b" " * (MAX_BODY_BYTES + 1)
    assert_413(await client.post(FRAMEWORKS, content=over, headers=JSON))


async def test_both_413_paths_answer_alike(client: httpx.AsyncClient) -> None:
    declared = await client.post(FRAMEWORKS, content=b" " * (MAX_BODY_BYTES + 1), headers=JSON)
    streamed = await client.post(FRAMEWORKS, content=chunked(MAX_BODY_BYTES + 1), headers=JSON)
    assert_413(declared)
    assert_413(streamed)
    assert declared.json() == streamed.json()


async def test_a_large_valid_body_under_the_limit_is_judged_on_its_fields(
    client: httpx.AsyncClient,
) -> None:
    """900 KiB of description: under the body limit, over the field's 5000 characters."""
    response = await client.post(
        FRAMEWORKS, json={"code": "BIG", "name": "Big", "description": "x" * (900 * 1024)}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "description"]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deeply-nested"),
        pytest.param(b'{"code": "AB", "name": ' + b"9" * 5000 + b"}", id="5000-digit-number"),
        pytest.param(b'{"code": "AB", "name": "x"' + b', "k": 1' * 50_000 + b"}", id="50k-keys"),
        pytest.param(b"\xff\xfe" + b"{}", id="not-utf8"),
    ],
)
async def test_pathological_json_is_422_not_500(client: httpx.AsyncClient, content: bytes) -> None:
    response = await client.post(FRAMEWORKS, content=content, headers=JSON)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": 10**20}, "limit"),
        ({"q": "x" * 201}, "q"),
        ({"cursor": "c" * 513}, "cursor"),
    ],
)
async def test_query_limits_are_422(client: httpx.AsyncClient, params: dict, name: str) -> None:
    response = await client.get(FRAMEWORKS, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["query", name]


async def test_query_limits_at_their_maximum_pass(client: httpx.AsyncClient) -> None:
    response = await client.get(FRAMEWORKS, params={"limit": 200, "q": "x" * 200})
    assert response.status_code == 200
    assert response.json()["limit"] == 200
