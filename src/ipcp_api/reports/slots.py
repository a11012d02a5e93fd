"""A bound on the reports one worker process builds at once.

A report of a 100,000-milestone programme holds ~20,000 rows as Python objects and ~3.5 MB of
JSON while it is built; 32 such requests at once took a worker to 317 MB (bench/README.md).
``IPCP_REPORT_CONCURRENCY`` reports are built at a time per process; the others wait their
turn. A waiting request gives its pooled connection back first (its session is only a read
session, in autocommit, so there is nothing to lose), so waiting reports do not starve the rest
of the API of connections; it takes one again when its turn comes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.metrics import REPORTS_BUILDING, REPORTS_WAITING


class ReportSlots:
    def __init__(self, size: int) -> None:
        self.size = size
        self._semaphore: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _current(self) -> asyncio.Semaphore:
        # One semaphore per event loop: a semaphore belongs to the loop it first waited on.
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._loop is not loop:
            self._semaphore, self._loop = asyncio.Semaphore(self.size), loop
        return self._semaphore

    @asynccontextmanager
    async def slot(self, session: AsyncSession) -> AsyncIterator[None]:
        semaphore = self._current()
        if semaphore.locked():
            await session.close()  # wait without holding a pooled connection
            REPORTS_WAITING.inc()
            try:
                await semaphore.acquire()
            finally:
                REPORTS_WAITING.dec()
        else:
            await semaphore.acquire()
        REPORTS_BUILDING.inc()
        try:
            yield
        finally:
            REPORTS_BUILDING.dec()
            semaphore.release()
