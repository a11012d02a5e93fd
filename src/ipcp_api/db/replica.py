"""Reports from a streaming standby: ``IPCP_DATABASE_READ_URL``.

A report reads from the standby while its replay lag is within ``IPCP_READ_MAX_LAG_SECONDS``,
and from the primary otherwise; the response says which (``X-Served-By: standby | primary``).

Lag is measured so that an idle primary does not look like lag: the standby is caught up when
it has replayed the primary's current WAL position (``pg_current_wal_lsn()`` on the primary,
``pg_last_wal_replay_lsn()`` on the standby). Only when it is behind does the age of its last
replayed transaction count (``now() - pg_last_xact_replay_timestamp()``, which alone grows
without bound while nothing is written). The verdict is kept ``CHECK_EVERY`` seconds per
process, and ``RETRY_UNREACHABLE`` seconds when the standby cannot be reached.

A report the standby cannot finish goes to the primary, once: a query cancelled by a recovery
conflict (SQLSTATE 40001/40P01), a standby that has gone away, or a 404 (the object may be
newer than the standby's copy). Whoever is asking is still checked on the primary (the token's
user is read there, so a deactivation takes effect at once).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ipcp_api.config import Settings
from ipcp_api.errors import NotFound

STANDBY = "standby"
PRIMARY = "primary"
HEADER = "X-Served-By"
CHECK_EVERY = 1.0
RETRY_UNREACHABLE = 5.0
RECOVERY_CONFLICT = frozenset({"40001", "40P01"})

_log = logging.getLogger(__name__)
T = TypeVar("T")

_PRIMARY_LSN = text("SELECT pg_current_wal_lsn()::text")
_STANDBY_STATE = text(
    """
    SELECT pg_is_in_recovery() AS standby,
           coalesce(pg_last_wal_replay_lsn() >= CAST(CAST(:primary_lsn AS text) AS pg_lsn),
                    false) AS caught_up,
           extract(epoch FROM now() - pg_last_xact_replay_timestamp()) AS age
    """
)


def _sqlstate(error: BaseException) -> str | None:
    orig = getattr(error, "orig", None)
    for candidate in (getattr(orig, "__cause__", None), orig):
        code = getattr(candidate, "sqlstate", None)
        if code:
            return str(code)
    return None


class StandbyReads:
    """The standby's engine (autocommit: reports only read) and the lag verdict."""

    def __init__(self, engine: AsyncEngine | None, max_lag: float) -> None:
        self.engine = engine
        self.max_lag = max_lag
        self._maker = (
            async_sessionmaker(
                engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
            )
            if engine is not None
            else None
        )
        self._usable = False
        self._until = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> StandbyReads:
        if settings.database_read_url is None:
            return cls(None, settings.read_max_lag_seconds)
        from ipcp_api.db.session import make_engine

        # A small pool: reports are bounded per process (IPCP_REPORT_CONCURRENCY) anyway.
        small = settings.model_copy(
            update={"db_pool_size": settings.report_concurrency, "db_max_overflow": 0}
        )
        return cls(make_engine(small, settings.database_read_url), settings.read_max_lag_seconds)

    async def dispose(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()

    def _remember(self, usable: bool, seconds: float) -> bool:
        self._usable, self._until = usable, time.monotonic() + seconds
        return usable

    async def usable(self, primary: AsyncSession) -> bool:
        """Whether the standby is within the allowed lag (checked at most once a second)."""
        if self._maker is None:
            return False
        if time.monotonic() < self._until:
            return self._usable
        # On the primary (its failure is the usual 503), then on the standby.
        primary_lsn = await primary.scalar(_PRIMARY_LSN)
        try:
            async with self._maker() as standby:
                row = (await standby.execute(_STANDBY_STATE, {"primary_lsn": primary_lsn})).one()
        except (sa_exc.DBAPIError, OSError, TimeoutError) as exc:
            _log.warning("standby not usable; reports read from the primary: %r", exc)
            return self._remember(False, RETRY_UNREACHABLE)
        if not row.standby:  # the read URL names a primary (e.g. after a failover): not it
            return self._remember(False, CHECK_EVERY)
        lag = 0.0 if row.caught_up else (float(row.age) if row.age is not None else None)
        return self._remember(lag is not None and lag <= self.max_lag, CHECK_EVERY)

    async def run(
        self,
        primary: AsyncSession,
        build: Callable[..., Awaitable[T]],
        *args: Any,
        **kwargs: Any,
    ) -> tuple[T, str]:
        """``build(session, *args, **kwargs)`` on the standby when it is usable, else (or
        when the standby cannot finish it) on the primary; and which one answered."""
        if self._maker is not None and await self.usable(primary):
            try:
                async with self._maker() as standby:
                    return await build(standby, *args, **kwargs), STANDBY
            except NotFound:
                pass  # perhaps newer than the standby's copy: the primary decides
            except sa_exc.DBAPIError as exc:
                if _sqlstate(exc) not in RECOVERY_CONFLICT and not exc.connection_invalidated:
                    raise
                _log.warning("report on the standby failed (%s); retried on the primary", exc.code)
                if exc.connection_invalidated:
                    self._remember(False, RETRY_UNREACHABLE)
            except (OSError, TimeoutError):
                self._remember(False, RETRY_UNREACHABLE)
        return await build(primary, *args, **kwargs), PRIMARY
