from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ipcp_api.auth import service
from ipcp_api.auth.schemas import TokenRead
from ipcp_api.auth.security import create_token
from ipcp_api.auth.throttle import LoginThrottle
from ipcp_api.common.responses import errors
from ipcp_api.errors import Invalid, TooManyRequests, Unauthorized

# Longer than any username or password can be (users/schemas.py): refused before hashing.
MAX_USERNAME = 256
MAX_PASSWORD = 4096

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    response_model=TokenRead,
    summary="Get an access token",
    description=(
        "OAuth2 password flow: send `username` and `password` as form fields and receive a"
        " bearer token. Wrong credentials and inactive users get the same 401. After repeated"
        " failures a username is refused for a while with 429 and `Retry-After`."
    ),
    responses=errors(401, 413, 422, 429, 503),
)
async def token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenRead:
    # Bounded before anything is hashed or stored (the throttle keeps only a digest anyway).
    if len(form.username) > MAX_USERNAME:
        raise Invalid(("body", "username"), f"at most {MAX_USERNAME} characters")
    if len(form.password) > MAX_PASSWORD:
        raise Invalid(("body", "password"), f"at most {MAX_PASSWORD} characters")
    state = request.app.state
    throttle: LoginThrottle = state.login_throttle
    maker: async_sessionmaker[AsyncSession] = state.sessionmaker
    # Counted first, in its own transaction (committed at once), decided on the returned
    # count: concurrent guesses cannot all slip in before the first failure is recorded.
    # No connection is held while the password is checked.
    async with maker() as session:
        verdict = await throttle.attempt(session, form.username)
        user = None if verdict.retry_after else await service.find_user(session, form.username)
        await session.commit()
    if verdict.retry_after:
        raise TooManyRequests(
            "too many failed logins for this username; try again later",
            headers={"Retry-After": str(verdict.retry_after)},
        )
    ok = await service.check_credentials(state.password_checker, user, form.password)
    async with maker() as session:
        if ok:
            await throttle.succeeded(session, form.username)
        else:
            await throttle.failed(session, form.username)
        await session.commit()
    if not ok or user is None:
        raise Unauthorized("wrong username or password")
    expires_in = state.settings.token_expire_minutes * 60
    return TokenRead(
        access_token=create_token(
            state.secret_key,
            user_id=user.id,
            expires_in=expires_in,
            token_version=user.token_version,
        ),
        expires_in=expires_in,
    )
