"""Imports: the template, the upload (checked in full), the import, its commit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from ipcp_api.auth.dependencies import CurrentActor
from ipcp_api.common.http import content_disposition, etag
from ipcp_api.common.idempotency import ApiRoute
from ipcp_api.common.params import ResourceId
from ipcp_api.common.responses import errors
from ipcp_api.db.session import SessionDep
from ipcp_api.errors import Invalid
from ipcp_api.imports import service, template
from ipcp_api.imports.schemas import ImportRead
from ipcp_api.middleware import MAX_UPLOAD_BYTES

router = APIRouter(tags=["imports"], route_class=ApiRoute)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ACCESS = (
    "Who may import is who may write the programme's projects and milestones: staff and admin "
    "anywhere; a liaison into its partner's programmes unless they are `completed` or "
    "`cancelled` (403); a viewer never (403); a programme the caller cannot see is 404."
)


class _InMemoryParser(MultiPartParser):
    """Starlette's parser, keeping the (at most 10 MiB) file in memory: no temporary file."""

    spool_max_size = MAX_UPLOAD_BYTES + 1024 * 1024


def _read(record: Any) -> Response:
    body = ImportRead.model_validate(record, from_attributes=True)
    return Response(
        content=body.model_dump_json(),
        media_type="application/json",
        headers={"ETag": etag(record.version)},
    )


@router.get(
    "/programmes/{programme_id}/imports/template",
    summary="Download the import template",
    description=(
        "An XLSX workbook with the sheets `projects` and `milestones` and exactly the columns "
        "an import reads, drop-down lists for languages, pillar codes, statuses and states, "
        "and a note on each column's header. `lang=ar` lays the sheets out right to left. "
        "Anyone who can see the programme may download it."
    ),
    responses={
        200: {"content": {XLSX: {}}, "description": "The workbook."},
        **errors(404, 422),
    },
)
async def get_import_template(
    session: SessionDep,
    actor: CurrentActor,
    programme_id: ResourceId,
    lang: Annotated[
        str | None,
        Query(min_length=2, max_length=3, description="`ar` lays the sheets out right to left."),
    ] = None,
) -> Response:
    from ipcp_api.common import i18n

    chosen = i18n.check_language(lang, name="lang") if lang is not None else i18n.default_language()
    programme = await service.visible_programme(session, actor, programme_id)
    content = template.build(await service.pillar_codes(session), lang=chosen)
    return Response(
        content=content,
        media_type=XLSX,
        headers={
            "Content-Disposition": content_disposition(f"import-{programme.code}.xlsx"),
            "Content-Language": chosen,
        },
    )


@router.post(
    "/programmes/{programme_id}/imports",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportRead,
    summary="Upload a spreadsheet to import",
    description=(
        "Multipart form with one field, `file`: the template filled in (XLSX), or a ZIP "
        "holding `projects.csv` and `milestones.csv` (UTF-8). Every row is checked against "
        "the same rules as the API and matched by its natural key (a project by `code`; a "
        "milestone by `ref`, else by `title` and `due_on`); nothing is written but the "
        "import itself, kept 7 days. `status` is `valid` or `invalid` with every error "
        "listed by sheet, row and column. A file that cannot be read, a missing sheet or "
        "column → 422; over 10 MiB or over 10,000 rows → 413. " + _ACCESS
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
    responses={
        **errors(403, 404, 409, 422),
        413: {**errors(413)[413], "description": "Over 10 MiB, or over 10,000 rows in all."},
    },
)
async def create_import(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    programme_id: ResourceId,
) -> Response:
    # the access rules first: a viewer or a closed programme is refused before the body is read
    programme = await service.programme_for_import(session, actor, programme_id)
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise Invalid(("body", "file"), "send the file as multipart/form-data in the field file")
    parser = _InMemoryParser(request.headers, request.stream(), max_files=1, max_fields=10)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise Invalid(("body", "file"), f"not a valid multipart body: {exc.message}") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise Invalid(("body", "file"), "the form has no file in the field file")
    data = await upload.read()
    await upload.close()
    record = await service.upload(session, actor, programme, data, upload.filename or "")
    answer = _read(record)
    answer.status_code = status.HTTP_201_CREATED
    answer.headers["Location"] = f"/api/v1/imports/{record.id}"
    return answer


@router.get(
    "/imports/{import_id}",
    response_model=ImportRead,
    summary="Get an import",
    description="An import of the last 7 days. " + _ACCESS,
    responses=errors(403, 404, 422),
)
async def get_import(session: SessionDep, actor: CurrentActor, import_id: ResourceId) -> Response:
    return _read(await service.get_import(session, actor, import_id))


@router.post(
    "/imports/{import_id}/commit",
    response_model=ImportRead,
    summary="Commit an import",
    description=(
        "Checks the plan again against the data as it is now and writes all of it in one "
        "transaction, each change audited; `status` becomes `committed` and `plan` gives the "
        "id of every row. If any row no longer holds (or the import was `invalid`) → 409 with "
        "`errors` (`sheet`, `row`, `column`, `msg`) and nothing written. Committing again "
        "answers the same 200. " + _ACCESS
    ),
    responses=errors(403, 404, 409, 422),
)
async def commit_import(
    session: SessionDep, actor: CurrentActor, import_id: ResourceId
) -> Response:
    return _read(await service.commit(session, actor, import_id))
