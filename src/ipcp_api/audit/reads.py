"""Reading the audit trail (admin and staff only: the router checks): newest first."""

from __future__ import annotations

from enum import StrEnum

from ipcp_api.audit.schemas import AuditEventRead
from ipcp_api.common import listing
from ipcp_api.common.listing import equals, flag
from ipcp_api.models import AuditEvent


class AuditSort(StrEnum):
    id = "id"


LISTING = listing.Spec(
    name="audit event",
    model=AuditEvent,
    read=AuditEventRead,
    sort=AuditSort,
    default_sort="-id",  # newest first, the only order (no ``sort`` parameter)
    filters={
        "entity": equals(AuditEvent.entity),
        "entity_id": equals(AuditEvent.entity_id),
        "user_id": equals(AuditEvent.user_id),
        # Not a query parameter: the router passes False for callers who are not admins, so
        # entries about users (usernames, roles) are left out of their pages and totals.
        "about_users": flag(lambda: AuditEvent.entity == "users"),
    },
)
