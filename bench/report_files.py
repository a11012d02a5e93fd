"""The report as a file: PDF and XLSX of the ~1,000-milestone programme (``LAT-1000``).

    DATABASE_URL=postgresql://postgres@127.0.0.1/ipcp_bench_files ipcp-api migrate
    python bench/report_files.py --database-url postgresql://postgres@127.0.0.1/ipcp_bench_files

Adds ``LAT-1000-IPCP`` (report_latency.py's generator) when missing. Measures, in this
process, through the whole application (httpx + ASGITransport: token, SQL, rendering):
p50/p95 of ``format=pdf`` and ``format=xlsx`` one at a time, in each language; the render
alone (the typesetter on a report already built); how long the event loop stalls while a PDF
renders in its thread; and the peak resident memory (``VmHWM``) of this process while 8 PDFs
are requested at once (the process holds the client too, so this is an upper bound for a
worker).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report_latency import AS_OF, bench_user, ensure_programmes, p95, timed

from ipcp_api.app import create_app
from ipcp_api.auth.actor import Actor
from ipcp_api.auth.security import create_token
from ipcp_api.config import load_settings, normalise_database_url
from ipcp_api.db.session import bind_database, make_engine
from ipcp_api.enums import Role
from ipcp_api.reports import service
from ipcp_api.reports.render import render_file


def vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def vm_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def loop_stall(work: asyncio.Future[object]) -> float:
    """The longest gap, in ms, between 5 ms ticks of the event loop while ``work`` runs."""
    worst = 0.0
    last = time.perf_counter()
    while not work.done():
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        worst = max(worst, (now - last) * 1000 - 5)
        last = now
    await work
    return worst


async def run(url: str, repeat: int, concurrent: int) -> None:
    programmes = await ensure_programmes(url, [1000], seed=1)
    programme_id, _, projects, milestones = programmes[1000]
    user_id = await bench_user(url)
    settings = load_settings(
        database_url=normalise_database_url(url), secret_key="bench-" + "k" * 40
    )
    app = create_app(settings)
    engine = make_engine(settings)
    bind_database(app.state, engine)
    app.state.shutting_down = False
    token = create_token(app.state.secret_key, user_id=user_id, expires_in=3600)
    actor = Actor(user_id=user_id, username="bench-admin", role=Role.admin, partner_id=None)
    path = f"/api/v1/programmes/{programme_id}/report"
    print(f"programme {programme_id}: {projects} projects, {milestones} milestones", flush=True)
    print(f"start: RSS {vm_rss_mb():.0f} MB", flush=True)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://bench",
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    ) as client:

        def call(fmt: str, lang: str) -> object:
            async def go() -> None:
                response = await client.get(
                    path, params={"as_of": AS_OF.isoformat(), "format": fmt, "lang": lang}
                )
                response.raise_for_status()
                _ = response.content

            return go

        rows = []
        for fmt, langs in (("json", ("en",)), ("xlsx", ("en", "ar")), ("pdf", ("en", "fr", "ar"))):
            for lang in langs:
                samples = await timed(call(fmt, lang), 2, repeat)  # type: ignore[arg-type]
                rows.append((f"HTTP {fmt} {lang}", samples))

        async with app.state.read_sessionmaker() as session:
            report = await service.programme_report(
                session, actor, programme_id, as_of=AS_OF, lang="ar"
            )
        for fmt in ("xlsx", "pdf"):
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                body = render_file("programme", fmt, report, "ar")  # type: ignore[arg-type]
                samples.append((time.perf_counter() - started) * 1000)
            rows.append((f"render only {fmt} ar ({len(body) // 1024} KiB)", samples))

        stalls = []
        for _ in range(5):
            task = asyncio.ensure_future(call("pdf", "ar")())  # type: ignore[operator]
            stalls.append(await loop_stall(task))

        before = vm_hwm_mb()
        started = time.perf_counter()
        for _ in range(3):
            await asyncio.gather(*(call("pdf", "ar")() for _ in range(concurrent)))  # type: ignore[operator]
        burst = (time.perf_counter() - started) / 3 * 1000
    await engine.dispose()

    print()
    print(f"as_of {AS_OF}, {repeat} runs each after 2 warm-up runs; milliseconds")
    print(f"{'case':34} {'p50':>8} {'p95':>8}")
    for name, samples in rows:
        print(f"{name:34} {statistics.median(samples):8.1f} {p95(samples):8.1f}")
    print(f"event loop: longest stall while a PDF renders: {max(stalls):.1f} ms")
    print(
        f"{concurrent} PDFs at once: {burst:.0f} ms for the batch; peak RSS (VmHWM) "
        f"{before:.0f} MB before, {vm_hwm_mb():.0f} MB after (IPCP_REPORT_CONCURRENCY="
        f"{settings.report_concurrency})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/ipcp_bench_files"
    )
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--concurrent", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(run(args.database_url, args.repeat, args.concurrent))


if __name__ == "__main__":
    main()
