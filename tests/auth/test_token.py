from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from ipcp_api.auth import security
from ipcp_api.auth.security import ALGORITHM, TokenVerifier, create_token

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/users/me"


async def _login(anon: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await anon.post(TOKEN, data={"username": username, "password": password})


async def test_good_credentials_give_a_bearer_token(anon: httpx.AsyncClient, factory, app) -> None:
    user = await factory.user(role="staff", username="good.user")
    response = await _login(anon, "good.user", factory.PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == app.state.settings.token_expire_minutes * 60
    me = await anon.get(ME, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == user.id


async def test_wrong_password_unknown_user_and_inactive_look_the_same(
    anon: httpx.AsyncClient, factory
) -> None:
    await factory.user(role="staff", username="known")
    await factory.user(role="staff", username="sleeper", active=False)
    wrong = await _login(anon, "known", "not the password at all")
    unknown = await _login(anon, "nobody.here", factory.PASSWORD)
    inactive = await _login(anon, "sleeper", factory.PASSWORD)
    for response in (wrong, unknown, inactive):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["content-type"] == "application/problem+json"
    assert wrong.json() == unknown.json() == inactive.json()
    assert "known" not in wrong.text


async def test_usernames_compare_after_nfkc_and_case_folding(
    anon: httpx.AsyncClient, factory
) -> None:
    """API.md: usernames compare case-insensitively after NFKC normalisation."""
    await factory.user(role="staff", username="exact.fi")
    assert (await _login(anon, "EXACT.FI", factory.PASSWORD)).status_code == 200
    assert (await _login(anon, "Exact.\ufb01", factory.PASSWORD)).status_code == 200  # ligature
    assert (await _login(anon, "exact.fi ", factory.PASSWORD)).status_code == 401
    assert (await _login(anon, "exactfi", factory.PASSWORD)).status_code == 401


async def test_repeated_failures_are_throttled(anon: httpx.AsyncClient, factory) -> None:
    await factory.user(role="staff", username="target")
    await factory.user(role="staff", username="bystander")
    for _ in range(5):
        assert (await _login(anon, "target", "wrong password!!")).status_code == 401
    refused = await _login(anon, "target", "wrong password!!")
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    retry_after = int(refused.headers["retry-after"])
    assert 0 < retry_after <= 5 * 60
    # even the right password is refused while the lock lasts
    right = await _login(anon, "target", factory.PASSWORD)
    assert right.status_code == 429
    assert "retry-after" in right.headers
    # other usernames are not affected
    assert (await _login(anon, "bystander", factory.PASSWORD)).status_code == 200


async def test_unknown_usernames_are_throttled_too(anon: httpx.AsyncClient) -> None:
    for _ in range(5):
        assert (await _login(anon, "ghost", "whatever password")).status_code == 401
    assert (await _login(anon, "ghost", "whatever password")).status_code == 429


async def test_a_success_resets_the_count(anon: httpx.AsyncClient, factory) -> None:
    await factory.user(role="staff", username="forgetful")
    for _ in range(4):
        assert (await _login(anon, "forgetful", "wrong password!!")).status_code == 401
    assert (await _login(anon, "forgetful", factory.PASSWORD)).status_code == 200
    for _ in range(4):
        assert (await _login(anon, "forgetful", "wrong password!!")).status_code == 401
    assert (await _login(anon, "forgetful", factory.PASSWORD)).status_code == 200


async def test_the_throttle_belongs_to_the_app(
    anon: httpx.AsyncClient, factory, app, session
) -> None:
    await factory.user(role="staff", username="locked")
    throttle = app.state.login_throttle
    for _ in range(5):
        await throttle.attempt(session, "locked")
        await throttle.failed(session, "locked")
    assert (await _login(anon, "locked", factory.PASSWORD)).status_code == 429
    await throttle.succeeded(session, "LOCKED")
    assert (await _login(anon, "locked", factory.PASSWORD)).status_code == 200


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"username": "someone"},
        {"password": "a long password"},
    ],
)
async def test_missing_form_fields_are_422(anon: httpx.AsyncClient, data) -> None:
    response = await anon.post(TOKEN, data=data)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"]


async def test_json_instead_of_a_form_is_422(anon: httpx.AsyncClient, factory) -> None:
    await factory.user(role="staff", username="jsonuser")
    response = await anon.post(TOKEN, json={"username": "jsonuser", "password": factory.PASSWORD})
    assert response.status_code == 422


async def test_get_is_405(anon: httpx.AsyncClient) -> None:
    response = await anon.get(TOKEN)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _bad_tokens(key: str, user_id: int) -> dict[str, str]:
    good = create_token(key, user_id=user_id, expires_in=600)
    header, payload, signature = good.split(".")
    other = create_token(key, user_id=user_id + 1, expires_in=600)
    now = datetime.now(UTC)
    forged = _b64(b'{"sub":"1","exp":9999999999}')
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    return {
        "garbage": "not-a-token",
        "empty-ish": "a.b.c",
        "expired": create_token(key, user_id=user_id, expires_in=-60),
        "tampered signature": f"{header}.{payload}.{flipped}",
        "tampered payload": f"{header}.{other.split('.')[1]}.{signature}",
        "forged sub": f"{header}.{forged}.{signature}",
        "other key": create_token(
            "another-secret-key-" + "y" * 40, user_id=user_id, expires_in=600
        ),
        "alg none": jwt.encode(
            {"sub": str(user_id), "exp": now + timedelta(hours=1)}, None, algorithm="none"
        ),
        "no exp": jwt.encode({"sub": str(user_id)}, key, algorithm=ALGORITHM),
        "no sub": jwt.encode({"exp": now + timedelta(hours=1)}, key, algorithm=ALGORITHM),
        "sub not a number": jwt.encode(
            {"sub": "admin", "exp": now + timedelta(hours=1)}, key, algorithm=ALGORITHM
        ),
        "sub an int": jwt.encode(
            {"sub": user_id, "exp": now + timedelta(hours=1)}, key, algorithm=ALGORITHM
        ),
        "sub too large": create_token(key, user_id=2**63, expires_in=600),
        "unknown user": create_token(key, user_id=999_999_999, expires_in=600),
    }


async def test_bad_tokens_are_401(anon: httpx.AsyncClient, factory, app) -> None:
    user = await factory.user(role="admin")
    key = app.state.secret_key
    good = create_token(key, user_id=user.id, expires_in=600)
    assert (await anon.get(ME, headers={"Authorization": f"Bearer {good}"})).status_code == 200
    for name, token in _bad_tokens(key, user.id).items():
        response = await anon.get(ME, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert response.headers["www-authenticate"] == "Bearer", name
        assert response.headers["content-type"] == "application/problem+json", name
        assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc"]
)
async def test_missing_or_other_schemes_are_401(anon: httpx.AsyncClient, authorization) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await anon.get(ME, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_token_of_a_deleted_user_is_401(
    anon: httpx.AsyncClient, factory, session, app
) -> None:
    user = await factory.user(role="staff")
    token = create_token(app.state.secret_key, user_id=user.id, expires_in=600)
    # verified once (the app now remembers the token), then the user goes away
    assert (await anon.get(ME, headers={"Authorization": f"Bearer {token}"})).status_code == 200
    await session.delete(user)
    await session.flush()
    response = await anon.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_a_remembered_token_is_refused_once_it_expires(
    anon: httpx.AsyncClient, factory, app, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await factory.user(role="viewer")
    token = create_token(app.state.secret_key, user_id=user.id, expires_in=600)
    assert (await anon.get(ME, headers={"Authorization": f"Bearer {token}"})).status_code == 200
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    tokens = app.state.tokens
    monkeypatch.setattr(tokens, "clock", lambda: expires - 0.001)  # not yet: still remembered
    assert (await anon.get(ME, headers={"Authorization": f"Bearer {token}"})).status_code == 200
    monkeypatch.setattr(tokens, "clock", lambda: float(expires))  # the clock moves, no sleep
    response = await anon.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_the_verifier_checks_each_token_once(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "verifier-key-" + "z" * 40
    decoded: list[str] = []
    real = security.decode_token

    def counting(key: str, token: str, **options: Any):
        decoded.append(token)
        return real(key, token, **options)

    monkeypatch.setattr(security, "decode_token", counting)
    verifier = TokenVerifier(key, size=2)
    first = create_token(key, user_id=7, expires_in=600)
    assert [verifier.user_id(first) for _ in range(3)] == [7, 7, 7]
    assert decoded == [first]
    # failures are checked every time and never remembered
    bad = create_token("another-key-" + "q" * 40, user_id=7, expires_in=600)
    assert [verifier.user_id(bad) for _ in range(2)] == [None, None]
    assert decoded == [first, bad, bad]
    # bounded: the least recently used token is dropped and verified again when it returns
    second = create_token(key, user_id=8, expires_in=600)
    third = create_token(key, user_id=9, expires_in=600)
    assert [verifier.user_id(t) for t in (second, third, first)] == [8, 9, 7]
    assert decoded[-3:] == [second, third, first]
