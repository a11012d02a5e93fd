from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from ipcp_api.audit.service import ENTITIES
from ipcp_api.common.schemas import Page, ReadModel
from ipcp_api.enums import AuditAction

# The collection names, as an enum so that an unknown `entity` filter is 422.
AuditEntity = StrEnum("AuditEntity", {name: name for name in ENTITIES})  # type: ignore[misc]


class AuditEventRead(ReadModel):
    id: int
    at: datetime
    user_id: int | None = Field(
        description="Who made the change; null for the command line (`ipcp-api create-user`)."
    )
    action: AuditAction
    entity: str = Field(description="The collection name, e.g. `programmes`.")
    entity_id: int
    changes: dict[str, list[Any]] = Field(
        description=(
            "`{field: [old, new]}`: a create has `[null, new]` pairs, a delete `[old, null]`."
            ' Passwords appear only as `"(hidden)"`.'
        ),
        examples=[{"status": ["draft", "submitted"]}],
    )


AuditPage = Page[AuditEventRead]
