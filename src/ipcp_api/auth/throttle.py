"""Refuse logins for a username after repeated failures (429 with Retry-After).

The count lives in PostgreSQL (table ``login_throttle``), so every worker and every replica
shares it: 5 failures in 15 minutes lock a username for 5 minutes (settings
``IPCP_LOGIN_MAX_FAILURES``, ``IPCP_LOGIN_WINDOW_SECONDS``, ``IPCP_LOGIN_LOCK_SECONDS``).

An attempt is counted *before* its password is checked, by one atomic
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, and the decision is taken on the returned
count: however many guesses arrive at the same moment, at most ``max_failures`` of them reach
the password check in a window (counting after the check let a burst of concurrent guesses
through); the others get 429 with ``Retry-After: 1`` (refused, but no lock: only failures
lock). A success deletes the row (the count starts again); a failure sets the lock once the
count reaches the bound. Times are ``statement_timestamp()``, not ``now()``: a row is judged by
the time of its statement even inside a longer transaction. Each statement runs in its own
short transaction, committed at once, so a failure counts although its request fails.

Rows are keyed by the SHA-256 of the username after NFKC normalisation and case folding: a row
has a fixed size whatever a client sends, and no number of other usernames can clear a lock
(nothing is ever cleared wholesale; only rows whose window and lock are both over are purged,
a bounded batch on every ``purge_every``-th attempt of a process).
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.config import Settings

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
LOCK_SECONDS = 5 * 60
PURGE_BATCH = 1000
IN_FLIGHT_RETRY_AFTER = 1


def normalise_username(username: str) -> str:
    """NFKC, then case folding (then NFKC again: folding can undo it), as Unicode's
    compatibility caseless matching does."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def username_key(username: str) -> bytes:
    return hashlib.sha256(normalise_username(username).encode("utf-8", "surrogatepass")).digest()


# Typed parameters (asyncpg cannot infer a bare `statement_timestamp() + $1`).
W, L, M = "CAST(:window AS interval)", "CAST(:lock AS interval)", "CAST(:max AS integer)"
# Not locked now, and the window (or an earlier lock) is over: the count starts again.
_LOCKED = "t.locked_until > statement_timestamp()"
_FRESH = f"(t.window_start + {W} <= statement_timestamp() OR t.locked_until IS NOT NULL)"

_ATTEMPT = text(
    f"""
    INSERT INTO login_throttle AS t (key, attempts, window_start, locked_until, expires_at)
    VALUES (:key, 1, statement_timestamp(), NULL, statement_timestamp() + {W} + {L})
    ON CONFLICT (key) DO UPDATE SET
        attempts = CASE WHEN {_LOCKED} THEN t.attempts
                        WHEN {_FRESH} THEN 1
                        ELSE t.attempts + 1 END,
        window_start = CASE WHEN {_LOCKED} THEN t.window_start
                            WHEN {_FRESH} THEN statement_timestamp()
                            ELSE t.window_start END,
        locked_until = CASE WHEN {_LOCKED} THEN t.locked_until
                            ELSE NULL END,
        expires_at = statement_timestamp() + {W} + {L}
    RETURNING attempts, locked_until, statement_timestamp() AS now
    """
)

_FAILED = text(
    f"""
    INSERT INTO login_throttle AS t (key, attempts, window_start, locked_until, expires_at)
    VALUES (:key, 1, statement_timestamp(), CASE WHEN {M} <= 1 THEN statement_timestamp() + {L} END,
            statement_timestamp() + {W} + {L})
    ON CONFLICT (key) DO UPDATE SET
        locked_until = CASE
            WHEN (t.locked_until IS NULL OR t.locked_until <= statement_timestamp())
                 AND t.attempts >= {M}
            THEN statement_timestamp() + {L}
            ELSE t.locked_until END,
        expires_at = greatest(t.expires_at, statement_timestamp() + {L})
    """
)

_SUCCEEDED = text("DELETE FROM login_throttle WHERE key = :key")

_PURGE = text(
    """
    DELETE FROM login_throttle WHERE key IN (
        SELECT key FROM login_throttle WHERE expires_at < statement_timestamp()
        LIMIT :batch FOR UPDATE SKIP LOCKED
    )
    """
)


@dataclass(frozen=True)
class Verdict:
    """The outcome of counting an attempt: ``retry_after`` seconds, 0 when it may proceed."""

    retry_after: int


class LoginThrottle:
    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window: float = WINDOW_SECONDS,
        lock: float = LOCK_SECONDS,
        purge_every: int = 64,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lock = lock
        self.purge_every = purge_every
        self._attempts = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginThrottle:
        return cls(
            settings.login_max_failures,
            settings.login_window_seconds,
            settings.login_lock_seconds,
            settings.login_purge_every,
        )

    def _params(self, username: str) -> dict[str, Any]:
        return {
            "key": username_key(username),
            "max": self.max_failures,
            "window": timedelta(seconds=self.window),
            "lock": timedelta(seconds=self.lock),
        }

    async def attempt(self, session: AsyncSession, username: str) -> Verdict:
        """Count an attempt for ``username`` (the caller commits at once)."""
        row = (await session.execute(_ATTEMPT, self._params(username))).one()
        self._attempts += 1
        if self._attempts % self.purge_every == 0:
            await self.purge(session)
        locked_until: datetime | None = row.locked_until
        if locked_until is not None and locked_until > row.now:
            return Verdict(max(1, math.ceil((locked_until - row.now).total_seconds())))
        if row.attempts > self.max_failures:
            # As many attempts as the bound are being checked right now: refused, not locked
            # (only failures lock); the client may try again in a moment.
            return Verdict(IN_FLIGHT_RETRY_AFTER)
        return Verdict(0)

    async def failed(self, session: AsyncSession, username: str) -> None:
        await session.execute(_FAILED, self._params(username))

    async def succeeded(self, session: AsyncSession, username: str) -> None:
        await session.execute(_SUCCEEDED, {"key": username_key(username)})

    async def purge(self, session: AsyncSession) -> int:
        """Delete up to ``PURGE_BATCH`` rows whose window and lock are over (index scan)."""
        result: Any = await session.execute(_PURGE, {"batch": PURGE_BATCH})
        return int(result.rowcount)
