"""Enumerations shared by the models, the schemas and the services (stored as varchar + CHECK)."""

from __future__ import annotations

from enum import StrEnum


class PartnerKind(StrEnum):
    country = "country"
    organisation = "organisation"


class ProgrammeKind(StrEnum):
    IPCP = "IPCP"
    IPAP = "IPAP"
    ITPP = "ITPP"
    other = "other"


class ProgrammeStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    approved = "approved"
    active = "active"
    completed = "completed"
    cancelled = "cancelled"


class ProjectStatus(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    on_hold = "on_hold"
    completed = "completed"
    cancelled = "cancelled"


class MilestoneState(StrEnum):
    pending = "pending"
    done = "done"
    cancelled = "cancelled"


class Role(StrEnum):
    admin = "admin"
    staff = "staff"
    liaison = "liaison"
    viewer = "viewer"


class AuditAction(StrEnum):
    create = "create"
    update = "update"
    delete = "delete"


class ImportStatus(StrEnum):
    valid = "valid"
    invalid = "invalid"
    committed = "committed"


class Schedule(StrEnum):
    complete = "complete"
    late = "late"
    behind = "behind"
    on_track = "on_track"
    not_planned = "not_planned"


class ReviewFormat(StrEnum):
    allies_plus_partner = "allies_plus_partner"
    allies_only = "allies_only"
    staff_talks = "staff_talks"
    other = "other"


class ReviewStatus(StrEnum):
    planned = "planned"
    held = "held"
    closed = "closed"
    cancelled = "cancelled"


class ChairSide(StrEnum):
    alliance = "alliance"
    partner = "partner"


class DecisionKind(StrEnum):
    approved = "approved"
    noted = "noted"
    deferred = "deferred"
    rejected = "rejected"
    changes_requested = "changes_requested"


class OwnerSide(StrEnum):
    alliance = "alliance"
    partner = "partner"


class ActionStatus(StrEnum):
    open = "open"
    done = "done"
    dropped = "dropped"


def sql_in(column: str, enum: type[StrEnum]) -> str:
    """A CHECK expression: ``column`` holds one of ``enum``'s values."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"


class BaselineKind(StrEnum):
    approval = "approval"
    named = "named"
