from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response

from ipcp_api.auth.dependencies import CurrentActor
from ipcp_api.common import i18n
from ipcp_api.common.i18n import ReportLang
from ipcp_api.common.metrics import today
from ipcp_api.common.params import ResourceId
from ipcp_api.common.responses import LIST, READ, errors
from ipcp_api.common.types import MAX_BIGINT, IsoDate
from ipcp_api.db.session import SessionDep
from ipcp_api.enums import ProgrammeStatus
from ipcp_api.errors import NotAcceptable
from ipcp_api.reports import csv as report_csv
from ipcp_api.reports import service
from ipcp_api.reports.schemas import PartnerReport, PortfolioReport, ProgrammeReport
from ipcp_api.reports.slots import ReportSlots

router = APIRouter(tags=["reports"])

JSON = "application/json"
CSV = "text/csv"
Format = Literal["json", "csv"]
_OFFERS: tuple[tuple[str, Format], ...] = ((JSON, "json"), (CSV, "csv"))

AsOf = Annotated[
    IsoDate | None,
    Query(description="The date the report is computed as of (`YYYY-MM-DD`); default today (UTC)."),
]

_DEFINITIONS = (
    "Figures as of `as_of` (API.md, *Progress reports*): counted milestones are those not "
    "cancelled in projects not cancelled; progress = weight done by `as_of` / W; "
    "expected_progress = weight due by `as_of` / W; variance = progress − expected_progress "
    "(4 decimal places; null when W = 0). `Accept: text/csv` gives the rows as CSV."
)


def _responses(
    csv_columns: tuple[str, ...], codes: tuple[int, ...] = READ
) -> dict[int | str, dict[str, Any]]:
    header = ",".join(csv_columns)
    return {
        200: {
            "description": "The report: JSON, or CSV with `Accept: text/csv` (header row first, "
            "UTF-8, null as an empty cell).",
            "content": {CSV: {"schema": {"type": "string"}, "example": header + "\r\n"}},
        },
        **errors(*codes, 406),
    }


def negotiate(accept: str | None) -> Format:
    """The representation an ``Accept`` header asks for (406 when neither JSON nor CSV).

    Each offer takes the quality of the most specific media range that matches it; the
    highest quality wins, then the more specific match, then JSON. No header means JSON.
    """
    if accept is None or not accept.strip():
        return "json"
    ranges: list[tuple[str, str, float]] = []
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        kind, _, subtype = media.lower().partition("/")
        if not kind or not subtype:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
                if not 0.0 <= quality <= 1.0:
                    quality = 0.0
        ranges.append((kind, subtype, quality))
    best: tuple[float, int, int] | None = None
    chosen: Format | None = None
    for preference, (offer, name) in enumerate(_OFFERS):
        kind, _, subtype = offer.partition("/")
        match: tuple[int, float] | None = None
        for r_kind, r_subtype, quality in ranges:
            if (r_kind, r_subtype) == (kind, subtype):
                specificity = 2
            elif (r_kind, r_subtype) == (kind, "*"):
                specificity = 1
            elif (r_kind, r_subtype) == ("*", "*"):
                specificity = 0
            else:
                continue
            if match is None or specificity > match[0]:
                match = (specificity, quality)
        if match is None or match[1] <= 0:
            continue
        score = (match[1], match[0], -preference)
        if best is None or score > best:
            best, chosen = score, name
    if chosen is None:
        raise NotAcceptable(f"this endpoint produces {JSON} or {CSV}; Accept was {accept!r}")
    return chosen


def _csv(body: str, filename: str, lang: str) -> Response:
    return Response(
        content=body.encode("utf-8"),
        media_type=f"{CSV}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
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


def _as_of(value: date | None) -> date:
    return value if value is not None else today()


@router.get(
    "/programmes/{programme_id}/report",
    response_model=ProgrammeReport,
    summary="Progress report of a programme",
    description=_DEFINITIONS
    + " CSV: one row per project. Pillars are all listed, by position; projects by pillar "
    "position, then code; overdue milestones oldest first; upcoming ones (due in "
    "(as_of, as_of + 30 days]) soonest first.",
    responses=_responses(report_csv.PROGRAMME_COLUMNS),
)
async def programme_report(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    programme_id: ResourceId,
    as_of: AsOf = None,
    lang: ReportLang = None,
) -> Response:
    language = _language(request, lang)
    fmt = negotiate(request.headers.get("accept"))
    async with _slots(request).slot(session):
        report = await service.programme_report(
            session, actor, programme_id, as_of=_as_of(as_of), lang=language
        )
        if fmt == "csv":
            return _csv(
                report_csv.programme_csv(report),
                f"programme-{report['programme']['code']}-{report['as_of']}.csv",
                language,
            )
        return _json(report, language)


@router.get(
    "/partners/{partner_id}/report",
    response_model=PartnerReport,
    summary="Progress report of a partner",
    description=_DEFINITIONS
    + " Over all the partner's programmes. CSV: one row per programme (by starts_on, then "
    "code).",
    responses=_responses(report_csv.PARTNER_COLUMNS),
)
async def partner_report(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    partner_id: ResourceId,
    as_of: AsOf = None,
    lang: ReportLang = None,
) -> Response:
    language = _language(request, lang)
    fmt = negotiate(request.headers.get("accept"))
    async with _slots(request).slot(session):
        report = await service.partner_report(
            session, actor, partner_id, as_of=_as_of(as_of), lang=language
        )
        if fmt == "csv":
            return _csv(
                report_csv.partner_csv(report),
                f"partner-{report['partner']['code']}-{report['as_of']}.csv",
                language,
            )
        return _json(report, language)


@router.get(
    "/reports/portfolio",
    response_model=PortfolioReport,
    summary="Progress report of the whole portfolio",
    description=_DEFINITIONS
    + " Over the programmes that match the filters (and that the caller may see). A partner "
    "with no matching programme has no row. CSV: one row per partner (by code).",
    responses=_responses(report_csv.PORTFOLIO_COLUMNS, LIST),
)
async def portfolio_report(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    as_of: AsOf = None,
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
    fmt = negotiate(request.headers.get("accept"))
    async with _slots(request).slot(session):
        report = await service.portfolio_report(
            session,
            actor,
            as_of=_as_of(as_of),
            framework_id=framework_id,
            status=status,
            lang=language,
        )
        if fmt == "csv":
            return _csv(
                report_csv.portfolio_csv(report), f"portfolio-{report['as_of']}.csv", language
            )
        return _json(report, language)
