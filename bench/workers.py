"""Requests/s of a list endpoint with 1, 2 and 4 workers on one database.

Creates a database (dropped at the end) with 200 frameworks and an admin, then for each worker
count starts ``ipcp-api serve --workers N``, warms up, and drives
``GET /api/v1/frameworks?limit=50`` with ``wrk`` (``apt-get install -y wrk``) through
``bench/wrk.lua``. Prints requests/s and p50/p99 per worker count.

    python bench/workers.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

HERE = Path(__file__).resolve().parent
SECRET = "bench-workers-" + "k" * 40
SERVE = [sys.executable, "-m", "ipcp_api.cli", "serve", "--no-migrate"]


async def _prepare(admin_url: str, url: str, name: str) -> int:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    env = dict(os.environ, DATABASE_URL=url)
    subprocess.run(
        [sys.executable, "-m", "ipcp_api.cli", "migrate"], env=env, check=True, capture_output=True
    )
    connection = await asyncpg.connect(url)
    try:
        await connection.executemany(
            "INSERT INTO frameworks (code, name) VALUES ($1, $2)",
            [(f"BW{n:04d}", f"Bench framework {n}") for n in range(200)],
        )
        return int(
            await connection.fetchval(
                "INSERT INTO users (username, password_hash, role)"
                " VALUES ('bench.admin', 'x', 'admin') RETURNING id"
            )
        )
    finally:
        await connection.close()


async def _drop(admin_url: str, name: str) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _wrk(url: str, token: str, seconds: float, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(HERE / "wrk.lua"), url],
        env=dict(os.environ, BENCH_TOKEN=token),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    figures: dict[str, float] = json.loads(line[len("BENCH ") :])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True, help="a maintenance URL (db postgres)")
    parser.add_argument("--port", type=int, default=18420)
    parser.add_argument("--duration", type=float, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    from ipcp_api.auth.security import create_token

    name = f"ipcp_bench_workers_{uuid.uuid4().hex[:6]}"
    url = f"{args.database_url.rpartition('/')[0]}/{name}"
    user_id = asyncio.run(_prepare(args.database_url, url, name))
    token = create_token(SECRET, user_id=user_id, expires_in=3600)
    target = f"http://127.0.0.1:{args.port}/api/v1/frameworks?limit=50"
    try:
        for workers in (int(n) for n in args.workers.split(",")):
            env = dict(
                os.environ, DATABASE_URL=url, IPCP_SECRET_KEY=SECRET, IPCP_LOG_LEVEL="WARNING"
            )
            server = subprocess.Popen(
                [*SERVE, "--port", str(args.port), "--workers", str(workers)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                for _ in range(200):
                    try:
                        if httpx.get(
                            target, headers={"Authorization": f"Bearer {token}"}
                        ).is_success:
                            break
                    except httpx.TransportError:
                        pass
                    time.sleep(0.1)
                _wrk(target, token, 2, args.connections)  # warm-up: every worker, every pool
                run = _wrk(target, token, args.duration, args.connections)
                rps = run["requests"] / (run["duration_us"] / 1e6)
                errors = run["status"] + run["timeout"] + run["connect"] + run["read"]
                print(
                    f"workers={workers}  {rps:7.0f} req/s  p50={run['p50'] / 1000:6.1f} ms"
                    f"  p99={run['p99'] / 1000:6.1f} ms  errors={errors}"
                )
            finally:
                server.terminate()
                server.wait(timeout=30)
    finally:
        asyncio.run(_drop(args.database_url, name))


if __name__ == "__main__":
    main()
