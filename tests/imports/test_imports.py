"""Imports: template, upload (checked in full), commit; bad files; access."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta
from typing import Any

import httpx
import python_calamine
import xlsxwriter
from sqlalchemy import func, select

from ipcp_api.models import AuditEvent, DataImport, Milestone, Project

P_COLS = [
    "code", "pillar_code", "lang", "title", "title_fr", "title_ar", "description", "lead",
    "areas", "starts_on", "ends_on", "status",
]  # fmt: skip
M_COLS = [
    "project_code", "ref", "lang", "title", "title_fr", "title_ar", "due_on", "weight",
    "state", "completed_on",
]  # fmt: skip


def xlsx(projects: list[list[Any]], milestones: list[list[Any]], **kw: Any) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, cols, rows in (("projects", P_COLS, projects), ("milestones", M_COLS, milestones)):
        sheet = book.add_worksheet(name)
        header = [c for c in cols if c not in kw.get("drop", ())]
        sheet.write_row(0, 0, header)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if isinstance(value, date):
                    sheet.write_datetime(r, c, value, dates)
                elif isinstance(value, tuple):  # (formula, cached value)
                    sheet.write_formula(r, c, value[0], None, value[1])
                elif value is not None:
                    sheet.write(r, c, value)
    book.close()
    return out.getvalue()


async def upload(client: httpx.AsyncClient, programme_id: int, data: bytes, name="p.xlsx"):
    return await client.post(
        f"/api/v1/programmes/{programme_id}/imports", files={"file": (name, data)}
    )


async def counts(session) -> tuple[int, int]:
    projects = await session.scalar(select(func.count()).select_from(Project))
    milestones = await session.scalar(select(func.count()).select_from(Milestone))
    return int(projects or 0), int(milestones or 0)


async def world(factory) -> tuple[Any, Any, Any]:
    programme = await factory.programme(starts_on=date(2016, 1, 1), ends_on=date(2018, 12, 31))
    project = await factory.project(
        programme_id=programme.id,
        code="CT-1",
        title="Counter-terrorism course",
        starts_on=date(2016, 3, 1),
        ends_on=date(2017, 6, 30),
    )
    milestone = await factory.milestone(
        project_id=project.id, title="Curriculum agreed", due_on=date(2016, 9, 1), weight=2
    )
    return programme, project, milestone


def as_rows(project: Any, milestone: Any) -> tuple[list[list[Any]], list[list[Any]]]:
    p = [
        project.code, "political-diplomatic", "en", project.title, None, None, None, None,
        None, project.starts_on, project.ends_on, "planned",
    ]  # fmt: skip
    m = [
        project.code, None, "en", milestone.title, None, None, milestone.due_on,
        milestone.weight, "pending", None,
    ]  # fmt: skip
    return [p], [m]


async def test_template(client: httpx.AsyncClient, factory) -> None:
    programme, _, _ = await world(factory)
    answer = await client.get(f"/api/v1/programmes/{programme.id}/imports/template?lang=ar")
    assert answer.status_code == 200, answer.text
    assert "attachment" in answer.headers["content-disposition"]
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(answer.content))
    assert book.sheet_names[:2] == ["projects", "milestones"]
    assert book.get_sheet_by_name("projects").to_python()[0] == P_COLS
    assert book.get_sheet_by_name("milestones").to_python()[0] == M_COLS
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        sheet1 = archive.read("xl/worksheets/sheet1.xml").decode()
        assert 'rightToLeft="1"' in sheet1
        assert "<dataValidation" in sheet1
        assert any(n.startswith("xl/comments") for n in archive.namelist())
    bad = await client.get(f"/api/v1/programmes/{programme.id}/imports/template?lang=de")
    assert bad.status_code == 422


async def test_round_trip_unchanged_update_commit(client, factory, session) -> None:
    programme, project, milestone = await world(factory)
    projects, milestones = as_rows(project, milestone)
    first = await upload(client, programme.id, xlsx(projects, milestones))
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "valid", body["errors"]
    assert body["counts"] == {"rows": 2, "create": 0, "update": 0, "unchanged": 2, "errors": 0}
    assert first.headers["location"] == f"/api/v1/imports/{body['id']}"
    # one date changed -> one update; a new milestone -> one create
    milestones[0][6] = date(2016, 10, 1)
    milestones[0][1] = None
    milestones.append(["CT-1", "M-NEW", "en", "Course held", "Cours", None, "2017-03-01", 3,
                       "pending", None])  # fmt: skip
    second = (await upload(client, programme.id, xlsx(projects, milestones))).json()
    # matching is by title + due date: a changed date is a new milestone, so use a ref instead
    assert second["counts"]["create"] == 2
    assert second["counts"]["unchanged"] == 1
    milestone.ref = "M1"
    await session.flush()
    milestones[0][1] = "M1"
    third = (await upload(client, programme.id, xlsx(projects, milestones))).json()
    assert third["status"] == "valid", third["errors"]
    assert [i["action"] for i in third["plan"]] == ["unchanged", "update", "create"]
    before = await counts(session)
    committed = await client.post(f"/api/v1/imports/{third['id']}/commit")
    assert committed.status_code == 200, committed.text
    data = committed.json()
    assert data["status"] == "committed"
    assert all(item["id"] for item in data["plan"])
    assert await counts(session) == (before[0], before[1] + 1)
    await session.refresh(milestone)
    assert milestone.due_on == date(2016, 10, 1)
    assert milestone.version == 3  # 1, then 2 when the test set its ref, then the import
    change = await session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity == "milestones",
            AuditEvent.entity_id == milestone.id,
            AuditEvent.action == "update",
        )
    )
    assert change is not None
    assert change.changes == {"due_on": ["2016-09-01", "2016-10-01"]}
    new = await session.get(Milestone, data["plan"][2]["id"])
    assert new is not None
    assert new.translations == {"fr": {"title": "Cours"}}
    audit = await session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "milestones")
    )
    assert audit == 2
    again = await client.post(f"/api/v1/imports/{third['id']}/commit")
    assert again.status_code == 200
    assert again.json() == data
    got = await client.get(f"/api/v1/imports/{third['id']}")
    assert got.json() == data
    # the first upload's plan no longer holds
    stale = await client.post(f"/api/v1/imports/{body['id']}/commit")
    assert stale.status_code == 409
    assert stale.json()["errors"]


async def test_three_bad_cells(client, factory, session) -> None:
    programme, project, milestone = await world(factory)
    projects, milestones = as_rows(project, milestone)
    projects[0][1] = "no-such-pillar"
    milestones[0][6] = "31/06/2017"
    milestones[0][7] = 0
    before = await counts(session)
    answer = await upload(client, programme.id, xlsx(projects, milestones))
    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "invalid"
    assert [(e["sheet"], e["row"], e["column"]) for e in body["errors"]] == [
        ("projects", 2, "pillar_code"),
        ("milestones", 2, "due_on"),
        ("milestones", 2, "weight"),
    ]
    refused = await client.post(f"/api/v1/imports/{body['id']}/commit")
    assert refused.status_code == 409
    assert await counts(session) == before


async def test_row_rules(client, factory, session) -> None:
    programme, project, milestone = await world(factory)
    projects, milestones = as_rows(project, milestone)
    dup = list(projects[0])
    projects.append(dup)  # duplicate code
    projects.append(["NEW-1", "emerging-challenges", "en", "=HYPERLINK(\"x\")", None, None, None,
                     None, "a,b", "2016-01-01", "2016-12-31", "planned"])  # fmt: skip
    milestones.append(["GHOST", None, "en", "x", None, None, "2016-05-01", 1, "pending", None])
    milestones.append(["NEW-1", None, "en", ("=1+1", 2), None, None, "2016-05-01", 1, "done",
                       None])  # fmt: skip
    body = (await upload(client, programme.id, xlsx(projects, milestones))).json()
    errors = {(e["sheet"], e["row"], e["column"]) for e in body["errors"]}
    assert errors == {
        ("projects", 3, "code"),
        ("milestones", 3, "project_code"),
        ("milestones", 4, "completed_on"),
    }, body["errors"]
    # fix the bad rows: the formula-looking title is text, the formula cell its value
    projects.pop(1)
    milestones.pop(1)
    milestones[1][8] = "pending"
    body = (await upload(client, programme.id, xlsx(projects, milestones))).json()
    assert body["status"] == "valid", body["errors"]
    committed = (await client.post(f"/api/v1/imports/{body['id']}/commit")).json()
    created = await session.get(Project, committed["plan"][1]["id"])
    assert created is not None
    assert created.title == '=HYPERLINK("x")'
    assert created.areas == ["a", "b"]
    m = await session.get(Milestone, committed["plan"][3]["id"])
    assert m is not None
    assert m.title == "2"


def csv_zip(projects: str, milestones: str, *, bom: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        prefix = "\ufeff" if bom else ""
        archive.writestr("projects.csv", (prefix + projects).encode())
        archive.writestr("milestones.csv", milestones.encode())
    return out.getvalue()


async def test_csv_zip(client, factory) -> None:
    programme, _, _ = await world(factory)
    projects = (
        ",".join(P_COLS) + "\nZ-1,political-diplomatic,ar,برنامج,,,,,,2016-02-01,2016-03-01,\n"
    )
    milestones = ",".join(M_COLS) + "\nZ-1,R1,,Done,,,2016-02-10,,,\n"
    body = await upload(client, programme.id, csv_zip(projects, milestones, bom=True), "x.zip")
    assert body.status_code == 201, body.text
    assert body.json()["counts"]["create"] == 2, body.json()["errors"]
    latin1 = io.BytesIO()
    with zipfile.ZipFile(latin1, "w") as archive:
        archive.writestr("projects.csv", "code\nÉ".encode("latin-1"))
        archive.writestr("milestones.csv", "x")
    answer = await upload(client, programme.id, latin1.getvalue(), "x.zip")
    assert answer.status_code == 422
    assert "save as XLSX or CSV UTF-8" in answer.json()["detail"]


async def test_bad_files(client, factory, session) -> None:
    programme, project, milestone = await world(factory)
    projects, milestones = as_rows(project, milestone)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("projects.csv", b"\0" * (101 * 1024 * 1024))
    macro = io.BytesIO()
    with zipfile.ZipFile(macro, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/vbaProject.bin", b"x")
    cases = {
        "empty": (b"", "p.xlsx"),
        "not a spreadsheet": (b"hello, world", "p.xlsx"),
        "renamed exe": (b"MZ\x90\x00" + b"\0" * 200, "p.xlsx"),
        "zip bomb": (bomb.getvalue(), "p.zip"),
        "macro": (macro.getvalue(), "p.xlsx"),
        "xlsm": (xlsx(projects, milestones), "p.xlsm"),
        "missing column": (xlsx(projects, milestones, drop=("lead",)), "p.xlsx"),
    }
    no_sheet = io.BytesIO()
    book = xlsxwriter.Workbook(no_sheet, {"in_memory": True})
    book.add_worksheet("projects").write_row(0, 0, P_COLS)
    book.close()
    cases["missing sheet"] = (no_sheet.getvalue(), "p.xlsx")
    before = await counts(session)
    for name, (data, filename) in cases.items():
        answer = await upload(client, programme.id, data, filename)
        assert answer.status_code == 422, (name, answer.text)
        assert answer.json()["errors"][0]["loc"][0] == "body", name
    assert "lead" in (await upload(client, programme.id, *cases["missing column"])).text
    assert "milestones" in (await upload(client, programme.id, *cases["missing sheet"])).text
    too_many = [[f"C{i}", "political-diplomatic", "en", "t", None, None, None, None, None,
                 "2016-01-01", "2016-02-01", "planned"] for i in range(10_001)]  # fmt: skip
    answer = await upload(client, programme.id, xlsx(too_many, []))
    assert answer.status_code == 413, answer.text
    big = await upload(client, programme.id, b"\0" * (11 * 1024 * 1024))
    assert big.status_code == 413
    assert await counts(session) == before
    assert await session.scalar(select(func.count()).select_from(DataImport)) == 0


async def test_access(client_for, factory, session) -> None:
    programme, project, milestone = await world(factory)
    other = await factory.programme()
    data = xlsx(*as_rows(project, milestone))
    liaison = await client_for("liaison", programme.partner_id)
    viewer = await client_for("viewer", programme.partner_id)
    own = await upload(liaison, programme.id, data)
    assert own.status_code == 201, own.text
    assert (await upload(liaison, other.id, data)).status_code == 404
    assert (await upload(viewer, programme.id, data)).status_code == 403
    assert (await viewer.post(f"/api/v1/imports/{own.json()['id']}/commit")).status_code == 403
    programme.approved_on = date(2016, 1, 1)
    for closed in ("completed", "cancelled"):
        programme.status = closed
        await session.flush()
        assert (await upload(liaison, programme.id, data)).status_code == 403
    outsider = await client_for("liaison", other.partner_id)
    assert (await outsider.get(f"/api/v1/imports/{own.json()['id']}")).status_code == 404


def _rows(n: int) -> tuple[list[list[Any]], list[list[Any]]]:
    projects = [
        [f"B{i}", "political-diplomatic", "en", f"Project {i}", None, None, None, None, None,
         "2016-01-01", "2016-12-31", "planned"]
        for i in range(n)
    ]  # fmt: skip
    milestones = [
        [f"B{i}", f"R{i}", "en", f"Milestone {i}", None, None, "2016-06-01", 1, "pending", None]
        for i in range(n)
    ]  # fmt: skip
    return projects, milestones


async def test_statement_budget(client, factory, session, statements) -> None:
    """Upload and commit run a fixed number of statements whatever the number of rows
    (inserts batched by the ORM; an audit row per change, also batched)."""
    used = []
    for n in (2, 20):
        programme = await factory.programme(starts_on=date(2016, 1, 1), ends_on=date(2018, 12, 31))
        data = xlsx(*_rows(n))
        statements.reset()
        answer = await upload(client, programme.id, data)
        upload_count = statements.count
        assert answer.json()["counts"]["create"] == 2 * n
        statements.reset()
        committed = await client.post(f"/api/v1/imports/{answer.json()['id']}/commit")
        assert committed.status_code == 200, committed.text
        commit_count = statements.count
        projects, milestones = _rows(n)
        for row in milestones:
            row[7] = 2  # every weight changes: n updates
        changed = (await upload(client, programme.id, xlsx(projects, milestones))).json()
        assert changed["counts"]["update"] == n
        statements.reset()
        updated = await client.post(f"/api/v1/imports/{changed['id']}/commit")
        assert updated.status_code == 200, updated.text
        used.append((upload_count, commit_count, statements.count))
    assert used[0] == used[1], used


async def test_idempotency_key_and_large_body(client, factory, session) -> None:
    programme = await factory.programme(starts_on=date(2016, 1, 1), ends_on=date(2018, 12, 31))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("projects.csv", ",".join(P_COLS) + "\n")
        archive.writestr("milestones.csv", ",".join(M_COLS) + "\n")
        archive.writestr("padding.bin", bytes(range(256)) * 8192)  # 2 MiB, over the 1 MiB limit
    data = out.getvalue()
    assert len(data) > 2 * 1024 * 1024
    url = f"/api/v1/programmes/{programme.id}/imports"
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.zip"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Idempotency-Key": "k1", "Content-Type": f"multipart/form-data; boundary={boundary}"}
    first = await client.post(url, content=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post(url, content=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await session.scalar(select(func.count()).select_from(DataImport)) == 1
    # every other route keeps the 1 MiB limit
    other = await client.post("/api/v1/milestones", content=b"x" * (2 * 1024 * 1024))
    assert other.status_code == 413


async def test_expired_imports_are_purged(client, factory, session) -> None:
    programme, project, milestone = await world(factory)
    old = (await upload(client, programme.id, xlsx(*as_rows(project, milestone)))).json()
    stored = await session.get(DataImport, old["id"])
    assert stored is not None
    stored.expires_at = func.now() - func.make_interval(0, 0, 0, 1)
    await session.flush()
    assert (await client.get(f"/api/v1/imports/{old['id']}")).status_code == 404
    await upload(client, programme.id, xlsx(*as_rows(project, milestone)))
    assert await session.get(DataImport, old["id"], populate_existing=True) is None


async def _demo_rows(session, programme_id: int) -> tuple[list[list[Any]], list[list[Any]]]:
    from ipcp_api.models import Pillar

    pillars = {row.id: row.code for row in await session.execute(select(Pillar.id, Pillar.code))}
    projects = (
        await session.scalars(
            select(Project).where(Project.programme_id == programme_id).order_by(Project.code)
        )
    ).all()
    codes = {p.id: p.code for p in projects}
    milestones = (
        await session.scalars(
            select(Milestone).where(Milestone.project_id.in_(codes)).order_by(Milestone.id)
        )
    ).all()

    def title(obj: Any, lang: str) -> Any:
        return obj.translations.get(lang, {}).get("title")

    p_rows = [
        [p.code, pillars[p.pillar_id], p.lang, p.title, title(p, "fr"), title(p, "ar"),
         p.description, p.lead, ",".join(p.areas), p.starts_on, p.ends_on, p.status.value]
        for p in projects
    ]  # fmt: skip
    m_rows = [
        [codes[m.project_id], m.ref, m.lang, m.title, title(m, "fr"), title(m, "ar"), m.due_on,
         m.weight, m.state.value, m.completed_on]
        for m in milestones
    ]  # fmt: skip
    return p_rows, m_rows


async def test_demo_round_trip(client, session) -> None:
    """Done when: the demo programme's projects and milestones import as all unchanged; one
    date changed gives one update; three bad cells are exactly three errors."""
    from ipcp_api.demo import loader
    from ipcp_api.models import Programme

    await loader.load(session)
    programme = await session.scalar(select(Programme).where(Programme.code == "BHR-IPCP-2016"))
    assert programme is not None
    projects, milestones = await _demo_rows(session, programme.id)
    assert len(projects) >= 3
    assert len(milestones) >= 10
    assert any(row[5] for row in projects)  # Arabic titles travel through title_ar
    same = (await upload(client, programme.id, xlsx(projects, milestones))).json()
    assert same["status"] == "valid", same["errors"]
    assert same["counts"]["unchanged"] == len(projects) + len(milestones), same["counts"]
    assert same["counts"]["create"] == same["counts"]["update"] == 0
    # one date changed: a project starts a day earlier (still inside the programme's period)
    row = next(r for r in projects if r[9] > programme.starts_on)
    row[9] = row[9] - timedelta(days=1)
    one = (await upload(client, programme.id, xlsx(projects, milestones))).json()
    assert one["counts"]["update"] == 1, one["counts"]
    assert [i["key"] for i in one["plan"] if i["action"] == "update"] == [row[0]]
    committed = await client.post(f"/api/v1/imports/{one['id']}/commit")
    assert committed.status_code == 200, committed.text
    changed = await session.scalar(
        select(Project).where(Project.programme_id == programme.id, Project.code == row[0])
    )
    assert changed is not None
    await session.refresh(changed)
    assert changed.starts_on == row[9]
    assert [changed.areas, changed.translations.get("ar", {}).get("title")] == [
        [a for a in row[8].split(",") if a],
        row[5],
    ]
    again = (await upload(client, programme.id, xlsx(projects, milestones))).json()
    assert again["counts"]["unchanged"] == len(projects) + len(milestones), again["counts"]
    # three bad cells, exactly those three errors
    projects[0][1] = "not-a-pillar"
    milestones[1][6] = "31/06/2017"
    milestones[2][7] = 0
    bad = (await upload(client, programme.id, xlsx(projects, milestones))).json()
    assert [(e["sheet"], e["row"], e["column"]) for e in bad["errors"]] == [
        ("projects", 2, "pillar_code"),
        ("milestones", 3, "due_on"),
        ("milestones", 4, "weight"),
    ]
