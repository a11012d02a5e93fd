"""At most ``IPCP_REPORT_CONCURRENCY`` reports are built at once per process; the others wait
without holding a pooled connection (``reports/slots.py``). Real commits, a pool of one."""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client import REGISTRY

from ipcp_api.config import Settings
from ipcp_api.db.session import bind_database, make_engine
from ipcp_api.reports import service
from ipcp_api.reports.slots import ReportSlots

PORTFOLIO = "/api/v1/reports/portfolio"


def _gauge(name: str) -> float:
    value = REGISTRY.get_sample_value(name)
    assert value is not None, name
    return value


async def _until(condition: Any, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_a_waiting_report_gives_its_connection_back(committing: Any) -> None:
    app, client = committing, committing.client
    app.state.report_slots = slots = ReportSlots(1)
    engine = app.state.engine
    semaphore = slots._current()
    waiting_before = _gauge("ipcp_reports_waiting")
    building_before = _gauge("ipcp_reports_building")
    await semaphore.acquire()  # the one slot is taken: by "another report"
    try:
        waiting = asyncio.create_task(client.get(PORTFOLIO))
        # it passed the token check (which took the only connection), found no slot, and
        # gave the connection back
        await _until(lambda: engine.pool.checkedout() == 0 and len(semaphore._waiters or ()) == 1)
        assert not waiting.done()
        assert _gauge("ipcp_reports_waiting") == waiting_before + 1
        # so the rest of the API still gets the connection meanwhile
        other = await client.get("/api/v1/frameworks")
        assert other.status_code == 200, other.text
        assert not waiting.done()
    finally:
        semaphore.release()
    response = await waiting
    assert response.status_code == 200, response.text
    assert response.json()["as_of"]
    assert engine.pool.checkedout() == 0
    assert _gauge("ipcp_reports_waiting") == waiting_before
    assert _gauge("ipcp_reports_building") == building_before


async def test_reports_are_built_at_most_n_at_a_time(
    committing: Any, settings: Settings, monkeypatch: Any
) -> None:
    app, client = committing, committing.client
    app.state.report_slots = ReportSlots(2)
    running = peak = 0
    real = service.portfolio_report

    building: list[float] = []
    building_before = _gauge("ipcp_reports_building")

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        building.append(_gauge("ipcp_reports_building"))
        try:
            await asyncio.sleep(0.05)
            return await real(*args, **kwargs)
        finally:
            running -= 1

    monkeypatch.setattr(service, "portfolio_report", counted)
    one = app.state.engine
    wide = make_engine(settings.model_copy(update={"db_pool_size": 8}))  # room for all six
    bind_database(app.state, wide)
    try:
        responses = await asyncio.gather(*(client.get(PORTFOLIO) for _ in range(6)))
    finally:
        bind_database(app.state, one)
        await wide.dispose()
    assert [r.status_code for r in responses] == [200] * 6
    assert peak == 2
    # the gauge follows the slots: each report saw itself and at most one other
    assert {value - building_before for value in building} == {1, 2}
