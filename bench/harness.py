"""The HTTP benchmark: the API against the floor, driven by wrk, interleaved A/B.

    python -m bench                      # fresh database, generate, run, print the table
    python -m bench --duration 3 --rounds 1          # a quick look
    python -m bench --reuse --database-url postgresql://postgres@127.0.0.1/ipcp_bench_reports

Steps: (1) unless ``--reuse``, drop and create the database, migrate it (``ipcp-api
migrate``) and fill it with ``generate.py`` (``--partners`` programmes of 50-2,000 projects);
in every case add the ``LAT-1000/10000/100000`` programmes of ``report_latency.py`` if missing
and a ``bench-admin`` user. (2) Start the API (``ipcp-api serve --workers N --no-migrate``)
and the floor (``floor.py`` under uvicorn, same workers) on free ports. (3) Check that both
answer every benchmarked request with the same body and headers. (4) Warm both up, then for
each round and each endpoint run wrk against the API and the floor back to back (which goes
first alternates), so load from elsewhere on the machine hits both alike; the ratio of each
pair is what is reported. (5) Print requests/s, p50, p99 and errors per endpoint and side,
the ratio API/floor, report latency by programme size, and the peak RSS (VmHWM) of every
worker. Needs ``wrk`` on the PATH (Debian: ``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # generate.py and report_latency.py import each other this way

import generate  # noqa: E402
import report_latency  # noqa: E402

AS_OF = "2025-06-30"
SIZES = (1_000, 10_000, 100_000)
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ipcp_bench_http"


@dataclass(frozen=True)
class Endpoint:
    key: str
    name: str
    path: str
    accept: str = "application/json"
    connections: int | None = None  # None: --connections
    latency: bool = False  # one request at a time (-t1 -c1): latency, not throughput


ENDPOINTS = (
    Endpoint(
        "list", "projects: list (50/page)", "/api/v1/projects?programme_id={programme}&limit=50"
    ),
    Endpoint("detail", "projects: get one", "/api/v1/projects/{project}"),
    Endpoint("milestones", "milestones of a project", "/api/v1/milestones?project_id={project}"),
    Endpoint(
        "report-json",
        "programme report JSON (1k)",
        f"/api/v1/programmes/{{lat1000}}/report?as_of={AS_OF}",
    ),
    Endpoint(
        "report-csv",
        "programme report CSV (1k)",
        f"/api/v1/programmes/{{lat1000}}/report?as_of={AS_OF}",
        accept="text/csv",
    ),
    Endpoint(
        "portfolio",
        "portfolio report",
        f"/api/v1/reports/portfolio?as_of={AS_OF}",
        connections=4,
    ),
    *(
        Endpoint(
            f"latency-{size}",
            f"report JSON {size // 1000}k, 1 at a time",
            f"/api/v1/programmes/{{lat{size}}}/report?as_of={AS_OF}",
            latency=True,
        )
        for size in SIZES
    ),
)


@dataclass
class Run:
    requests: int
    seconds: float
    errors: int
    p50: float
    p95: float
    p99: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Server:
    name: str
    base: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Results:
    runs: dict[str, dict[str, list[Run]]] = field(default_factory=dict)

    def add(self, key: str, side: str, run: Run) -> None:
        self.runs.setdefault(key, {}).setdefault(side, []).append(run)


# --- the database ------------------------------------------------------------------------------


def admin_url(url: str) -> tuple[str, str]:
    """(URL of the ``postgres`` database on the same server, the benchmark database's name)."""
    base, _, name = url.rpartition("/")
    return f"{base}/postgres", name


async def fresh_database(url: str) -> None:
    maintenance, name = admin_url(url)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"refusing to drop a database named {name!r}")
    conn = await asyncpg.connect(maintenance)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([ipcp_api_command(), "migrate"], env=env, check=True, capture_output=True)


async def targets(url: str) -> dict[str, int]:
    """The ids the endpoints use: a median-sized generated programme and one of its projects
    with 10+ milestones; the ``LAT-`` programmes for the reports."""
    conn = await asyncpg.connect(url)
    try:
        programme = await conn.fetchval(
            """SELECT id FROM (
                 SELECT g.id, count(p.id) AS n FROM programmes g JOIN projects p
                   ON p.programme_id = g.id WHERE g.code NOT LIKE 'LAT-%' GROUP BY g.id
               ) s ORDER BY n, id OFFSET (SELECT count(*) / 2 FROM programmes
                                          WHERE code NOT LIKE 'LAT-%') LIMIT 1"""
        )
        project = await conn.fetchval(
            """SELECT p.id FROM projects p WHERE p.programme_id = $1 AND
                 (SELECT count(*) FROM milestones m WHERE m.project_id = p.id) >= 10
               ORDER BY p.code LIMIT 1""",
            programme,
        )
        found = {"programme": programme, "project": project}
        for size in SIZES:
            found[f"lat{size}"] = await conn.fetchval(
                "SELECT id FROM programmes WHERE code = $1", f"LAT-{size}-IPCP"
            )
        return found
    finally:
        await conn.close()


async def describe_database(url: str, ids: dict[str, int]) -> dict[str, Any]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM programmes) AS programmes,
                      (SELECT count(*) FROM projects) AS projects,
                      (SELECT count(*) FROM milestones) AS milestones,
                      (SELECT count(*) FROM projects WHERE programme_id = $1) AS list_total,
                      (SELECT count(*) FROM milestones WHERE project_id = $2) AS project_ms,
                      current_setting('server_version') AS version""",
            ids["programme"],
            ids["project"],
        )
        sizes = {}
        for size in SIZES:
            sizes[size] = await conn.fetchval(
                "SELECT count(*) FROM milestones m JOIN projects p ON p.id = m.project_id "
                "WHERE p.programme_id = $1",
                ids[f"lat{size}"],
            )
        return {**dict(row), "sizes": sizes}
    finally:
        await conn.close()


# --- the servers -------------------------------------------------------------------------------


def ipcp_api_command() -> str:
    beside = Path(sys.executable).with_name("ipcp-api")
    return str(beside) if beside.exists() else "ipcp-api"


def free_port() -> int:
    """A free port: in ``BENCH_PORTS`` (``18100-18199``) when set, else any."""
    low, _, high = os.environ.get("BENCH_PORTS", "0-0").partition("-")
    for port in range(int(low), int(high) + 1) if int(low) else [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError(f"no free port in BENCH_PORTS={os.environ['BENCH_PORTS']}")


def start(name: str, command: list[str], env: dict[str, str], logs: Path, port: int) -> Server:
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(name, f"http://127.0.0.1:{port}", process, log)


def wait_ready(server: Server, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited:\n{server.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise SystemExit(f"{server.name} did not start:\n{server.log.read_text()[-3000:]}")


def stop(server: Server) -> None:
    """SIGTERM to the server's own process group (it was started in a new session)."""
    if server.process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()


def workers(server: Server) -> list[int]:
    """The pids of the server's worker processes (uvicorn spawns them)."""
    import psutil

    out = []
    for child in psutil.Process(server.process.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "spawn_main" in " ".join(child.cmdline()):
                out.append(child.pid)
    return out


def memory(pid: int) -> tuple[float, float]:
    """(peak RSS, RSS) in MB, from /proc/<pid>/status (VmHWM, VmRSS)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmHWM", 0.0), values.get("VmRSS", 0.0)


@contextlib.contextmanager
def servers(args: argparse.Namespace, url: str, secret: str, logs: Path) -> Iterator[list[Server]]:
    api_port, floor_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "IPCP_SECRET_KEY": secret,
        "IPCP_DATA_DIR": str(logs / "data"),
        "IPCP_ENVIRONMENT": "development",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    api_cmd = [ipcp_api_command(), "serve", "--workers", str(args.workers), "--no-migrate"]
    api_cmd += ["--port", str(api_port)]
    api_env = dict(env)
    if args.api_factory:  # another build of the app (variants.py, or an older tree)
        api_cmd = [sys.executable, "-m", "uvicorn", "--factory", args.api_factory]
        api_cmd += ["--app-dir", str(HERE), "--port", str(api_port)]
        api_cmd += ["--workers", str(args.workers), "--no-access-log", "--log-level", "warning"]
    if args.api_src:
        api_env["PYTHONPATH"] = str(Path(args.api_src).resolve())
    floor_cmd = [sys.executable, "-m", "uvicorn", "floor:app", "--app-dir", str(HERE)]
    floor_cmd += ["--port", str(floor_port), "--workers", str(args.workers)]
    floor_cmd += ["--no-access-log", "--log-level", "warning"]
    floor_env = {**env, "FLOOR_POOL_SIZE": os.environ.get("IPCP_DB_POOL_SIZE", "10")}
    started = [
        start("api", api_cmd, api_env, logs, api_port),
        start("floor", floor_cmd, floor_env, logs, floor_port),
    ]
    try:
        for server in started:
            wait_ready(server)
        yield started
    finally:
        for server in started:
            stop(server)


# --- the checks and the load -------------------------------------------------------------------


def fetch(url: str, token: str | None, accept: str) -> tuple[int, dict[str, str], bytes]:
    headers = {"Accept": accept}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def same_answers(
    api: Server, floor: Server, endpoints: Sequence[Endpoint], ids: dict[str, int], token: str
) -> bool:
    ok = True
    for endpoint in endpoints:
        path = endpoint.path.format(**ids)
        a = fetch(api.base + path, token, endpoint.accept)
        b = fetch(floor.base + path, None, endpoint.accept)
        problems = []
        if a[0] != 200 or a[0] != b[0]:
            problems.append(f"status {a[0]} vs {b[0]}")
        if a[2] != b[2]:
            problems.append(f"body differs ({len(a[2])} vs {len(b[2])} bytes)")
        for name in ("content-type", "etag", "vary", "content-disposition", "link"):
            va = a[1].get(name, "").replace(api.base, "")
            vb = b[1].get(name, "").replace(floor.base, "")
            if va != vb:
                problems.append(f"{name}: {va!r} vs {vb!r}")
        status = "same" if not problems else "DIFFERENT: " + "; ".join(problems)
        print(f"  {endpoint.name:32} {len(a[2]):>9,} bytes  {status}", flush=True)
        ok = ok and not problems
    return ok


def wrk(url: str, token: str, accept: str, seconds: float, threads: int, connections: int) -> Run:
    env = {**os.environ, "BENCH_TOKEN": token, "BENCH_ACCEPT": accept}
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "60s"]
    command += ["-s", str(HERE / "wrk.lua"), url]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    data = json.loads(line[len("BENCH ") :])
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return Run(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=errors,
        p50=data["p50"] / 1000,
        p95=data["p95"] / 1000,
        p99=data["p99"] / 1000,
    )


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def drive(
    args: argparse.Namespace,
    pair: dict[str, Server],
    endpoints: Sequence[Endpoint],
    ids: dict[str, int],
    token: str,
) -> Results:
    results = Results()

    def one(endpoint: Endpoint, side: str, seconds: float) -> Run:
        url = pair[side].base + endpoint.path.format(**ids)
        if endpoint.latency:
            return wrk(url, token, endpoint.accept, seconds, 1, 1)
        connections = endpoint.connections or args.connections
        threads = min(args.threads, connections)
        return wrk(url, token, endpoint.accept, seconds, threads, connections)

    if args.warmup > 0:
        print(f"warm-up: {args.warmup:g} s per endpoint and side", flush=True)
        for endpoint in endpoints:
            for side in ("api", "floor"):
                one(endpoint, side, args.warmup)
    for round_ in range(args.rounds):
        print(f"round {round_ + 1}/{args.rounds} (load average {load_average()})", flush=True)
        for i, endpoint in enumerate(endpoints):
            order = ("api", "floor") if (round_ + i) % 2 == 0 else ("floor", "api")
            line = []
            for side in order:
                run = one(endpoint, side, args.duration)
                results.add(endpoint.key, side, run)
                line.append(f"{side} {run.rps:8.1f}/s")
            print(f"  {endpoint.name:32} " + "  ".join(line), flush=True)
    return results


# --- the table ---------------------------------------------------------------------------------


def summarise(runs: list[Run]) -> dict[str, float]:
    requests = sum(r.requests for r in runs)
    seconds = sum(r.seconds for r in runs)
    return {
        "rps": requests / seconds if seconds else 0.0,
        "p50": statistics.median(r.p50 for r in runs),
        "p95": statistics.median(r.p95 for r in runs),
        "p99": statistics.median(r.p99 for r in runs),
        "errors": sum(r.errors for r in runs),
        "requests": requests,
    }


def table(results: Results, endpoints: Sequence[Endpoint]) -> list[dict[str, Any]]:
    rows = []
    print()
    head = (
        f"{'endpoint':32} {'API req/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'err':>4} "
        f"{'floor req/s':>11} {'p50 ms':>7} {'p99 ms':>7} {'err':>4} {'ratio':>6} {'(min-max)':>11}"
    )
    print(head)
    print("-" * len(head))
    for endpoint in endpoints:
        sides = results.runs.get(endpoint.key)
        if not sides:
            continue
        api, floor = summarise(sides["api"]), summarise(sides["floor"])
        pairs = [a.rps / f.rps for a, f in zip(sides["api"], sides["floor"], strict=True) if f.rps]
        ratio = statistics.median(pairs) if pairs else 0.0
        spread = f"{min(pairs):.2f}-{max(pairs):.2f}" if pairs else ""
        print(
            f"{endpoint.name:32} {api['rps']:9.1f} {api['p50']:7.1f} {api['p99']:7.1f} "
            f"{api['errors']:4d} {floor['rps']:11.1f} {floor['p50']:7.1f} {floor['p99']:7.1f} "
            f"{floor['errors']:4d} {ratio:6.2f} {spread:>11}"
        )
        rows.append(
            {
                "key": endpoint.key,
                "name": endpoint.name,
                "api": api,
                "floor": floor,
                "ratio": ratio,
                "ratios": pairs,
            }
        )
    return rows


def growth(results: Results, sizes: dict[int, int]) -> None:
    keys = [f"latency-{size}" for size in SIZES]
    if not all(key in results.runs for key in keys):
        return
    base = summarise(results.runs[keys[0]]["api"])
    print()
    print("Programme report (JSON) one request at a time, API side:")
    print(f"{'milestones':>11} {'p50 ms':>8} {'p95 ms':>8} {'p95 growth':>11} {'size growth':>12}")
    for size, key in zip(SIZES, keys, strict=True):
        s = summarise(results.runs[key]["api"])
        print(
            f"{sizes[size]:>11,} {s['p50']:8.1f} {s['p95']:8.1f} "
            f"{s['p95'] / base['p95']:10.1f}x {sizes[size] / sizes[SIZES[0]]:11.1f}x"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--reuse", action="store_true", help="keep the database and its data")
    parser.add_argument("--partners", type=int, default=10, help="generated programmes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=7, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="A/B pairs per endpoint")
    parser.add_argument("--warmup", type=float, default=2, help="seconds per endpoint and side")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--only",
        default="",
        help="endpoint keys, comma separated: " + ",".join(e.key for e in ENDPOINTS),
    )
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument(
        "--api-factory",
        help="serve this app factory (module:function, bench/ on the path) instead of "
        "`ipcp-api serve`, e.g. variants:create_app (see variants.py)",
    )
    parser.add_argument(
        "--api-src", help="import ipcp_api for the API from this directory (another tree's src)"
    )
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    url = args.database_url
    endpoints = [e for e in ENDPOINTS if not args.only or e.key in args.only.split(",")]
    started = time.monotonic()
    print(f"machine: {os.cpu_count()} CPUs, {platform.platform()}, load average {load_average()}")

    if not args.reuse:
        print(f"fresh database {url}; generating {args.partners} programmes", flush=True)
        asyncio.run(fresh_database(url))
        migrate(url)
        asyncio.run(generate.generate(url, args.partners, args.seed, (50, 2000)))
    asyncio.run(report_latency.ensure_programmes(url, SIZES, 99))
    user_id = asyncio.run(report_latency.bench_user(url))
    ids = asyncio.run(targets(url))
    facts = asyncio.run(describe_database(url, ids))
    print(
        f"database: PostgreSQL {facts['version']}, {facts['programmes']} programmes, "
        f"{facts['projects']:,} projects, {facts['milestones']:,} milestones; listing programme "
        f"{ids['programme']} ({facts['list_total']} projects), project {ids['project']} "
        f"({facts['project_ms']} milestones); report programmes "
        + ", ".join(f"{n:,}" for n in facts["sizes"].values())
        + " milestones",
        flush=True,
    )

    from ipcp_api.auth.security import create_token

    secret = "bench-" + secrets.token_urlsafe(32)
    token = create_token(secret, user_id=user_id, expires_in=6 * 3600)
    logs = Path(tempfile.mkdtemp(prefix="ipcp-bench-"))
    memory_rows: list[dict[str, Any]] = []
    try:
        with servers(args, url, secret, logs) as (api, floor):
            print("same answers from both:", flush=True)
            if not same_answers(api, floor, endpoints, ids, token):
                raise SystemExit("the API and the floor disagree: the comparison would be unfair")
            results = drive(args, {"api": api, "floor": floor}, endpoints, ids, token)
            for server in (api, floor):
                for pid in workers(server):
                    peak, now = memory(pid)
                    memory_rows.append(
                        {"server": server.name, "pid": pid, "peak_mb": peak, "rss_mb": now}
                    )
    finally:
        if not args.keep_logs:
            shutil.rmtree(logs, ignore_errors=True)
        else:
            print(f"server logs kept in {logs}")

    rows = table(results, endpoints)
    growth(results, facts["sizes"])
    print()
    for row in memory_rows:
        print(
            f"peak RSS (VmHWM), {row['server']} worker pid {row['pid']}: {row['peak_mb']:.0f} MB "
            f"(now {row['rss_mb']:.0f} MB)"
        )
    print(f"\nload average at the end {load_average()}; {time.monotonic() - started:.0f} s in all")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "rows": rows,
                    "memory": memory_rows,
                    "database": {**facts, "sizes": facts["sizes"]},
                    "ids": ids,
                    "load_average_end": load_average(),
                    "args": {k: str(v) for k, v in vars(args).items()},
                },
                indent=2,
                default=str,
            )
        )
