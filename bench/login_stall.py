"""Does a burst of logins stall the other requests of a worker?

Starts ``ipcp-api serve --workers 1`` on a fresh database (created and dropped here), signs in
once, then measures the latency of ``GET /api/v1/users/me`` (a real request: token, one SQL
statement) sent one after another: first alone, then while 20 logins (argon2) run at once,
for several rounds. Prints p50 / p99 / max of the GETs in both phases.

    python bench/login_stall.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

``--src DIR`` runs the server from another checkout's ``src`` (e.g. ``git archive main src``
unpacked somewhere) to compare before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

PASSWORD = "a long bench password"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(name: str, values: list[float]) -> str:
    return (
        f"{name:<28} n={len(values):<5} p50={statistics.median(values):7.1f} ms"
        f"  p99={_pct(values, 0.99):7.1f} ms  max={max(values):7.1f} ms"
    )


async def _get_loop(client: httpx.AsyncClient, token: str, stop: asyncio.Event) -> list[float]:
    latencies = []
    while not stop.is_set():
        started = time.perf_counter()
        response = await client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
        )
        latencies.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return latencies


async def measure(base_url: str, rounds: int, logins: int) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        form = {"username": f"bench.user{logins}", "password": PASSWORD}
        token = (await client.post("/api/v1/auth/token", data=form)).json()["access_token"]
        quiet: list[float] = []
        for _ in range(200):
            started = time.perf_counter()
            await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
            quiet.append((time.perf_counter() - started) * 1000)
        busy: list[float] = []
        login_times: list[float] = []
        for _ in range(rounds):
            stop = asyncio.Event()
            getter = asyncio.create_task(_get_loop(client, token, stop))
            started = time.perf_counter()
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as burst:
                answers = await asyncio.gather(
                    *(
                        burst.post(
                            "/api/v1/auth/token",
                            data={"username": f"bench.user{n}", "password": PASSWORD},
                        )
                        for n in range(logins)
                    )
                )
            login_times.append((time.perf_counter() - started) * 1000)
            stop.set()
            busy.extend(await getter)
            assert all(a.status_code == 200 for a in answers), [a.status_code for a in answers]
        print(_summary("GET alone", quiet))
        print(_summary(f"GET during {logins} logins", busy))
        print(f"{logins} logins took (per burst) median {statistics.median(login_times):.0f} ms")


async def _users(url: str, count: int) -> None:
    """``bench.user0`` … : one user per concurrent login (one user's concurrent logins beyond
    the throttle's bound are refused for a moment)."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    password_hash = PasswordHash((Argon2Hasher(),)).hash(PASSWORD)
    connection = await asyncpg.connect(url)
    try:
        await connection.executemany(
            "INSERT INTO users (username, password_hash, role) VALUES ($1, $2, 'admin')",
            [(f"bench.user{n}", password_hash) for n in range(count)],
        )
    finally:
        await connection.close()


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True, help="a maintenance URL (db postgres)")
    parser.add_argument("--port", type=int, default=18410)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--logins", type=int, default=20)
    parser.add_argument("--src", help="run the server from this src directory")
    args = parser.parse_args()
    name = f"ipcp_bench_login_{uuid.uuid4().hex[:6]}"
    base, _, _ = args.database_url.rpartition("/")
    url = f"{base}/{name}"
    asyncio.run(_admin(args.database_url, f'CREATE DATABASE "{name}"'))
    env = dict(os.environ, DATABASE_URL=url, IPCP_SECRET_KEY="bench-" + "k" * 40)
    if args.src:
        env["PYTHONPATH"] = str(Path(args.src).resolve())
    exe = [sys.executable, "-m", "ipcp_api.cli"]
    server = None
    try:
        subprocess.run([*exe, "migrate"], env=env, check=True, capture_output=True)
        asyncio.run(_users(url, args.logins + 1))
        server = subprocess.Popen(
            [*exe, "serve", "--no-migrate", "--port", str(args.port), "--workers", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base_url = f"http://127.0.0.1:{args.port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base_url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        asyncio.run(measure(base_url, args.rounds, args.logins))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        asyncio.run(_admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
