"""What a person or a client meets when signing in goes wrong: plain messages, OAuth's
``error`` / ``error_description`` (shown by Swagger UI's sign-in dialog), problem types."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

TOKEN = "/api/v1/auth/token"


async def test_a_wrong_password_says_so_in_oauth_terms_too(
    anon: httpx.AsyncClient, factory: Any
) -> None:
    await factory.user(role="staff", username="someone")
    response = await anon.post(TOKEN, data={"username": "someone", "password": "wrong" * 3})
    assert response.status_code == 401
    assert response.json() == {
        "type": "/problems/unauthorized",
        "title": "Unauthorized",
        "status": 401,
        "detail": "wrong username or password",
        "error": "invalid_grant",
        "error_description": "wrong username or password",
    }


@pytest.mark.parametrize(
    ("kwargs", "media"),
    [
        ({"json": {"username": "someone", "password": "secret-password"}}, "application/json"),
        (
            {"content": b"username=a&password=b", "headers": {"Content-Type": "text/plain"}},
            "text/plain",
        ),
        ({"content": b"", "headers": {}}, "a body without a Content-Type"),
    ],
)
async def test_a_body_that_is_not_a_form_is_told_to_send_form_fields(
    anon: httpx.AsyncClient, kwargs: dict[str, Any], media: str
) -> None:
    response = await anon.post(TOKEN, **kwargs)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["type"] == "/problems/validation"
    msg = (
        "send username and password as form fields (Content-Type:"
        f" application/x-www-form-urlencoded), not as {media}"
    )
    assert body["errors"] == [{"loc": ["body"], "msg": msg}]
    assert body["error"] == "invalid_request"
    assert body["error_description"] == msg


@pytest.mark.parametrize("missing", ["username", "password"])
async def test_a_missing_field_is_named(anon: httpx.AsyncClient, missing: str) -> None:
    data = {"username": "someone", "password": "secret-password", missing: ""}
    response = await anon.post(TOKEN, data=data)
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"loc": ["body", missing], "msg": f"{missing} is required (a form field)"}
    ]
    del data[missing]
    response = await anon.post(TOKEN, data=data)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", missing]


async def test_a_multipart_form_is_a_form(anon: httpx.AsyncClient, factory: Any) -> None:
    await factory.user(role="staff", username="multi")
    response = await anon.post(
        TOKEN, files={"username": (None, "multi"), "password": (None, factory.PASSWORD)}
    )
    assert response.status_code == 200, response.text
