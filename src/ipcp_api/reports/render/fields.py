"""What the renderers need to know about a report's fields: which are fractions, dates or
enumeration values, and which columns each table has (the CSV's names, in English).

A report is JSON-ready data (``reports.service``); the review, action and baseline blocks
are rendered when the report has them, so the renderers follow the data, not a feature flag.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Final

from ipcp_api.reports import csv as report_csv
from ipcp_api.reports.service import SUMMARY_FIELDS, Report

FRACTIONS: Final = frozenset(
    {
        "progress",
        "expected_progress",
        "variance",
        "baseline_expected_progress",
        "variance_vs_baseline",
    }
)
DATES: Final = frozenset(
    {
        "as_of",
        "due_on",
        "next_due_on",
        "starts_on",
        "ends_on",
        "held_on",
        "baseline_due_on",
        "completed_on",
        "next_review_held_on",
        "last_review_held_on",
    }
)
# Figures the "against a baseline" option adds to the summary, pillar and project rows, and to
# the overdue and upcoming items (API.md, *Against a baseline*).
BASELINE_FIGURES: Final = (
    "baseline_expected_progress",
    "variance_vs_baseline",
    "milestones_slipped",
    "max_slip_days",
    "milestones_added",
    "milestones_removed",
)
BASELINE_ITEM_FIELDS: Final = ("baseline_due_on", "slip_days")

_Getters = dict[str, Callable[[dict[str, Any]], Any]]
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def as_date(value: Any) -> date | None:
    """A date from the data (a ``date``, or ``YYYY-MM-DD`` text), else None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def as_timestamp(value: Any) -> datetime | None:
    """A timestamp from the data (a ``datetime``, or RFC 3339 text such as
    ``2016-05-20T09:30:00Z``) in UTC, else None."""
    if isinstance(value, datetime):
        stamp = value
    elif isinstance(value, str) and "T" in value:
        try:
            stamp = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return stamp.astimezone(UTC) if stamp.tzinfo is not None else stamp


def iso(value: Any) -> str | None:
    """A date or timestamp as text (``YYYY-MM-DD``; timestamps to the minute, UTC)."""
    if value is None:
        return None
    stamp = as_timestamp(value)
    if stamp is not None:
        value = stamp
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _extra(
    rows: list[dict[str, Any]], names: tuple[str, ...], have: tuple[str, ...]
) -> tuple[str, ...]:
    """The optional ``names`` present in the rows (and not already columns)."""
    present = set().union(*(row.keys() for row in rows)) if rows else set()
    return tuple(name for name in names if name in present and name not in have)


def summary_fields(report: Report) -> tuple[str, ...]:
    summary = report["summary"]
    return (*SUMMARY_FIELDS, *(name for name in BASELINE_FIGURES if name in summary))


# --- tables ----------------------------------------------------------------------------------
# Each table: (column names, rows as lists of values in that order, enumeration kind per
# column). Values stay data (numbers, dates, codes); the renderers format them.

Table = tuple[tuple[str, ...], list[list[Any]], dict[str, str]]


def pillar_table(report: Report) -> Table:
    figures = summary_fields(report)
    columns = ("pillar_id", "pillar_code", "pillar_name", *figures)
    rows = [
        [
            row["pillar"]["id"],
            row["pillar"]["code"],
            row["pillar"]["name"],
            *(row.get(f) for f in figures),
        ]
        for row in report["pillars"]
    ]
    return columns, rows, {"schedule": "schedule"}


def project_table(report: Report) -> Table:
    base = report_csv.PROGRAMME_COLUMNS
    extra = _extra(report["projects"], BASELINE_FIGURES, base)
    columns = (*base, *extra)
    pillar_codes = {row["pillar"]["id"]: row["pillar"]["code"] for row in report["pillars"]}
    named: _Getters = {
        "project_id": lambda p: p["id"],
        "project_code": lambda p: p["code"],
        "project_title": lambda p: p["title"],
        "pillar_code": lambda p: pillar_codes.get(p["pillar_id"]),
    }
    rows = [[named[c](p) if c in named else p.get(c) for c in columns] for p in report["projects"]]
    return columns, rows, {"status": "project_status", "schedule": "schedule"}


def programme_table(report: Report) -> Table:
    base = report_csv.PARTNER_COLUMNS
    extra = _extra(report["programmes"], BASELINE_FIGURES, base)
    columns = (*base, *extra)
    named: _Getters = {
        "programme_id": lambda r: r["programme"]["id"],
        "programme_code": lambda r: r["programme"]["code"],
        "programme_title": lambda r: r["programme"]["title"],
        "status": lambda r: r["programme"]["status"],
    }
    rows = [
        [named[c](r) if c in named else r.get(c) for c in columns] for r in report["programmes"]
    ]
    return columns, rows, {"status": "programme_status", "schedule": "schedule"}


def partner_table(report: Report) -> Table:
    base = report_csv.PORTFOLIO_COLUMNS
    extra = _extra(report["partners"], BASELINE_FIGURES, base)
    columns = (*base, *extra)
    named: _Getters = {
        "partner_id": lambda r: r["partner"]["id"],
        "partner_code": lambda r: r["partner"]["code"],
        "partner_name": lambda r: r["partner"]["name"],
    }
    rows = [[named[c](r) if c in named else r.get(c) for c in columns] for r in report["partners"]]
    return columns, rows, {"schedule": "schedule"}


def _project_codes(report: Report) -> dict[Any, Any]:
    return {p["id"]: p["code"] for p in report.get("projects", [])}


def overdue_table(report: Report) -> Table:
    items = report.get("overdue", [])
    base = ("milestone_id", "project_id", "project_code", "title", "due_on", "days_overdue")
    columns = (*base, *_extra(items, BASELINE_ITEM_FIELDS, base))
    codes = _project_codes(report)
    rows = [
        [codes.get(m["project_id"]) if c == "project_code" else m.get(c) for c in columns]
        for m in items
    ]
    return columns, rows, {}


def upcoming_table(report: Report) -> Table:
    items = report.get("upcoming", [])
    base = ("milestone_id", "project_id", "project_code", "title", "due_on")
    columns = (*base, *_extra(items, BASELINE_ITEM_FIELDS, base))
    codes = _project_codes(report)
    rows = [
        [codes.get(m["project_id"]) if c == "project_code" else m.get(c) for c in columns]
        for m in items
    ]
    return columns, rows, {}


ACTION_COLUMNS: Final = (
    "id",
    "review_id",
    "title",
    "owner",
    "owner_side",
    "due_on",
    "days_overdue",
)


def action_table(report: Report) -> Table:
    actions = report.get("actions") or {}
    items = actions.get("items", [])
    return (
        ACTION_COLUMNS,
        [[item.get(c) for c in ACTION_COLUMNS] for item in items],
        {"owner_side": "owner_side"},
    )


def heading_fields(report: Report) -> list[tuple[str, Any, str | None]]:
    """The Summary sheet's rows before the figures: (field, value, enumeration kind)."""
    out: list[tuple[str, Any, str | None]] = [("as_of", report["as_of"], None)]
    programme = report.get("programme")
    if programme is not None:
        out += [
            ("programme_id", programme["id"], None),
            ("programme_code", programme["code"], None),
            ("programme_title", programme["title"], None),
            ("programme_status", programme["status"], "programme_status"),
            ("starts_on", programme.get("starts_on"), None),
            ("ends_on", programme.get("ends_on"), None),
        ]
    partner = report.get("partner") or (programme or {}).get("partner")
    if partner is not None:
        out += [
            ("partner_id", partner["id"], None),
            ("partner_code", partner["code"], None),
            ("partner_name", partner["name"], None),
        ]
    baseline = report.get("baseline")
    if baseline:
        out += [
            ("baseline_id", baseline.get("id"), None),
            ("baseline_kind", baseline.get("kind"), "baseline_kind"),
            ("baseline_name", baseline.get("name"), None),
            ("baseline_taken_at", baseline.get("taken_at"), None),
        ]
    return out


def review_fields(report: Report) -> list[tuple[str, Any, str | None]]:
    """The reviews and action counts of a programme report, when it has them."""
    out: list[tuple[str, Any, str | None]] = []
    reviews = report.get("reviews")
    if reviews is not None:
        for which in ("last", "next"):
            review = reviews.get(which)
            if review is None:
                out.append((f"{which}_review_held_on", None, None))
                continue
            committee = review.get("committee") or {}
            out += [
                (f"{which}_review_held_on", review.get("held_on"), None),
                (f"{which}_review_committee", committee.get("code"), None),
                (
                    f"{which}_review_format",
                    review.get("format_label") or review.get("format"),
                    None if review.get("format_label") else "review_format",
                ),
                (f"{which}_review_status", review.get("status"), "review_status"),
            ]
        out.append(("milestones_done_since_last", reviews.get("milestones_done_since_last"), None))
    actions = report.get("actions")
    if actions is not None:
        out += [
            ("actions_open", actions.get("open"), None),
            ("actions_overdue", actions.get("overdue"), None),
        ]
    return out
