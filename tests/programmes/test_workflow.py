"""The workflow table and the role rules, without HTTP."""

from __future__ import annotations

import pytest

from ipcp_api.auth.actor import Actor
from ipcp_api.enums import ProgrammeStatus, Role
from ipcp_api.errors import Conflict, Forbidden
from ipcp_api.programmes import workflow

S = ProgrammeStatus
EXPECTED = {
    (S.draft, S.submitted),
    (S.submitted, S.approved),
    (S.approved, S.active),
    (S.active, S.completed),
    (S.submitted, S.draft),
    (S.draft, S.cancelled),
    (S.submitted, S.cancelled),
    (S.approved, S.cancelled),
    (S.active, S.cancelled),
}
STAFF = Actor(user_id=1, username="s", role=Role.staff, partner_id=None)
LIAISON = Actor(user_id=2, username="l", role=Role.liaison, partner_id=1)


def test_table_is_exactly_api_md() -> None:
    assert set(workflow.TRANSITIONS) == EXPECTED


@pytest.mark.parametrize("old", list(S))
@pytest.mark.parametrize("new", list(S))
def test_check_transition_for_staff(old: ProgrammeStatus, new: ProgrammeStatus) -> None:
    if old == new or (old, new) in EXPECTED:
        workflow.check_transition(STAFF, old, new)
    else:
        with pytest.raises(Conflict):
            workflow.check_transition(STAFF, old, new)


@pytest.mark.parametrize("new", [S.approved, S.active, S.completed, S.cancelled])
def test_liaison_may_not_approve_activate_complete_or_cancel(new: ProgrammeStatus) -> None:
    for old in S:
        if old != new:
            with pytest.raises(Forbidden):
                workflow.check_transition(LIAISON, old, new)


def test_liaison_submits_and_takes_back() -> None:
    workflow.check_transition(LIAISON, S.draft, S.submitted)
    workflow.check_transition(LIAISON, S.submitted, S.draft)
    with pytest.raises(Conflict):
        workflow.check_transition(LIAISON, S.approved, S.draft)


def test_liaison_edits_and_deletes_only_drafts() -> None:
    workflow.check_may_edit(LIAISON, S.draft)
    workflow.check_may_delete(LIAISON, S.draft)
    for status in S:
        workflow.check_may_edit(STAFF, status)
        workflow.check_may_delete(STAFF, status)
        if status is not S.draft:
            with pytest.raises(Forbidden):
                workflow.check_may_edit(LIAISON, status)
            with pytest.raises(Forbidden):
                workflow.check_may_delete(LIAISON, status)
