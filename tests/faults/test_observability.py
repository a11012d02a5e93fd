"""Metrics at /metrics and the access log: what operators see, and what they must never see."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from ipcp_api.auth.security import create_token
from ipcp_api.logs import JsonFormatter

FRAMEWORKS = "/api/v1/frameworks"


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_need_no_token_and_are_not_in_the_schema(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "ipcp_http_requests_total" in response.text
    paths = (await anon.get("/openapi.json")).json()["paths"]
    assert "/metrics" not in paths


async def test_requests_are_counted_per_route_template(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, factory
) -> None:
    framework = await factory.framework()
    before = await scrape(anon)
    for ident in (framework.id, 987654321, 987654322):
        await client.get(f"{FRAMEWORKS}/{ident}")
    await client.put(f"{FRAMEWORKS}/{framework.id}")  # 405
    await anon.get("/no/such/path/42")
    await anon.request("BREW", "/healthz")
    after = await scrape(anon)
    route = "/api/v1/frameworks/{framework_id}"

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    total = "ipcp_http_requests_total"
    assert delta(total, method="GET", route=route, status="200") == 1
    assert delta(total, method="GET", route=route, status="404") == 2
    assert delta(total, method="PUT", route=route, status="405") == 1
    assert delta(total, method="GET", route="unmatched", status="404") == 1
    assert delta(total, method="other", route="/healthz", status="405") == 1
    hist = "ipcp_http_request_duration_seconds"
    assert delta(f"{hist}_count", method="GET", route=route, status="404") == 2
    assert delta(f"{hist}_bucket", method="GET", route=route, status="404", le="+Inf") == 2
    assert delta(f"{hist}_sum", method="GET", route=route, status="200") > 0
    # raw paths, ids and methods never become label values
    labels = {v for (_, label_set) in after for _, v in label_set}
    assert not any("987654321" in v or "/no/such" in v or v == "BREW" for v in labels)


async def test_413_is_counted_too(anon: httpx.AsyncClient) -> None:
    before = await scrape(anon)
    await anon.post(FRAMEWORKS, content=b"{}", headers={"content-length": str(2 * 1024 * 1024)})
    after = await scrape(anon)
    key = {"method": "POST", "route": "unmatched", "status": "413"}
    assert (
        value(after, "ipcp_http_requests_total", **key)
        - value(before, "ipcp_http_requests_total", **key)
        == 1
    )


async def test_pool_gauges_are_read_at_scrape_time(
    anon: httpx.AsyncClient, app: Any, engine: AsyncEngine
) -> None:
    assert app.state.engine is engine
    samples = await scrape(anon)
    in_use = engine.pool.checkedout()  # the test's own rolled-back connection at least
    assert value(samples, "ipcp_db_pool_checked_out") == in_use
    assert value(samples, "ipcp_db_pool_size") == engine.pool.size()
    assert value(samples, "ipcp_db_pool_max") == (
        app.state.settings.db_pool_size + app.state.settings.db_max_overflow
    )
    assert value(samples, "ipcp_db_pool_overflow") >= 0
    async with engine.connect() as extra:
        await extra.exec_driver_sql("SELECT 1")
        held = await scrape(anon)
        assert value(held, "ipcp_db_pool_checked_out") == in_use + 1
    assert value(await scrape(anon), "ipcp_db_pool_checked_out") == in_use
    assert value(samples, "ipcp_http_requests_in_progress") >= 1  # the scrape itself


async def test_metrics_hold_no_partner_data(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, factory
) -> None:
    partner = await factory.partner(code="ZZSECRET", name="Secret Partner Name")
    programme = await factory.programme(partner_id=partner.id, code="ZZSECRET-PRG")
    await client.get(f"/api/v1/partners/{partner.id}")
    await client.get(f"/api/v1/programmes/{programme.id}/report")
    await client.get("/api/v1/partners", params={"q": "Secret Partner"})
    text = (await anon.get("/metrics")).text
    for secret in ("ZZSECRET", "Secret Partner", f"/partners/{partner.id}", "q="):
        assert secret not in text


def test_multiprocess_mode_adds_up_every_worker(tmp_path: Path) -> None:
    """With PROMETHEUS_MULTIPROC_DIR, each process writes its own files there and a scrape
    by any one of them reports the sum: here one "worker" serves 3 requests and exits, a
    second serves 2 and scrapes."""
    script = textwrap.dedent(
        """
        import asyncio, pathlib, sys, time
        import httpx
        from ipcp_api.app import create_app
        from ipcp_api.config import load_settings
        from ipcp_api import metrics

        assert metrics.MULTIPROCESS
        data_dir, requests, role, marker = sys.argv[1:]
        app = create_app(load_settings(secret_key="m" * 40, data_dir=data_dir))

        async def main():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://w") as c:
                for _ in range(int(requests)):
                    assert (await c.get("/healthz")).status_code == 200
                if role == "scraper":
                    deadline = time.monotonic() + 90
                    while not pathlib.Path(marker).exists():
                        assert time.monotonic() < deadline, "the other worker never finished"
                        await asyncio.sleep(0.05)
                    print((await c.get("/metrics")).text)

        asyncio.run(main())
        metrics.worker_exiting()
        if role == "worker":
            pathlib.Path(marker).touch()
        """
    )
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    marker = tmp_path / "worker-done"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(multiproc)}
    env.pop("DATABASE_URL", None)

    def start(requests: int, role: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [
                sys.executable,
                "-c",
                script,
                str(tmp_path / "data"),
                str(requests),
                role,
                str(marker),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    # two processes started together, as uvicorn starts its workers
    worker, scraper = start(3, "worker"), start(2, "scraper")
    _, worker_err = worker.communicate(timeout=120)
    assert worker.returncode == 0, worker_err
    exposition, scraper_err = scraper.communicate(timeout=120)
    assert scraper.returncode == 0, scraper_err
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
    }
    healthz = {"method": "GET", "route": "/healthz", "status": "200"}
    assert value(samples, "ipcp_http_requests_total", **healthz) == 5
    assert value(samples, "ipcp_http_request_duration_seconds_count", **healthz) == 5
    # the first worker exited cleanly: its live gauges are gone, the scraper's remain
    assert value(samples, "ipcp_http_requests_in_progress") == 1


# --- the access log ---------------------------------------------------------------------------


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.stream = io.StringIO()
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.stream.write(self.format(record) + "\n")

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]


async def test_access_log_never_holds_credentials(
    anon: httpx.AsyncClient, app: Any, factory
) -> None:
    password = factory.PASSWORD
    user = await factory.user(role="admin", username="log.watcher")
    token = create_token(app.state.secret_key, user_id=user.id, expires_in=600)
    bearer = {"Authorization": f"Bearer {token}"}
    logger = logging.getLogger("ipcp_api")
    handler = Captured()
    logger.addHandler(handler)
    try:
        login = await anon.post(
            "/api/v1/auth/token", data={"username": "log.watcher", "password": password}
        )
        assert login.status_code == 200
        issued = login.json()["access_token"]
        await anon.post(
            "/api/v1/auth/token", data={"username": "log.watcher", "password": "wrong " + password}
        )
        assert (await anon.get("/api/v1/users/me", headers=bearer)).status_code == 200
        await anon.get("/api/v1/users/me", headers={"Authorization": f"Bearer {issued}"})
        await anon.get("/api/v1/users/me", headers={"Authorization": "Bearer forged.token.value"})
        await anon.get("/api/v1/frameworks", params={"access_token": token}, headers=bearer)
        created = await anon.post(
            "/api/v1/users",
            json={"username": "new.person", "password": "another secret pass", "role": "staff"},
            headers={**bearer, "Cookie": "session=cookie-secret"},
        )
        assert created.status_code == 201, created.text
    finally:
        logger.removeHandler(handler)
    raw = handler.stream.getvalue()
    entries = [e for e in handler.lines() if e["logger"] == "ipcp_api.access"]
    assert len(entries) == 7
    for entry in entries:
        assert set(entry) == {
            "at",
            "level",
            "logger",
            "message",
            "request_id",
            "method",
            "path",
            "status",
            "duration_ms",
            "user_id",
        }
    assert {e["user_id"] for e in entries} == {None, user.id}
    for secret in (
        token,
        issued,
        token.split(".")[2],  # the signature alone
        "forged.token.value",
        password,
        "another secret pass",
        "cookie-secret",
        "Bearer",
        "authorization",
        "Authorization",
        "access_token",
    ):
        assert secret not in raw, secret
