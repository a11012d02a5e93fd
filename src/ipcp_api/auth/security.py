"""Password hashing (argon2 via pwdlib) and signed access tokens (JWT via pyjwt)."""

from __future__ import annotations

import functools
import re
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import jwt
from cachetools import TLRUCache
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from ipcp_api.common.types import MAX_BIGINT
from ipcp_api.config import PLACEHOLDER_SECRETS, Environment, Settings

ALGORITHM = "HS256"
_hasher = PasswordHash((Argon2Hasher(),))


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the username does not exist, so both cases cost the same time.

    Made on first use (in a worker thread), not at import: importing the package stays cheap.
    """
    return _hasher.hash("not-a-real-password-0000")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Blocking (argon2 takes tens of milliseconds): call ``check_password`` from async code."""
    if password_hash is None:
        _hasher.verify(password, _dummy_hash())
        return False
    return _hasher.verify(password, password_hash)


class PasswordChecker:
    """Runs argon2 in worker threads, at most ``concurrency`` at once.

    argon2 releases the GIL, so the event loop keeps serving other requests while passwords
    are checked; the bound keeps a burst of logins from taking every thread and core (the
    other logins wait their turn, without blocking the loop).
    """

    def __init__(self, concurrency: int) -> None:
        self._limiter = anyio.CapacityLimiter(concurrency)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        return await anyio.to_thread.run_sync(
            verify_password, password, password_hash, limiter=self._limiter
        )

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(hash_password, password, limiter=self._limiter)


class SecretKeyError(Exception):
    pass


def resolve_secret_key(settings: Settings) -> str:
    """``IPCP_SECRET_KEY``; in development, generated once and kept in the data directory."""
    key = settings.secret_key
    if key is not None and key.strip().lower() not in PLACEHOLDER_SECRETS and len(key) >= 32:
        return key
    if settings.environment is Environment.production:
        raise SecretKeyError(
            "invalid setting IPCP_SECRET_KEY: production needs a random key of at least"
            " 32 characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
        )
    if key is not None:
        raise SecretKeyError(
            "invalid setting IPCP_SECRET_KEY: a placeholder or a key shorter than 32 characters"
        )
    path = Path(settings.data_dir) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    generated = secrets.token_urlsafe(48)
    path.write_text(generated)
    path.chmod(0o600)
    return generated


def resolve_secret_keys(settings: Settings) -> list[str]:
    """The signing keys, newest first: ``IPCP_SECRET_KEYS`` (comma-separated) when set, then
    ``IPCP_SECRET_KEY`` if it is set and not already listed (so a deployment can move from the
    one-key form to a rotation without invalidating what the old key signed); otherwise the
    one key of ``resolve_secret_key``. Tokens and cursors are signed with the first and
    accepted with any."""
    if settings.secret_keys is None or not settings.secret_keys.strip():
        return [resolve_secret_key(settings)]
    keys = [key.strip() for key in settings.secret_keys.split(",") if key.strip()]
    for key in keys:
        if key.lower() in PLACEHOLDER_SECRETS or len(key) < 32:
            raise SecretKeyError(
                "invalid setting IPCP_SECRET_KEYS: every key must be random and at least"
                " 32 characters (a placeholder or a shorter key is listed)"
            )
    if settings.secret_key is not None and settings.secret_key not in keys:
        keys.append(resolve_secret_key(settings))
    return keys


TOKEN_VERSION_CLAIM = "tv"
"""The user's ``token_version`` when the token was issued; a token whose version is no longer
the user's is refused (a new password, role or partner, deactivation bump it). A token
without it (issued before the claim existed) counts as version 0."""

# A plain ASCII decimal user id: str.isdigit() would also take "٣" (Arabic-Indic three).
_PLAIN_ID = re.compile(r"[1-9][0-9]{0,18}")


def create_token(key: str, *, user_id: int, expires_in: int, token_version: int = 0) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        TOKEN_VERSION_CLAIM: token_version,
        "iat": now,
        "exp": now + timedelta(seconds=expires_in),
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def decode_token(
    key: str | Sequence[str], token: str, *, clock: Callable[[], float] | None = None
) -> dict[str, Any] | None:
    """The claims of a token signed with ``key`` (or any of several keys: key rotation) that
    has not expired by ``clock()`` (the system clock by default), or None."""
    options: Any = {"require": ["sub", "exp"]}
    if clock is not None:
        options["verify_exp"] = False  # checked below, against the given clock
    for one in (key,) if isinstance(key, str) else key:
        try:
            claims: dict[str, Any] = jwt.decode(token, one, algorithms=[ALGORITHM], options=options)
        except jwt.InvalidSignatureError:
            continue  # perhaps signed with another of the keys
        except jwt.PyJWTError:
            return None
        if clock is not None:
            exp = claims.get("exp")
            if not isinstance(exp, int | float) or clock() >= exp:
                return None
        return claims
    return None


class TokenVerifier:
    """Verifies bearer tokens for one signing key (or several: ``IPCP_SECRET_KEYS``),
    remembering the verified ones until they expire.

    A token's verdict depends only on the key, its bytes and the clock: a token verified once
    stays valid, with the same subject, until its ``exp``. So a verified token's user id is
    kept (at most ``size`` tokens, least recently used dropped first) and a later request with
    the same token skips the HMAC and JSON work (~60 µs, 5-8 % of a detail request). The
    expiry is checked again on every use, so a remembered token is refused exactly when pyjwt
    would refuse it. Only the signature check is cached: the caller still reads the user
    on every request, so a deactivated user is locked out at once. Failures are not kept.
    """

    def __init__(
        self, key: str | Sequence[str], size: int = 4096, clock: Callable[[], float] = time.time
    ) -> None:
        self._key = key
        self.clock = clock
        """Seconds since the epoch; tests move it instead of sleeping."""
        self._verified: TLRUCache[str, tuple[int, int, float]] = TLRUCache(
            maxsize=size, ttu=lambda _token, value, _now: value[2], timer=lambda: self.clock()
        )

    def user_id(self, token: str) -> int | None:
        """The token's user id, or None if it is forged, garbled, expired or not ours."""
        subject = self.subject(token)
        return subject[0] if subject is not None else None

    def subject(self, token: str) -> tuple[int, int] | None:
        """The token's (user id, token version), or None if it is forged, garbled, expired or
        not ours."""
        known = self._verified.get(token)
        if known is not None and self.clock() < known[2]:
            return known[0], known[1]
        claims = decode_token(self._key, token, clock=self.clock)
        sub = claims.get("sub") if claims else None
        exp = claims.get("exp") if claims else None
        version = claims.get(TOKEN_VERSION_CLAIM, 0) if claims else None
        if not isinstance(sub, str) or not _PLAIN_ID.fullmatch(sub) or int(sub) > MAX_BIGINT:
            return None
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            return None
        if type(version) is not int or not 0 <= version <= 2**31 - 1:
            return None
        self._verified[token] = (int(sub), version, float(exp))
        return int(sub), version
