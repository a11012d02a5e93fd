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

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def oauth_error(error: str, description: str) -> dict[str, str]:
    """RFC 6749 (5.2) members beside the problem's own: OAuth clients, Swagger UI's sign-in
    dialog included, show ``error_description`` to the person signing in."""
    return {"error": error, "error_description": description}


async def form_fields_only(request: Request) -> None:
    """A token request is a form: say so plainly to a client that sent JSON (422)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in _FORM_TYPES:
        msg = (
            "send username and password as form fields (Content-Type:"
            " application/x-www-form-urlencoded), not as "
            + (f"{media}" if media else "a body without a Content-Type")
        )
        raise Invalid(("body",), msg, extensions=oauth_error("invalid_request", msg))
    form = await request.form()
    for name in ("username", "password"):
        if not form.get(name):
            msg = f"{name} is required (a form field)"
            raise Invalid(("body", name), msg, extensions=oauth_error("invalid_request", msg))


@router.post(
    "/token",
    response_model=TokenRead,
    summary="Get an access token",
    description=(
        "Sign in: send your `username` and `password` as **form fields**"
        " (`application/x-www-form-urlencoded`, not JSON) and receive a token to send as"
        " `Authorization: Bearer <token>` with every other request. In this page, the"
        " **Authorize** button does this for you. A wrong password, or an account that is no"
        " longer active, gets 401; after 5 failures in 15 minutes the username is refused for"
        " 5 minutes (429, `Retry-After` says how many seconds). Errors also carry OAuth's"
        " `error` and `error_description`."
    ),
    responses=errors(401, 413, 422, 429, 503),
)
async def token(
    request: Request,
    _form_only: Annotated[None, Depends(form_fields_only)],
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
        wait = verdict.retry_after
        msg = "too many failed logins for this username; try again later"
        raise TooManyRequests(
            msg,
            headers={"Retry-After": str(wait)},
            extensions=oauth_error("invalid_request", f"{msg} (in {wait} seconds)"),
        )
    ok = await service.check_credentials(state.password_checker, user, form.password)
    async with maker() as session:
        if ok:
            await throttle.succeeded(session, form.username)
        else:
            await throttle.failed(session, form.username)
        await session.commit()
    if not ok or user is None:
        msg = "wrong username or password"
        raise Unauthorized(msg, extensions=oauth_error("invalid_grant", msg))
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
