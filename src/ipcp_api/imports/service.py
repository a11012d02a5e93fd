"""Imports: check a whole spreadsheet of projects and milestones, store the plan, commit it.

The check runs every row through the API's own schemas (``ProjectCreate``,
``MilestoneCreate``) and rules (``projects.service._check_period``,
``milestones.service._check``, the translation rules), against the programme's projects and
milestones loaded in two statements, so 10,000 rows cost a fixed number of queries. The same
check runs again at commit against the data as it is then (the programme's projects and their
milestones locked), and the whole plan is applied in the request's one transaction with an
audit row per change (``audit.created`` / ``audit.updated``, as every other write).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from pydantic import ValidationError
from sqlalchemy import BigInteger, bindparam, delete, func, insert, select, update
from sqlalchemy import column as sql_column
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.audit import service as audit
from ipcp_api.auth import scope
from ipcp_api.auth.actor import Actor
from ipcp_api.common import i18n
from ipcp_api.common.crud import one_or_404
from ipcp_api.db.integrity import from_db_error
from ipcp_api.enums import AuditAction, ImportStatus, MilestoneState, ProjectStatus
from ipcp_api.errors import Conflict, Invalid
from ipcp_api.imports.reader import Sheet, as_date, read_upload
from ipcp_api.milestones import service as milestone_service
from ipcp_api.milestones.schemas import MilestoneCreate
from ipcp_api.models import AuditEvent, DataImport, Milestone, Pillar, Programme, Project
from ipcp_api.programmes import workflow
from ipcp_api.projects import service as project_service
from ipcp_api.projects.schemas import ProjectCreate

TRANSLATED = {"title_fr": "fr", "title_ar": "ar"}
PROJECT_FIELDS = (
    "pillar_id",
    "code",
    "title",
    "description",
    "lead",
    "areas",
    "starts_on",
    "ends_on",
    "status",
    "lang",
    "translations",
)
MILESTONE_FIELDS = (
    "ref",
    "title",
    "due_on",
    "weight",
    "state",
    "completed_on",
    "lang",
    "translations",
)
_FIELD_COLUMN = {"pillar_id": "pillar_code", "project_id": "project_code"}


# --- access -------------------------------------------------------------------------------------


async def programme_for_import(
    session: AsyncSession, actor: Actor, programme_id: int, *, lock: bool = False
) -> Programme:
    """The programme the caller may import into: viewer 403, invisible 404, a liaison's
    completed or cancelled programme 403."""
    workflow.forbid_viewer(actor, "projects and milestones")
    stmt = scope.visible_programmes(actor).where(Programme.id == programme_id)
    if lock:
        stmt = stmt.with_for_update(read=True, of=Programme).execution_options(
            populate_existing=True
        )
    programme: Programme = await one_or_404(session, stmt, "programme", programme_id)
    workflow.check_may_change_inside(actor, programme, "projects and milestones")
    return programme


async def visible_programme(session: AsyncSession, actor: Actor, programme_id: int) -> Programme:
    stmt = scope.visible_programmes(actor).where(Programme.id == programme_id)
    programme: Programme = await one_or_404(session, stmt, "programme", programme_id)
    return programme


async def pillar_codes(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(Pillar.code).order_by(Pillar.position))).all())


# --- the check ----------------------------------------------------------------------------------


@dataclass
class Plan:
    items: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    # what to write: (action, sheet row, object or values)
    project_ops: list[tuple[str, int, Any, dict[str, Any]]] = field(default_factory=list)
    milestone_ops: list[tuple[str, int, Any, dict[str, Any], str]] = field(default_factory=list)
    # the ids of the programme's projects before the import, by code
    project_ids: dict[str, int] = field(default_factory=dict)

    def error(self, sheet: str, row: int, column: str, msg: str) -> None:
        self.errors.append({"sheet": sheet, "row": row, "column": column, "msg": msg})


def _text(value: Any) -> Any:
    """Text columns: a number typed in a cell is its text (``101``, not ``101.0``)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _int(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return value


def _column_of(loc: tuple[Any, ...]) -> str:
    if not loc:
        return "row"
    name = str(loc[0])
    if name == "translations" and len(loc) > 1:
        lang = str(loc[1])
        return f"title_{lang}" if f"title_{lang}" in TRANSLATED else "lang"
    return _FIELD_COLUMN.get(name, name)


def _validation_errors(plan: Plan, sheet: str, row: int, exc: ValidationError) -> None:
    for err in exc.errors():
        msg = err["msg"].removeprefix("Value error, ")
        plan.error(sheet, row, _column_of(tuple(err["loc"])), msg)


def _invalid_errors(plan: Plan, sheet: str, row: int, exc: Invalid) -> None:
    for err in exc.errors or []:
        loc = tuple(err["loc"])
        plan.error(sheet, row, _column_of(loc[1:] if loc[:1] == ("body",) else loc), err["msg"])


def _translations(
    values: dict[str, Any], existing: dict[str, dict[str, str]] | None
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """(the title translations given, as a create body would send them; the translations to
    store: the existing ones with their titles replaced by the file's, blank removing one)."""
    given: dict[str, Any] = {}
    merged = {lang: dict(fields) for lang, fields in (existing or {}).items()}
    for column, lang in TRANSLATED.items():
        text = _text(values.get(column))
        if text is not None:
            given[lang] = {"title": text}
            merged.setdefault(lang, {})["title"] = text
        elif lang in merged:
            merged[lang].pop("title", None)
    return given, {lang: fields for lang, fields in merged.items() if fields}


def _project_key(code: Any) -> str:
    return str(code)


def _same(obj: Any, values: dict[str, Any], fields: tuple[str, ...]) -> bool:
    return all(getattr(obj, name) == values[name] for name in fields)


async def _load(
    session: AsyncSession, programme: Programme, *, lock: bool
) -> tuple[dict[str, int], list[Project], list[Milestone]]:
    pillars: dict[str, int] = {
        row.code: row.id for row in await session.execute(select(Pillar.code, Pillar.id))
    }
    projects_stmt = select(Project).where(Project.programme_id == programme.id)
    if lock:
        # FOR NO KEY UPDATE conflicts with the FOR SHARE every milestone write takes on its
        # project: the programme's milestones hold still until this transaction ends
        projects_stmt = projects_stmt.with_for_update(key_share=True)
    projects = list(
        (await session.scalars(projects_stmt.execution_options(populate_existing=True))).all()
    )
    milestones_stmt = (
        select(Milestone)
        .join(Project, Project.id == Milestone.project_id)
        .where(Project.programme_id == programme.id)
        .order_by(Milestone.id)
    )
    if lock:
        milestones_stmt = milestones_stmt.with_for_update(of=Milestone, key_share=True)
    milestones = list(
        (await session.scalars(milestones_stmt.execution_options(populate_existing=True))).all()
    )
    return pillars, projects, milestones


async def check(
    session: AsyncSession,
    programme: Programme,
    rows: dict[str, list[tuple[int, dict[str, Any]]]],
    *,
    lock: bool = False,
) -> Plan:
    """Every row against the API's rules and the programme as it is now: a plan and errors."""
    pillars, projects, milestones = await _load(session, programme, lock=lock)
    plan = Plan()
    by_code = {project.code: project for project in projects}
    plan.project_ids = {project.code: project.id for project in projects}
    # the period each project code will have after the import (for the milestones' due dates)
    periods: dict[str, tuple[date, date]] = {
        project.code: (project.starts_on, project.ends_on) for project in projects
    }
    in_file: dict[str, int] = {}
    default_lang = i18n.default_language()

    for row, values in rows["projects"]:
        code = _text(values.get("code"))
        existing = by_code.get(code) if isinstance(code, str) else None
        if isinstance(code, str):
            if code in in_file:
                plan.error(
                    "projects", row, "code", f"duplicate code {code!r} (row {in_file[code]})"
                )
                continue
            in_file[code] = row
        pillar_code = _text(values.get("pillar_code"))
        pillar_id = pillars.get(pillar_code) if isinstance(pillar_code, str) else None
        errors_before = len(plan.errors)
        if pillar_code is None:
            plan.error("projects", row, "pillar_code", "is required")
        elif pillar_id is None:
            plan.error("projects", row, "pillar_code", f"unknown pillar code {pillar_code!r}")
        given, merged = _translations(values, existing.translations if existing else None)
        areas = _text(values.get("areas"))
        body: dict[str, Any] = {
            "programme_id": programme.id,
            "pillar_id": pillar_id or 1,
            "code": code,
            "title": _text(values.get("title")),
            "description": _text(values.get("description")),
            "lead": _text(values.get("lead")),
            "areas": [a.strip() for a in areas.split(",") if a.strip()]
            if isinstance(areas, str)
            else [],
            "starts_on": as_date(values.get("starts_on")),
            "ends_on": as_date(values.get("ends_on")),
            "status": values.get("status")
            or (existing.status if existing else ProjectStatus.planned),
            "lang": values.get("lang") or (existing.lang if existing else default_lang),
            "translations": given,
        }
        for name in ("code", "title", "starts_on", "ends_on"):
            if body[name] is None:
                body.pop(name)  # the schema says "Field required" for the column
        try:
            data = ProjectCreate.model_validate(body)
        except ValidationError as exc:
            _validation_errors(plan, "projects", row, exc)
            continue
        try:
            project_service._check_period(data.starts_on, data.ends_on, programme)
        except Invalid as exc:
            _invalid_errors(plan, "projects", row, exc)
        if data.lang in merged:
            column = f"title_{data.lang}" if f"title_{data.lang}" in TRANSLATED else "lang"
            plan.error("projects", row, column, f"{data.lang} is the row's own language (lang)")
        if len(plan.errors) > errors_before:
            continue
        new = data.model_dump(include=set(PROJECT_FIELDS))
        new["translations"] = merged
        periods[data.code] = (data.starts_on, data.ends_on)
        _plan_row(plan, "projects", row, _project_key(data.code), existing, new, PROJECT_FIELDS)

    by_ref: dict[tuple[int, str], Milestone] = {}
    by_title: dict[tuple[int, str, date], list[Milestone]] = {}
    for milestone in milestones:
        if milestone.ref is not None:
            by_ref[(milestone.project_id, milestone.ref)] = milestone
        else:
            by_title.setdefault(
                (milestone.project_id, milestone.title, milestone.due_on), []
            ).append(milestone)
    matched: dict[int, int] = {}
    keys_in_file: dict[tuple[str, ...], int] = {}
    final_due: dict[int, date] = {}

    for row, values in rows["milestones"]:
        project_code = _text(values.get("project_code"))
        if project_code is None:
            plan.error("milestones", row, "project_code", "is required")
            continue
        project = by_code.get(project_code)
        if project_code not in periods and project_code not in in_file:
            plan.error(
                "milestones",
                row,
                "project_code",
                f"no project {project_code!r} in this file or in the programme",
            )
            continue
        ref = _text(values.get("ref"))
        title = _text(values.get("title"))
        due_on = as_date(values.get("due_on"))
        found: Milestone | None = None
        if project is not None:
            if isinstance(ref, str) and (project.id, ref) in by_ref:
                found = by_ref[(project.id, ref)]
            elif isinstance(title, str) and isinstance(due_on, date | str):
                due = _parse_date(due_on)
                candidates = by_title.get((project.id, title, due), []) if due else []
                found = candidates[0] if candidates else None
        given, merged = _translations(values, found.translations if found else None)
        body = {
            "project_id": project.id if project is not None else 1,
            "ref": ref if ref is not None else (found.ref if found else None),
            "title": title,
            "due_on": due_on,
            "weight": _int(values.get("weight")) or (found.weight if found else 1),
            "state": values.get("state") or (found.state if found else MilestoneState.pending),
            "completed_on": as_date(values.get("completed_on")),
            "lang": values.get("lang") or (found.lang if found else default_lang),
            "translations": given,
        }
        if values.get("weight") == 0:
            body["weight"] = 0
        for name in ("title", "due_on"):
            if body[name] is None:
                body.pop(name)
        try:
            milestone_data = MilestoneCreate.model_validate(body)
        except ValidationError as exc:
            _validation_errors(plan, "milestones", row, exc)
            continue
        key_parts: tuple[str, ...] = (
            (project_code, "ref", milestone_data.ref)
            if milestone_data.ref is not None
            else (project_code, milestone_data.title, milestone_data.due_on.isoformat())
        )
        if key_parts in keys_in_file or (found is not None and found.id in matched):
            earlier = keys_in_file.get(key_parts) or matched.get(found.id if found else 0)
            column = "ref" if milestone_data.ref is not None else "title"
            plan.error("milestones", row, column, f"the same milestone as row {earlier}")
            continue
        keys_in_file[key_parts] = row
        if found is not None:
            matched[found.id] = row
        starts_on, ends_on = periods.get(project_code, (date.min, date.max))
        errors_before = len(plan.errors)
        try:
            milestone_service._check(
                SimpleNamespace(starts_on=starts_on, ends_on=ends_on),  # type: ignore[arg-type]
                due_on=milestone_data.due_on,
                state=milestone_data.state,
                completed_on=milestone_data.completed_on,
            )
        except Invalid as exc:
            _invalid_errors(plan, "milestones", row, exc)
        if milestone_data.lang in merged:
            plan.error(
                "milestones", row, "lang", f"{milestone_data.lang} is the row's own language"
            )
        if len(plan.errors) > errors_before:
            continue
        new = milestone_data.model_dump(include=set(MILESTONE_FIELDS))
        new["translations"] = merged
        if found is not None:
            final_due[found.id] = milestone_data.due_on
        key = " / ".join(
            key_parts[:1] + key_parts[2:] if milestone_data.ref is not None else key_parts
        )
        _plan_row(plan, "milestones", row, key, found, new, MILESTONE_FIELDS, project_code)

    # a period that shrinks must still hold the project's milestones the file leaves alone
    project_rows = {item["key"]: item for item in plan.items if item["sheet"] == "projects"}
    by_id = {project.id: project for project in projects}
    for milestone in milestones:
        if milestone.id in final_due:
            continue
        owner = by_id.get(milestone.project_id)
        if owner is None or owner.code not in project_rows:
            continue
        starts_on, ends_on = periods[owner.code]
        if not starts_on <= milestone.due_on <= ends_on:
            item = project_rows[owner.code]
            column = "starts_on" if milestone.due_on < starts_on else "ends_on"
            plan.error(
                "projects",
                item["row"],
                column,
                f"milestone {milestone.id} ({milestone.title!r}, due"
                f" {milestone.due_on.isoformat()}) would fall outside the project's period",
            )
    plan.errors.sort(key=lambda e: (e["sheet"] != "projects", e["row"], e["column"]))
    return plan


def _parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def _plan_row(
    plan: Plan,
    sheet: str,
    row: int,
    key: str,
    existing: Any,
    new: dict[str, Any],
    fields: tuple[str, ...],
    project_code: str = "",
) -> None:
    if existing is None:
        action = "create"
    elif _same(existing, new, fields):
        action = "unchanged"
    else:
        action = "update"
    item = {
        "sheet": sheet,
        "row": row,
        "action": action,
        "key": key,
        "id": existing.id if existing is not None else None,
        "version": existing.version if existing is not None else None,
    }
    plan.items.append(item)
    if sheet == "projects":
        plan.project_ops.append((action, row, existing, new))
    else:
        plan.milestone_ops.append((action, row, existing, new, project_code))


def counts(
    plan_items: list[dict[str, Any]], errors: list[dict[str, Any]], rows: int
) -> dict[str, int]:
    result = {"rows": rows, "create": 0, "update": 0, "unchanged": 0, "errors": len(errors)}
    for item in plan_items:
        result[item["action"]] += 1
    return result


# --- stored rows (JSON) -------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        # a whole day is a date cell; a time of day stays a (refused) date and time
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def _jsonable_value(value: Any) -> Any:
    """A column value as JSON (dates as ``YYYY-MM-DD``; lists and objects as they are)."""
    if isinstance(value, date):
        return value.isoformat()
    return value


def rows_to_json(sheets: dict[str, Sheet]) -> dict[str, Any]:
    return {
        name: [[row, {k: _jsonable(v) for k, v in values.items()}] for row, values in sheet.rows]
        for name, sheet in sheets.items()
    }


def rows_from_json(stored: dict[str, Any]) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    return {name: [(int(row), values) for row, values in items] for name, items in stored.items()}


# --- upload, read, commit -----------------------------------------------------------------------


async def purge_expired(session: AsyncSession) -> None:
    """Imports are kept 7 days: each upload deletes the expired ones (an indexed range)."""
    await session.execute(delete(DataImport).where(DataImport.expires_at < func.now()))


async def upload(
    session: AsyncSession, actor: Actor, programme: Programme, data: bytes, filename: str
) -> DataImport:
    """Check ``data`` (the caller's access to ``programme`` already checked) and store it."""
    sheets = read_upload(data, filename)
    stored = rows_to_json(sheets)
    plan = await check(session, programme, rows_from_json(stored))
    await purge_expired(session)
    total = sum(len(sheet.rows) for sheet in sheets.values())
    record = DataImport(
        programme_id=programme.id,
        user_id=actor.user_id or None,
        status=ImportStatus.invalid if plan.errors else ImportStatus.valid,
        filename=filename[:255] or "upload",
        sha256=hashlib.sha256(data).hexdigest(),
        counts=counts(plan.items, plan.errors, total),
        errors=plan.errors,
        plan=plan.items,
        rows=stored,
    )
    session.add(record)
    await session.flush()
    return record


async def get_import(
    session: AsyncSession, actor: Actor, import_id: int, *, lock: bool = False
) -> DataImport:
    """An import of a programme the caller sees (404 otherwise); a viewer reads it, but
    committing (``lock``) is a write: 403."""
    if lock:
        workflow.forbid_viewer(actor, "imports")
    stmt = scope.restrict(
        select(DataImport)
        .join(Programme, Programme.id == DataImport.programme_id)
        .where(DataImport.id == import_id, DataImport.expires_at >= func.now()),
        actor,
        via=Programme.partner_id,
    )
    if lock:
        stmt = stmt.with_for_update(of=DataImport).execution_options(populate_existing=True)
    record: DataImport = await one_or_404(session, stmt, "import", import_id)
    return record


def _conflict(errors: list[dict[str, Any]], detail: str) -> Conflict:
    return Conflict(
        detail,
        errors=[{"loc": [e["sheet"], e["row"], e["column"]], **e} for e in errors],
    )


async def commit(session: AsyncSession, actor: Actor, import_id: int) -> DataImport:
    record = await get_import(session, actor, import_id, lock=True)
    if record.status is ImportStatus.committed:
        return record
    programme = await programme_for_import(session, actor, record.programme_id, lock=True)
    if record.status is ImportStatus.invalid:
        raise _conflict(
            record.errors, "this import has errors: correct the file and upload it again"
        )
    plan = await check(session, programme, rows_from_json(record.rows), lock=True)
    errors = list(plan.errors)
    stored = {(item["sheet"], item["row"]): item for item in record.plan}
    for item in plan.items:
        before = stored.get((item["sheet"], item["row"]))
        if (
            before is None
            or before["action"] != item["action"]
            or before["id"] != item["id"]
            or (item["action"] == "update" and before["version"] != item["version"])
        ):
            errors.append(
                {
                    "sheet": item["sheet"],
                    "row": item["row"],
                    "column": "row",
                    "msg": "the data changed since the upload (this row would now be"
                    f" {item['action']}): upload the file again",
                }
            )
    if errors:
        raise _conflict(errors, "the programme changed since the upload: nothing was written")
    await _apply(session, actor, programme, plan)
    by_row = {(item["sheet"], item["row"]): item for item in plan.items}
    record.plan = [
        {**item, "id": by_row[(item["sheet"], item["row"])]["id"]} for item in record.plan
    ]
    record.status = ImportStatus.committed
    record.committed_at = datetime.now(UTC)
    await session.flush()
    return record


async def _apply(session: AsyncSession, actor: Actor, programme: Programme, plan: Plan) -> None:
    """Write the plan: one batched INSERT ... RETURNING id per table for the new rows, one
    executemany UPDATE per table for the changed ones (every row is locked and its version
    checked by the re-check), and an audit row per change (``audit.created`` /
    ``audit.updated``, as every other write)."""
    items = {(item["sheet"], item["row"]): item for item in plan.items}
    events: list[dict[str, Any]] = []
    project_ids: dict[str, int] = dict(plan.project_ids)
    new_projects = [
        (items[("projects", row)], {"programme_id": programme.id, **new})
        for action, row, _existing, new in plan.project_ops
        if action == "create"
    ]
    for item, values in zip(
        new_projects, await _insert(session, Project, [v for _i, v in new_projects]), strict=True
    ):
        item[0]["id"] = values["id"]
        project_ids[values["code"]] = values["id"]
        events.append(_created(actor, _as_row(Project, values)))
    await _update(
        session,
        actor,
        events,
        Project,
        [(existing, new) for action, _row, existing, new in plan.project_ops if action == "update"],
    )
    new_milestones = [
        (items[("milestones", row)], {"project_id": project_ids[project_code], **new})
        for action, row, _found, new, project_code in plan.milestone_ops
        if action == "create"
    ]
    for item, values in zip(
        new_milestones,
        await _insert(session, Milestone, [v for _i, v in new_milestones]),
        strict=True,
    ):
        item[0]["id"] = values["id"]
        events.append(_created(actor, _as_row(Milestone, values)))
    await _update(
        session,
        actor,
        events,
        Milestone,
        [
            (found, new)
            for action, _row, found, new, _code in plan.milestone_ops
            if action == "update"
        ],
    )
    if events:
        # the audit rows ``audit.record`` would add, inserted in one batched statement
        await session.execute(insert(AuditEvent), events)
    await _flush(session)


def _created(actor: Actor, row: Any) -> dict[str, Any]:
    values = audit.event_values(actor, AuditAction.create, row, after=audit.snapshot(row))
    if values is None:  # pragma: no cover - a create always records its fields
        raise AssertionError("a create records every field")
    return values


def _as_row(model: Any, values: dict[str, Any]) -> Any:
    """What the audit helpers read of a row: its table, id and audited fields."""
    return SimpleNamespace(
        __tablename__=model.__tablename__, audited_fields=model.audited_fields, **values
    )


async def _insert(
    session: AsyncSession, model: Any, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Insert ``rows`` in batches (insertmanyvalues); each row comes back with its ``id``."""
    if not rows:
        return []
    try:
        result = await session.execute(
            insert(model).returning(model.id, sort_by_parameter_order=True), rows
        )
    except IntegrityError as exc:
        raise _changed(exc) from exc
    return [{**values, "id": ident} for values, ident in zip(rows, result.scalars(), strict=True)]


async def _update(
    session: AsyncSession,
    actor: Actor,
    events: list[dict[str, Any]],
    model: Any,
    rows: list[tuple[Any, dict[str, Any]]],
) -> None:
    """One UPDATE of every row of ``rows`` ((locked ORM row, new values)), version + 1: the
    new values travel as one JSON array read back by ``jsonb_to_recordset`` (a single
    statement, however many rows)."""
    if not rows:
        return
    table = model.__table__
    names = list(rows[0][1])
    source = (
        func.jsonb_to_recordset(bindparam("rows", type_=JSONB))
        .table_valued(
            sql_column("id", BigInteger),
            *(sql_column(name, table.c[name].type) for name in names),
        )
        .render_derived(name="v", with_types=True)
    )
    stmt = (
        update(table)
        .where(table.c.id == source.c.id)
        .values(
            {name: source.c[name] for name in names}
            | {"version": table.c.version + 1, "updated_at": func.now()}
        )
    )
    payload = [
        {"id": obj.id, **{k: _jsonable_value(v) for k, v in new.items()}} for obj, new in rows
    ]
    try:
        await session.execute(stmt, {"rows": payload})
    except IntegrityError as exc:
        raise _changed(exc) from exc
    for obj, new in rows:
        before = audit.snapshot(obj)
        after = {name: getattr(obj, name) for name in model.audited_fields} | new
        row = _as_row(model, {"id": obj.id, **after})
        values = audit.event_values(
            actor, AuditAction.update, row, before=before, after=audit.snapshot(row)
        )
        if values is not None:
            events.append(values)


def _changed(exc: IntegrityError) -> Conflict:
    error = from_db_error(exc)
    return Conflict(f"the programme changed while committing ({error.detail}): nothing was written")


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _changed(exc) from exc
