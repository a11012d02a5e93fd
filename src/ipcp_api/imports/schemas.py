from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from ipcp_api.common.schemas import ResourceRead
from ipcp_api.enums import ImportStatus


class ImportError(BaseModel):
    sheet: str = Field(description="`projects` or `milestones`.")
    row: int = Field(description="The row as the spreadsheet numbers it (the header is row 1).")
    column: str = Field(description="The column's header, or `row` for the whole row.")
    msg: str


class ImportPlanItem(BaseModel):
    sheet: str
    row: int
    action: Literal["create", "update", "unchanged"]
    key: str = Field(
        description="The natural key: a project's `code`; a milestone's `project_code / ref`, "
        "else `project_code / title / due_on`."
    )
    id: int | None = Field(
        description="The id of the project or milestone the row matches (updated, unchanged) "
        "or, once committed, created; null for a row still to create."
    )


class ImportCounts(BaseModel):
    rows: int
    create: int
    update: int
    unchanged: int
    errors: int


class ImportRead(ResourceRead):
    programme_id: int
    status: ImportStatus
    filename: str
    sha256: str
    counts: ImportCounts
    errors: list[ImportError]
    plan: list[ImportPlanItem]
    committed_at: datetime | None
    expires_at: datetime = Field(description="The import is deleted after this time (7 days).")
