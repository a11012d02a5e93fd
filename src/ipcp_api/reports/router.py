from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response

from ipcp_api.auth.dependencies import CurrentActor
from ipcp_api.common import i18n
from ipcp_api.common.http import MEDIA_TYPES, content_disposition, negotiate
from ipcp_api.common.i18n import ReportLang
from ipcp_api.common.metrics import today
from ipcp_api.common.params import ResourceId
from ipcp_api.common.responses import LIST, READ, errors
from ipcp_api.common.types import MAX_BIGINT, IsoDate
from ipcp_api.db.replica import HEADER as SERVED_BY
from ipcp_api.db.replica import StandbyReads
from ipcp_api.db.session import SessionDep
from ipcp_api.enums import ProgrammeStatus
from ipcp_api.reports import csv as report_csv
from ipcp_api.reports import examples, service
from ipcp_api.reports.schemas import PartnerReport, PortfolioReport, ProgrammeReport
from ipcp_api.reports.slots import ReportSlots

router = APIRouter(tags=["reports"])

JSON = MEDIA_TYPES["json"]
CSV = MEDIA_TYPES["csv"]
# What the reports offer today, preferred first (XLSX and PDF come with the exports).
OFFERS = ("json", "csv")

FormatParam = Annotated[
    Literal["json", "csv", "xlsx", "pdf"] | None,
    Query(
        alias="format",
        description="`json` or `csv` (a spreadsheet-ready table, downloaded as a file)."
        " Takes precedence over the `Accept` header; leave it empty to let `Accept` decide"
        " (JSON by default). `xlsx` and `pdf` are not offered yet (406).",
        # the document offers what is produced today; xlsx and pdf answer 406, not 422
        json_schema_extra={"enum": list(OFFERS)},
    ),
]

AsOf = Annotated[
    IsoDate | None,
    Query(
        description="The date the figures are computed for, `YYYY-MM-DD` (for example the"
        " date of a committee meeting). Leave it empty for today."
    ),
]

BaselineParam = Annotated[
    str | None,
    Query(
        max_length=32,
        description=(
            "`approval` (the plan as approved) or the id of one of this programme's baselines:"
            " adds the `baseline` block, and to the summary, every pillar and every project"
            " `baseline_expected_progress`, `variance_vs_baseline`, `milestones_slipped`,"
            " `max_slip_days`, `milestones_added`, `milestones_removed`; and `baseline_due_on`"
            " and `slip_days` to every overdue and upcoming milestone (CSV: extra columns)."
        ),
    ),
]

_DEFINITIONS = """\
**How to read the figures** (all as of `as_of`; leave it empty for today):

- A milestone *counts* unless it, or its project, is cancelled. Each milestone has a
  *weight* (1–100): how much of the work it stands for.
- `progress` — the share of the work done, by weight: `0.3396` means 34 % done.
- `expected_progress` — the share that should be done by now (the weight of the milestones
  due by `as_of`): `0.5` means half the work was due.
- `variance` = `progress` − `expected_progress`: below zero means behind the plan
  (`-0.125` is 12.5 percentage points behind), above zero ahead of it.
- `schedule` — `complete`: every milestone done; `on_track`: nothing overdue; `behind`: some
  milestone overdue, none by more than 30 days; `late`: some milestone overdue by more than
  30 days; `not_planned`: no milestone counts, so the three figures are empty (`null`).
- A milestone is *overdue* when it was due before `as_of` and not done by then.

Fractions have 4 decimals. `format=csv` gives the same figures as a file for a spreadsheet.
"""


def _responses(
    csv_columns: tuple[str, ...], example: dict[str, Any], codes: tuple[int, ...] = READ
) -> dict[int | str, dict[str, Any]]:
    header = ",".join(csv_columns)
    return {
        200: {
            "description": "The report: JSON by default; with `format=csv` (or `Accept:"
            " text/csv`) a CSV file to download (header row first, UTF-8, an empty cell where"
            " a figure has no value).",
            "content": {
                # FastAPI adds the report's schema; the example is one consistent report
                JSON: {"example": example},
                CSV: {"schema": {"type": "string"}, "example": header + "\r\n"},
            },
            "headers": {
                "Content-Disposition": {
                    "description": "CSV only: `attachment` with the file's name, e.g."
                    " `programme-BHR-IPCP-2016-2017-06-30.csv`.",
                    "schema": {"type": "string"},
                },
                "Content-Language": {
                    "description": "The language of the names and titles: `en`, `fr` or `ar`"
                    " (`lang`, else the best match of `Accept-Language`, else `en`).",
                    "schema": {"type": "string"},
                },
            },
        },
        **errors(*codes, 406),
    }


def _csv(body: str, filename: str, lang: str) -> Response:
    return Response(
        content=body.encode("utf-8"),
        media_type=f"{CSV}; charset=utf-8",
        headers={
            "Content-Disposition": content_disposition(filename),
            **i18n.content_headers(lang),
        },
    )


def _json(report: service.Report, lang: str) -> Response:
    # The report is JSON-ready data; orjson writes it in one pass (dates as YYYY-MM-DD).
    return Response(
        content=orjson.dumps(report), media_type=JSON, headers=i18n.content_headers(lang)
    )


def _language(request: Request, lang: str | None) -> str:
    """``lang``, else the best match of ``Accept-Language``, else the default (422 for an
    unsupported ``lang``; never 406)."""
    return i18n.negotiate(lang, request.headers.get("accept-language"))


def _slots(request: Request) -> ReportSlots:
    slots: ReportSlots = request.app.state.report_slots
    return slots


def _reads(request: Request) -> StandbyReads:
    reads: StandbyReads = request.app.state.standby_reads
    return reads


def _served(response: Response, served_by: str) -> Response:
    """``X-Served-By: standby | primary`` (db/replica.py)."""
    response.headers[SERVED_BY] = served_by
    return response


def _as_of(value: date | None) -> date:
    return value if value is not None else today()


@router.get(
    "/programmes/{programme_id}/report",
    response_model=ProgrammeReport,
    summary="Progress report of a programme",
    description="Where a programme stands: its summary, each pillar (all listed, in their"
    " order), each project (by pillar, then code), the overdue milestones (oldest first) and"
    " those due in the next 30 days (soonest first). The CSV has one row per project.\n\n"
    + _DEFINITIONS,
    responses=_responses(report_csv.PROGRAMME_COLUMNS, examples.PROGRAMME),
)
async def programme_report(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    programme_id: ResourceId,
    as_of: AsOf = None,
    fmt: FormatParam = None,
    lang: ReportLang = None,
    baseline: BaselineParam = None,
) -> Response:
    language = _language(request, lang)
    chosen = negotiate(fmt, request.headers.get("accept"), OFFERS)
    async with _slots(request).slot(session):
        report, served_by = await _reads(request).run(
            session,
            service.programme_report,
            actor,
            programme_id,
            as_of=_as_of(as_of),
            lang=language,
            baseline=baseline,
        )
        if chosen == "csv":
            return _served(
                _csv(
                    report_csv.programme_csv(report),
                    f"programme-{report['programme']['code']}-{report['as_of']}.csv",
                    language,
                ),
                served_by,
            )
        return _served(_json(report, language), served_by)


@router.get(
    "/partners/{partner_id}/report",
    response_model=PartnerReport,
    summary="Progress report of a partner",
    description="Where a partner stands over all its programmes: the summary, each pillar,"
    " and each programme (by start date, then code). The CSV has one row per programme.\n\n"
    + _DEFINITIONS,
    responses=_responses(report_csv.PARTNER_COLUMNS, examples.PARTNER),
)
async def partner_report(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    partner_id: ResourceId,
    as_of: AsOf = None,
    fmt: FormatParam = None,
    lang: ReportLang = None,
) -> Response:
    language = _language(request, lang)
    chosen = negotiate(fmt, request.headers.get("accept"), OFFERS)
    async with _slots(request).slot(session):
        report, served_by = await _reads(request).run(
            session,
            service.partner_report,
            actor,
            partner_id,
            as_of=_as_of(as_of),
            lang=language,
        )
        if chosen == "csv":
            return _served(
                _csv(
                    report_csv.partner_csv(report),
                    f"partner-{report['partner']['code']}-{report['as_of']}.csv",
                    language,
                ),
                served_by,
            )
        return _served(_json(report, language), served_by)


@router.get(
    "/reports/portfolio",
    response_model=PortfolioReport,
    summary="Progress report of the whole portfolio",
    description="The whole portfolio you may see, or the programmes that match the filters:"
    " the summary, each pillar, and each partner with a matching programme (by code). The CSV"
    " has one row per partner.\n\n" + _DEFINITIONS,
    responses=_responses(report_csv.PORTFOLIO_COLUMNS, examples.PORTFOLIO, LIST),
)
async def portfolio_report(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    as_of: AsOf = None,
    fmt: FormatParam = None,
    framework_id: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_BIGINT,
            description="Only programmes of partners that are members of this framework.",
        ),
    ] = None,
    status: Annotated[
        ProgrammeStatus | None, Query(description="Only programmes with this status.")
    ] = None,
    lang: ReportLang = None,
) -> Response:
    language = _language(request, lang)
    chosen = negotiate(fmt, request.headers.get("accept"), OFFERS)
    async with _slots(request).slot(session):
        report, served_by = await _reads(request).run(
            session,
            service.portfolio_report,
            actor,
            as_of=_as_of(as_of),
            framework_id=framework_id,
            status=status,
            lang=language,
        )
        if chosen == "csv":
            return _served(
                _csv(
                    report_csv.portfolio_csv(report),
                    f"portfolio-{report['as_of']}.csv",
                    language,
                ),
                served_by,
            )
        return _served(_json(report, language), served_by)
