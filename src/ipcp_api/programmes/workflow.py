"""The programme status workflow of API.md and who may move a programme along it."""

from __future__ import annotations

from typing import Any

from ipcp_api.auth.actor import Actor
from ipcp_api.enums import ProgrammeStatus, Role
from ipcp_api.errors import Conflict, Forbidden

S = ProgrammeStatus

# draft -> submitted -> approved -> active -> completed, submitted -> draft (returned for
# rework), and any status but completed -> cancelled.
TRANSITIONS: frozenset[tuple[ProgrammeStatus, ProgrammeStatus]] = frozenset(
    {
        (S.draft, S.submitted),
        (S.submitted, S.approved),
        (S.approved, S.active),
        (S.active, S.completed),
        (S.submitted, S.draft),
    }
    | {(status, S.cancelled) for status in S if status not in (S.completed, S.cancelled)}
)

# The statuses a liaison officer may move a programme to (submit it, or take it back).
LIAISON_TARGETS = frozenset({S.draft, S.submitted})


def is_transition(old: ProgrammeStatus, new: ProgrammeStatus) -> bool:
    return (old, new) in TRANSITIONS


def check_transition(actor: Actor, old: ProgrammeStatus, new: ProgrammeStatus) -> None:
    """403 when the role may not make this move, 409 when the workflow does not allow it."""
    if old == new:
        return
    if actor.role is Role.liaison and new not in LIAISON_TARGETS:
        raise Forbidden(
            f"a liaison officer may not set a programme's status to {new.value}"
            " (only admin and staff approve, activate, complete or cancel)"
        )
    if not is_transition(old, new):
        raise Conflict(
            f"status cannot change from {old.value} to {new.value}",
            errors=[
                {"loc": ["body", "status"], "msg": f"not a transition from {old.value}"},
            ],
        )


def check_may_edit(actor: Actor, status: ProgrammeStatus) -> None:
    """A liaison officer edits a programme's fields only while it is a draft."""
    if actor.role is Role.liaison and status is not S.draft:
        raise Forbidden(f"a liaison officer may edit a programme only while draft (it is {status})")


def check_may_delete(actor: Actor, status: ProgrammeStatus) -> None:
    """Admin and staff delete any programme; a liaison officer only its own drafts."""
    if actor.role is Role.liaison and status is not S.draft:
        raise Forbidden(
            f"a liaison officer may delete a programme only while draft (it is {status})"
        )


# --- the projects and milestones of a programme -------------------------------------------------

CLOSED = frozenset({S.completed, S.cancelled})


def forbid_viewer(actor: Actor, what: str) -> None:
    """Viewers are read-only: 403 before anything is looked up."""
    if actor.role is Role.viewer:
        raise Forbidden(f"a viewer may not change {what}")


def check_may_change_inside(actor: Actor, programme: Any, what: str) -> None:
    """A liaison may not change the projects or milestones (``what``) of a completed or
    cancelled programme (403)."""
    if actor.role is Role.liaison and programme.status in CLOSED:
        raise Forbidden(
            f"programme {programme.code} is {programme.status}: "
            f"a liaison may no longer change its {what}"
        )
