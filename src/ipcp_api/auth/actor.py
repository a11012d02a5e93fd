"""Who is calling: the authenticated user's id, role and partner binding."""

from __future__ import annotations

from dataclasses import dataclass

from ipcp_api.enums import Role

SYSTEM_USER_ID = 0
"""The user id of actions taken by the command line (demo loader): audited with no user."""


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    role: Role
    partner_id: int | None

    @property
    def partner_scope(self) -> int | None:
        """The one partner this caller may see, or None for all partners."""
        if self.role in (Role.liaison, Role.viewer):
            return self.partner_id
        return None

    @property
    def can_write_reference_data(self) -> bool:
        """Partners, frameworks and pillars: admin and staff only."""
        return self.role in (Role.admin, Role.staff)

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.admin, Role.staff)
