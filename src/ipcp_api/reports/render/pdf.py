"""The PDF form of the reports, typeset by Typst (the ``typst`` wheel: no system libraries).

The layout is ``templates/report.typ``; this module turns a report into the view the template
shows — labels, enumeration words and formatted figures in the report's language — and passes
it as JSON in ``sys.inputs``. Text from the data is never written into markup, so a title
such as ``#eval("...")`` or ``]`` is printed as it is. Fonts ship in ``fonts/`` (Noto Sans and
Noto Naskh Arabic, OFL); system fonts are ignored and no package is imported, so nothing is
fetched and the output is the same on every machine.

Typst shapes Arabic and lays out right to left (tables mirror); codes, dates and figures are
isolated left to right by the template, so ``2017-06-30`` and ``28+1`` read as written.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import typst

from ipcp_api.reports.render import fields, words
from ipcp_api.reports.service import Report

HERE = Path(__file__).parent
FONTS = HERE / "fonts"
TEMPLATE = HERE / "templates" / "report.typ"

_idle: list[Any] = []
_idle_lock = threading.Lock()


@contextmanager
def _compiler() -> Iterator[Any]:
    """A compiler of the template (it keeps the fonts parsed and the template's syntax), used
    by one thread at a time. Idle ones are kept for the next file, so a process holds as many
    as it ever rendered at once (the report slots bound that), whatever thread runs them."""
    with _idle_lock:
        compiler = _idle.pop() if _idle else None
    if compiler is None:
        compiler = typst.Compiler(
            str(TEMPLATE),
            root=str(TEMPLATE.parent),
            font_paths=[str(FONTS)],
            ignore_system_fonts=True,
        )
    try:
        yield compiler
    finally:
        with _idle_lock:
            _idle.append(compiler)


def _part(text: Any, ltr: bool = False) -> dict[str, Any]:
    return {"t": "" if text is None else str(text), "ltr": ltr}


class _Formatter:
    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.labels = words.labels(lang)

    def percent(self, value: float | None, signed: bool = False) -> str | None:
        if value is None:
            return None
        text = f"{value * 100:.2f}".rstrip("0").rstrip(".")
        if text == "-0":
            text = "0"
        if signed and value > 0:
            text = "+" + text
        if self.lang == "fr":
            return text.replace(".", ",") + "\u202f%"
        return text + "%"

    def word(self, kind: str, code: str | None) -> str | None:
        return words.value(self.lang, kind, code)

    def figure(self, name: str, value: Any) -> str | None:
        """A figure as text: fractions as percentages, dates as YYYY-MM-DD, counts as digits."""
        if value is None:
            return None
        if name in fields.FRACTIONS:
            return self.percent(value, signed=name.startswith("variance"))
        if name == "schedule":
            return self.word("schedule", value)
        return fields.iso(value)


def _item(label: str, *parts: dict[str, Any]) -> dict[str, Any]:
    return {"label": label, "parts": [p for p in parts if p["t"]] or [_part("—")]}


Column = tuple[str, bool, bool | float]


def _width(spec: bool | float) -> str | float:
    return "fr" if spec is True else "auto" if spec is False else float(spec)


def _table(title: str, columns: list[Column], rows: list[list[Any]]) -> dict[str, Any]:
    """``columns``: (header, left to right?, width: True for the remaining width, False for
    its content's, else centimetres, in which a long header wraps)."""
    return {
        "title": title,
        "columns": [c[0] for c in columns],
        "ltr": [c[1] for c in columns],
        "widths": [_width(c[2]) for c in columns],
        "rows": [[None if v is None else str(v) for v in row] for row in rows],
    }


def _summary_figures(fmt: _Formatter, report: Report) -> list[dict[str, Any]]:
    summary = report["summary"]
    names = ["progress", "expected_progress", "variance", "schedule"]
    names += [n for n in ("baseline_expected_progress", "variance_vs_baseline") if n in summary]
    out = []
    for name in names:
        text = fmt.figure(name, summary.get(name))
        out.append(_item(fmt.labels[name], _part(text, ltr=name != "schedule")))
    for name in ("projects", "milestones", "milestones_done", "milestones_overdue"):
        label = fmt.labels["projects_count" if name == "projects" else name]
        out.append(_item(label, _part(summary.get(name), ltr=True)))
    return out


def _chart(fmt: _Formatter, report: Report) -> list[dict[str, Any]]:
    return [
        {
            "name": f"{i}. {row['pillar']['name']}",
            "progress": row.get("progress"),
            "expected": row.get("expected_progress"),
            "progress_text": fmt.percent(row.get("progress")) or "—",
            "expected_text": fmt.percent(row.get("expected_progress")) or "—",
            "schedule": fmt.word("schedule", row.get("schedule")),
        }
        for i, row in enumerate(report["pillars"], start=1)
    ]


def _baseline_block(fmt: _Formatter, report: Report) -> dict[str, Any] | None:
    baseline = report.get("baseline")
    if not baseline:
        return None
    L = fmt.labels
    summary = report["summary"]
    items = [
        _item(
            L["baseline"],
            _part(baseline.get("name")),
            _part(f"({fmt.word('baseline_kind', baseline.get('kind'))})"),
        ),
        _item(L["taken_at"], _part(fields.iso(baseline.get("taken_at")), ltr=True)),
    ]
    for name in fields.BASELINE_FIGURES:
        if name in summary:
            items.append(_item(L[name], _part(fmt.figure(name, summary[name]), ltr=True)))
    return {"title": L["baseline"], "items": items}


def _review_parts(fmt: _Formatter, review: dict[str, Any] | None) -> list[dict[str, Any]]:
    if review is None:
        return [_part(fmt.labels["none"])]
    committee = review.get("committee") or {}
    label = review.get("format_label")
    return [
        _part(fields.iso(review.get("held_on")), ltr=True),
        _part("·"),
        _part(committee.get("code"), ltr=True),
        _part(committee.get("name")),
        _part("·"),
        _part(label, ltr=True) if label else _part(fmt.word("review_format", review.get("format"))),
        _part("·"),
        _part(fmt.word("review_status", review.get("status"))),
    ]


def _reviews_block(fmt: _Formatter, report: Report) -> dict[str, Any] | None:
    reviews = report.get("reviews")
    actions = report.get("actions")
    if reviews is None and actions is None:
        return None
    L = fmt.labels
    items = []
    if reviews is not None:
        items.append({"label": L["last_review"], "parts": _review_parts(fmt, reviews.get("last"))})
        items.append({"label": L["next_review"], "parts": _review_parts(fmt, reviews.get("next"))})
        done = reviews.get("milestones_done_since_last")
        items.append(_item(L["milestones_done_since_last"], _part(done, ltr=True)))
    if actions is not None:
        items.append(_item(L["actions_open"], _part(actions.get("open"), ltr=True)))
        items.append(_item(L["actions_overdue"], _part(actions.get("overdue"), ltr=True)))
    return {"title": L["reviews"], "items": items}


def _programme_tables(
    fmt: _Formatter, report: Report
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    L = fmt.labels
    position = {row["pillar"]["id"]: i for i, row in enumerate(report["pillars"], start=1)}
    with_baseline = any("variance_vs_baseline" in p for p in report["projects"])
    columns = [
        (L["code"], True, False),
        (L["project"], False, True),
        (L["pillar"], True, 1.2),
        (L["status"], False, 1.9),
        (L["progress"], True, 2.0),
        (L["expected_progress"], True, 2.0),
        (L["schedule"], False, 2.3),
        (L["next_due_on"], True, 2.0),
    ]
    if with_baseline:
        columns.insert(6, (L["variance_vs_baseline"], True, 2.0))
    rows = []
    for p in report["projects"]:
        row = [
            p["code"],
            p["title"],
            position.get(p["pillar_id"]),
            fmt.word("project_status", p["status"]),
            fmt.percent(p.get("progress")),
            fmt.percent(p.get("expected_progress")),
            fmt.word("schedule", p.get("schedule")),
            fields.iso(p.get("next_due_on")),
        ]
        if with_baseline:
            row.insert(6, fmt.percent(p.get("variance_vs_baseline"), signed=True))
        rows.append(row)
    codes = {p["id"]: p["code"] for p in report["projects"]}
    overdue = report.get("overdue", [])
    slips = any("slip_days" in m for m in overdue + report.get("upcoming", []))
    o_cols = [
        (L["code"], True, False),
        (L["title"], False, True),
        (L["due_on"], True, 2.0),
        (L["days_overdue"], True, 1.8),
    ]
    u_cols = o_cols[:3]
    if slips:
        o_cols = [*o_cols, (L["baseline_due_on"], True, 2.0), (L["slip_days"], True, 1.6)]
        u_cols = [*u_cols, (L["baseline_due_on"], True, 2.0), (L["slip_days"], True, 1.6)]

    def item_row(m: dict[str, Any], *extra: Any) -> list[Any]:
        row = [codes.get(m["project_id"]), m["title"], fields.iso(m["due_on"]), *extra]
        if slips:
            row += [fields.iso(m.get("baseline_due_on")), m.get("slip_days")]
        return row

    tables = [
        _table(L["projects"], columns, rows),
        _table(L["overdue"], o_cols, [item_row(m, m.get("days_overdue")) for m in overdue]),
        _table(L["upcoming"], u_cols, [item_row(m) for m in report.get("upcoming", [])]),
    ]
    after: list[dict[str, Any]] = []
    actions = report.get("actions")
    if actions is not None:
        a_cols = [
            (L["title"], False, True),
            (L["owner"], False, False),
            (L["side"], False, 1.6),
            (L["due_on"], True, 2.0),
            (L["days_overdue"], True, 1.8),
        ]
        after.append(
            _table(
                L["actions"],
                a_cols,
                [
                    [
                        a.get("title"),
                        a.get("owner"),
                        fmt.word("owner_side", a.get("owner_side")),
                        fields.iso(a.get("due_on")),
                        a.get("days_overdue"),
                    ]
                    for a in actions.get("items", [])
                ],
            )
        )
    return tables, after


def _summary_table(
    fmt: _Formatter,
    title: str,
    head: list[Column],
    rows: list[tuple[list[Any], dict[str, Any]]],
) -> dict[str, Any]:
    L = fmt.labels
    columns = [
        *head,
        (L["progress"], True, 2.0),
        (L["expected_progress"], True, 2.0),
        (L["milestones_overdue"], True, 1.9),
        (L["schedule"], False, 2.3),
    ]
    return _table(
        title,
        columns,
        [
            [
                *lead,
                fmt.percent(r.get("progress")),
                fmt.percent(r.get("expected_progress")),
                r.get("milestones_overdue"),
                fmt.word("schedule", r.get("schedule")),
            ]
            for lead, r in rows
        ],
    )


def _view(kind: str, report: Report, lang: str, generated_at: datetime) -> dict[str, Any]:
    fmt = _Formatter(lang)
    L = fmt.labels
    as_of = fields.iso(report["as_of"])
    heading: list[dict[str, Any]] = []
    tables: list[dict[str, Any]] = []
    after: list[dict[str, Any]] = []
    programme = report.get("programme")
    partner = report.get("partner") or (programme or {}).get("partner")
    if programme is not None:
        subject = programme["title"]
        heading.append(
            _item(L["programme"], _part(programme["code"], ltr=True), _part(programme["title"]))
        )
        heading.append(_item(L["status"], _part(fmt.word("programme_status", programme["status"]))))
        heading.append(
            _item(
                L["period"],
                _part(fields.iso(programme.get("starts_on")), ltr=True),
                _part("–"),
                _part(fields.iso(programme.get("ends_on")), ltr=True),
            )
        )
    elif partner is not None:
        subject = partner["name"]
    else:
        subject = ""  # the title says it all
    if partner is not None:
        heading.insert(
            1 if programme else 0,
            _item(L["partner"], _part(partner["code"], ltr=True), _part(partner["name"])),
        )
    heading.append(_item(L["as_of"], _part(as_of, ltr=True)))
    heading.append(_item(L["language"], _part(words.LANGUAGE_NAMES.get(lang, lang))))

    if kind == "programme":
        tables, after = _programme_tables(fmt, report)
    elif kind == "partner":
        tables = [
            _summary_table(
                fmt,
                L["programmes"],
                [(L["code"], True, False), (L["title"], False, True), (L["status"], False, 1.9)],
                [
                    (
                        [
                            r["programme"]["code"],
                            r["programme"]["title"],
                            fmt.word("programme_status", r["programme"]["status"]),
                        ],
                        r,
                    )
                    for r in report["programmes"]
                ],
            )
        ]
    else:
        tables = [
            _summary_table(
                fmt,
                L["partners"],
                [
                    (L["code"], True, False),
                    (L["name"], False, True),
                    (L["programmes_count"], True, False),
                ],
                [
                    ([r["partner"]["code"], r["partner"]["name"], r["programmes"]], r)
                    for r in report["partners"]
                ],
            )
        ]
    summary = report["summary"]
    blocks = [
        b for b in (_reviews_block(fmt, report), _baseline_block(fmt, report)) if b is not None
    ]
    return {
        "lang": lang,
        "rtl": words.is_rtl(lang),
        "fonts": ["Noto Naskh Arabic", "Noto Sans"]
        if words.is_rtl(lang)
        else ["Noto Sans", "Noto Naskh Arabic"],
        "labels": L,
        "title": L[f"{kind}_report"],
        "subject": subject,
        "as_of": as_of,
        "generated_at": generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "heading": heading,
        "sentence": L["summary_sentence"].format(
            done=summary["milestones_done"],
            total=summary["milestones"],
            overdue=summary["milestones_overdue"],
        ),
        "figures": _summary_figures(fmt, report),
        "chart": _chart(fmt, report),
        "tables": tables,
        "blocks": blocks,
        "after_tables": after,
    }


def render(kind: str, report: Report, lang: str, *, generated_at: datetime | None = None) -> bytes:
    """The PDF of a ``programme``, ``partner`` or ``portfolio`` report. Runs the typesetter:
    call it off the event loop."""
    now = generated_at or datetime.now(UTC)
    view = _view(kind, report, lang, now)
    data = orjson.dumps(view, default=str).decode()
    with _compiler() as compiler:
        pdf: bytes = compiler.compile(
            format="pdf", sys_inputs={"data": data}, timestamp=int(now.timestamp())
        )
    return pdf


def programme_pdf(report: Report, lang: str) -> bytes:
    return render("programme", report, lang)


def partner_pdf(report: Report, lang: str) -> bytes:
    return render("partner", report, lang)


def portfolio_pdf(report: Report, lang: str) -> bytes:
    return render("portfolio", report, lang)
