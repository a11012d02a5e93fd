"""The review status workflow of API.md and the closed-review freeze."""

from __future__ import annotations

from ipcp_api.auth.actor import Actor
from ipcp_api.enums import ReviewStatus, Role
from ipcp_api.errors import Conflict, Forbidden

S = ReviewStatus

# planned -> held -> closed, planned -> cancelled, held -> cancelled, and (admin only)
# closed -> held to reopen.
TRANSITIONS: frozenset[tuple[ReviewStatus, ReviewStatus]] = frozenset(
    {
        (S.planned, S.held),
        (S.held, S.closed),
        (S.planned, S.cancelled),
        (S.held, S.cancelled),
        (S.closed, S.held),
    }
)
ADMIN_ONLY: frozenset[tuple[ReviewStatus, ReviewStatus]] = frozenset({(S.closed, S.held)})
MET = frozenset({S.held, S.closed})
"""Statuses of a review whose meeting took place (``held_on`` not after today)."""


def check_transition(actor: Actor, old: ReviewStatus, new: ReviewStatus) -> None:
    """403 when only an admin may make this move, 409 when the workflow does not allow it."""
    if old == new:
        return
    if (old, new) in ADMIN_ONLY and actor.role is not Role.admin:
        raise Forbidden("only an admin may reopen a closed review")
    if (old, new) not in TRANSITIONS:
        raise Conflict(
            f"status cannot change from {old.value} to {new.value}",
            errors=[{"loc": ["body", "status"], "msg": f"not a transition from {old.value}"}],
        )


def check_frozen(status: ReviewStatus, changed: set[str]) -> None:
    """A closed review accepts no change but its reopening (409)."""
    if status is S.closed and changed - {"status"}:
        fields = ", ".join(sorted(changed - {"status"}))
        raise Conflict(
            f"the review is closed: it accepts no change but reopening (changed: {fields})",
            errors=[
                {"loc": ["body", name], "msg": "frozen while the review is closed"}
                for name in sorted(changed - {"status"})
            ],
        )
