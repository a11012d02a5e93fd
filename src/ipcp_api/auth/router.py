from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from ipcp_api.auth import service
from ipcp_api.auth.schemas import TokenRead
from ipcp_api.auth.security import create_token
from ipcp_api.common.responses import errors
from ipcp_api.db.session import SessionDep
from ipcp_api.errors import TooManyRequests, Unauthorized

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
    session: SessionDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenRead:
    throttle = request.app.state.login_throttle
    wait = throttle.retry_after(form.username)
    if wait:
        raise TooManyRequests(
            "too many failed logins for this username; try again later",
            headers={"Retry-After": str(wait)},
        )
    user = await service.authenticate(session, username=form.username, password=form.password)
    if user is None:
        throttle.failed(form.username)
        raise Unauthorized("wrong username or password")
    throttle.succeeded(form.username)
    expires_in = request.app.state.settings.token_expire_minutes * 60
    return TokenRead(
        access_token=create_token(
            request.app.state.secret_key,
            user_id=user.id,
            expires_in=expires_in,
            token_version=user.token_version,
        ),
        expires_in=expires_in,
    )
