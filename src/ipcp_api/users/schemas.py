from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StrictBool

from ipcp_api.common.schemas import InputModel, NotNull, Page, ResourceRead
from ipcp_api.common.types import IdRef, Text
from ipcp_api.enums import Role

USERNAME_PATTERN = r"^[a-z0-9._-]{3,64}$"
PASSWORD_MIN = 12
PASSWORD_MAX = 1024

# json_schema_extra: a pattern on Text is enforced but would be missing from the document.
Username = Annotated[
    Text,
    Field(
        pattern=USERNAME_PATTERN,
        examples=["amina.k"],
        json_schema_extra={"pattern": USERNAME_PATTERN},
    ),
]
Password = Annotated[
    Text,
    Field(
        min_length=PASSWORD_MIN,
        max_length=PASSWORD_MAX,
        description="Write-only: at least 12 characters; stored only as an argon2 hash.",
        json_schema_extra={"format": "password", "writeOnly": True},
    ),
]
# Request models are strict; an enum still has to accept its JSON string (and nothing else).
RoleField = Annotated[Role, Field(strict=False)]

_EXAMPLE: dict[str, Any] = {
    "username": "amina.k",
    "password": "a long passphrase, please",
    "role": "liaison",
    "partner_id": 1,
    "active": True,
}


class UserCreate(InputModel):
    """``partner_id`` is required for ``liaison``, optional for ``viewer``, null otherwise."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    username: Username
    password: Password
    role: RoleField
    partner_id: IdRef | None = None
    active: StrictBool = True


class UserPatch(InputModel):
    """A JSON merge patch: absent fields stay, ``null`` clears ``partner_id``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})

    username: NotNull[Username] = None
    password: NotNull[Password] = None
    role: NotNull[RoleField] = None
    partner_id: IdRef | None = None
    active: NotNull[StrictBool] = None


class UserRead(ResourceRead):
    """A user; never the password or its hash."""

    username: str
    role: Role
    partner_id: int | None
    active: bool


UserPage = Page[UserRead]
