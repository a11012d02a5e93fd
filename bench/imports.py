"""A 10,000-row import, checked (upload) and committed, through the whole application.

    python bench/imports.py --database-url postgresql://postgres@127.0.0.1:5432/ipcp_bench_imports

Creates the database if it is missing and migrates it; each run adds a fresh programme
(2016-01-01 .. 2030-12-31) and builds, with XlsxWriter, a workbook of ``--projects`` projects
(default 1,000) and ``--milestones`` milestones (default 9,000) spread over them (10,000 rows
in all, the most an upload takes). Then, through ``httpx.ASGITransport`` (token check,
multipart parsing, reading, checking, storing, JSON), it times:

1. the upload of the new rows (all ``create``) and its commit;
2. the same file again (all ``unchanged``);
3. the file with every milestone's weight changed (9,000 ``update``) and its commit.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import httpx
import xlsxwriter

from ipcp_api.app import create_app
from ipcp_api.auth.security import create_token
from ipcp_api.config import load_settings, normalise_database_url
from ipcp_api.db.migrations import upgrade
from ipcp_api.db.session import bind_database, make_engine
from ipcp_api.imports.reader import MILESTONE_COLUMNS, PROJECT_COLUMNS

PILLARS = ("political-diplomatic", "defence-security-expertise", "emerging-challenges")


def _pg_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def workbook(projects: int, milestones: int, *, weight: int) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet("projects")
    sheet.write_row(0, 0, PROJECT_COLUMNS)
    start = date(2016, 1, 1)
    for i in range(projects):
        row = [f"BP-{i}", PILLARS[i % 3], "en", f"Bench project {i}", f"Projet {i}",
               f"مشروع {i}", "A project of the import bench.", "Ministry of Interior",
               "training,exercise"]  # fmt: skip
        sheet.write_row(i + 1, 0, row)
        sheet.write_datetime(i + 1, 9, start, dates)
        sheet.write_datetime(i + 1, 10, date(2030, 12, 31), dates)
        sheet.write_string(i + 1, 11, "planned")
    sheet = book.add_worksheet("milestones")
    sheet.write_row(0, 0, MILESTONE_COLUMNS)
    for j in range(milestones):
        row = [f"BP-{j % projects}", f"M-{j}", "en", f"Milestone {j}", None, f"مرحلة {j}"]
        sheet.write_row(j + 1, 0, row)
        sheet.write_datetime(j + 1, 6, start + timedelta(days=j % 5000), dates)
        sheet.write_number(j + 1, 7, weight)
        sheet.write_string(j + 1, 8, "pending")
    book.close()
    return out.getvalue()


async def prepare(url: str) -> tuple[int, int]:
    server = _pg_url(url).rsplit("/", 1)[0] + "/postgres"
    name = _pg_url(url).rsplit("/", 1)[1]
    admin = await asyncpg.connect(server)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await asyncio.to_thread(upgrade, normalise_database_url(url))
    conn = await asyncpg.connect(_pg_url(url))
    try:
        partner = await conn.fetchval(
            "INSERT INTO partners (code, kind, name) VALUES ('IMPB', 'organisation', 'Import"
            " bench') ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name RETURNING id"
        )
        n = await conn.fetchval("SELECT count(*) FROM programmes WHERE partner_id = $1", partner)
        programme = await conn.fetchval(
            "INSERT INTO programmes (partner_id, code, title, starts_on, ends_on) VALUES"
            " ($1, $2, 'Import bench', '2016-01-01', '2030-12-31') RETURNING id",
            partner,
            f"IMPB-{n + 1}",
        )
        user = await conn.fetchval(
            "INSERT INTO users (username, password_hash, role) VALUES ('bench-imports', 'x',"
            " 'admin') ON CONFLICT (username) DO UPDATE SET role = 'admin' RETURNING id"
        )
    finally:
        await conn.close()
    return programme, user


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--milestones", type=int, default=9000)
    args = parser.parse_args()
    programme, user = await prepare(args.database_url)
    settings = load_settings(database_url=args.database_url, data_dir=Path("/tmp/ipcp-bench-imp"))
    app = create_app(settings)
    bind_database(app.state, make_engine(settings))
    token = create_token(app.state.secret_key, user_id=user, expires_in=3600)
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/programmes/{programme}/imports"
    started = time.perf_counter()
    first = workbook(args.projects, args.milestones, weight=1)
    changed = workbook(args.projects, args.milestones, weight=2)
    print(
        f"{args.projects:,} projects + {args.milestones:,} milestones; workbook"
        f" {len(first) / 1024 / 1024:.2f} MiB, built in {time.perf_counter() - started:.1f} s"
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=600
    ) as client:
        for label, data, commit in (
            ("create", first, True),
            ("unchanged", first, False),
            ("update", changed, True),
        ):
            started = time.perf_counter()
            answer = await client.post(url, files={"file": ("b.xlsx", data)}, headers=headers)
            checked = time.perf_counter() - started
            assert answer.status_code == 201, answer.text[:500]
            body = answer.json()
            assert body["status"] == "valid", body["errors"][:5]
            line = f"{label:<10} upload+check {checked:6.2f} s  counts {body['counts']}"
            if commit:
                started = time.perf_counter()
                done = await client.post(f"/api/v1/imports/{body['id']}/commit", headers=headers)
                assert done.status_code == 200, done.text[:500]
                line += f"  commit {time.perf_counter() - started:6.2f} s"
            print(line, flush=True)
    await app.state.engine.dispose()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
