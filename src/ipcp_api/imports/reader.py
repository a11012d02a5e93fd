"""Reading an uploaded file: an XLSX workbook (python-calamine) or a ZIP of two UTF-8 CSVs.

Everything happens in memory (the body is at most 10 MiB). A ZIP container is inspected with
``zipfile`` before anything reads it: at most ``MAX_ENTRIES`` entries and ``MAX_UNCOMPRESSED``
bytes once inflated (counted while inflating, so a lying header does not help a zip bomb). A
macro-enabled workbook is refused. Cells come back as Python values (formulas as their cached
values, date cells as dates); the checking lives in ``service.py``.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ipcp_api.errors import ApiError, Invalid

MAX_ENTRIES = 1000
MAX_UNCOMPRESSED = 100 * 1024 * 1024
MAX_ROWS = 10_000

PROJECT_COLUMNS = (
    "code",
    "pillar_code",
    "lang",
    "title",
    "title_fr",
    "title_ar",
    "description",
    "lead",
    "areas",
    "starts_on",
    "ends_on",
    "status",
)
MILESTONE_COLUMNS = (
    "project_code",
    "ref",
    "lang",
    "title",
    "title_fr",
    "title_ar",
    "due_on",
    "weight",
    "state",
    "completed_on",
)
SHEETS = {"projects": PROJECT_COLUMNS, "milestones": MILESTONE_COLUMNS}

SAVE_AS = "save as XLSX or CSV UTF-8"


class TooManyRows(ApiError):
    status_code = 413


def _refuse(msg: str, loc: str = "file") -> Invalid:
    return Invalid(("body", loc), msg)


@dataclass
class Sheet:
    name: str
    # (spreadsheet row number, {column: value}) for every row that is not blank
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def _inflate_all(archive: zipfile.ZipFile) -> dict[str, bytes]:
    """Every entry's bytes, refusing more than MAX_ENTRIES entries or MAX_UNCOMPRESSED bytes."""
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise _refuse(f"the archive holds over {MAX_ENTRIES} entries (a zip bomb?); {SAVE_AS}")
    total = 0
    contents: dict[str, bytes] = {}
    for info in infos:
        if info.is_dir():
            continue
        if info.flag_bits & 0x1:
            raise _refuse(f"the archive is encrypted; {SAVE_AS}")
        chunks = []
        with archive.open(info) as entry:
            while chunk := entry.read(1024 * 1024):
                total += len(chunk)
                if total > MAX_UNCOMPRESSED:
                    raise _refuse(
                        f"the archive expands to over {MAX_UNCOMPRESSED // (1024 * 1024)} MiB"
                        f" (a zip bomb?); {SAVE_AS}"
                    )
                chunks.append(chunk)
        contents[info.filename] = b"".join(chunks)
    return contents


def read_upload(data: bytes, filename: str) -> dict[str, Sheet]:
    """The two sheets of an upload, or 422 naming what is wrong with the file."""
    if not data:
        raise _refuse(f"the file is empty; {SAVE_AS}")
    lowered = filename.lower()
    if lowered.endswith((".xlsm", ".xltm", ".xlsb")):
        raise _refuse("a macro-enabled workbook is not accepted; save as XLSX (no macros)")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise _refuse(f"the file is neither an XLSX workbook nor a ZIP of CSV files; {SAVE_AS}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            contents = _inflate_all(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError):
        raise _refuse(f"the file is a damaged ZIP archive; {SAVE_AS}") from None
    if "[Content_Types].xml" in contents:
        types = contents["[Content_Types].xml"]
        if any(name.lower().endswith("vbaproject.bin") for name in contents) or (
            b"macroEnabled" in types
        ):
            raise _refuse("a macro-enabled workbook is not accepted; save as XLSX (no macros)")
        return _read_xlsx(data)
    return _read_csv_zip(contents)


# --- XLSX ---------------------------------------------------------------------------------------


def _read_xlsx(data: bytes) -> dict[str, Sheet]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = list(workbook.sheet_names)
    except Exception:  # calamine raises its own error types for unreadable workbooks
        raise _refuse(f"the file is not a readable XLSX workbook; {SAVE_AS}") from None
    sheets: dict[str, Sheet] = {}
    for name, columns in SHEETS.items():
        if name not in names:
            raise _refuse(f"the workbook has no sheet named {name!r}", name)
        try:
            grid = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception:
            raise _refuse(f"sheet {name!r} cannot be read; {SAVE_AS}", name) from None
        sheets[name] = _from_grid(name, columns, grid)
    _check_row_count(sheets)
    return sheets


# --- ZIP of CSV files ---------------------------------------------------------------------------


def _read_csv_zip(contents: dict[str, bytes]) -> dict[str, Sheet]:
    by_base = {name.rsplit("/", 1)[-1].lower(): name for name in contents}
    sheets: dict[str, Sheet] = {}
    for name, columns in SHEETS.items():
        entry = by_base.get(f"{name}.csv")
        if entry is None:
            raise _refuse(f"the ZIP archive has no file named {name}.csv; {SAVE_AS}", name)
        try:
            text = contents[entry].decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _refuse(f"{name}.csv is not UTF-8 text; {SAVE_AS}", name) from None
        if "\x00" in text:
            raise _refuse(f"{name}.csv holds a NUL character; {SAVE_AS}", name)
        try:
            grid: list[list[Any]] = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error:
            raise _refuse(f"{name}.csv is not valid CSV; {SAVE_AS}", name) from None
        sheets[name] = _from_grid(name, columns, grid)
    _check_row_count(sheets)
    return sheets


# --- common -------------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _from_grid(name: str, columns: tuple[str, ...], grid: list[list[Any]]) -> Sheet:
    if not grid or all(_blank(cell) for cell in grid[0]):
        raise _refuse(f"sheet {name!r} has no header row (row 1)", name)
    header = [str(cell).strip() if not _blank(cell) else "" for cell in grid[0]]
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        if title == "":
            continue
        if title not in columns:
            raise _refuse(f"sheet {name!r} has an unknown column {title!r}", name)
        if title in positions:
            raise _refuse(f"sheet {name!r} has the column {title!r} twice", name)
        positions[title] = index
    missing = [column for column in columns if column not in positions]
    if missing:
        raise _refuse(f"sheet {name!r} has no column {', '.join(map(repr, missing))}", name)
    sheet = Sheet(name)
    for number, raw in enumerate(grid[1:], start=2):
        if all(_blank(cell) for cell in raw):
            continue
        if any(not _blank(cell) for i, cell in enumerate(raw) if i not in positions.values()):
            raise _refuse(f"sheet {name!r}, row {number}: a value outside the columns", name)
        values = {
            column: _cell(raw[index]) if index < len(raw) else None
            for column, index in positions.items()
        }
        sheet.rows.append((number, values))
        if len(sheet.rows) > MAX_ROWS:
            break
    return sheet


def _cell(value: Any) -> Any:
    """A cell as text, a number, a date or None (blank)."""
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return value  # checked where a date is expected
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _check_row_count(sheets: dict[str, Sheet]) -> None:
    total = sum(len(sheet.rows) for sheet in sheets.values())
    if total > MAX_ROWS:
        raise TooManyRows(f"the file holds over {MAX_ROWS} rows in all; split it")


def as_date(value: Any) -> Any:
    """A date cell as a date (a whole-day datetime too); text stays text (for ``IsoDate``)."""
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date()
        return "a date and time"
    if isinstance(value, date):
        return value
    return value
