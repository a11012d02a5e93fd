"""The kinds of error (RFC 9457 problem ``type``), one slug each: a leaf module.

A problem's ``type`` is the relative URI ``/problems/<slug>``; ``GET /problems/<slug>`` on
the API host answers the short description below (no token needed), so a client can branch on
``type`` without parsing ``detail``. The list is the contract's (API.md, *Problem types*);
``errors.py`` gives each ``ApiError`` class its slug, ``openapi.py`` declares them per
operation with an example each. Nothing here imports from the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

PREFIX = "/problems/"
# A 500 is the service's own fault, never a kind a client branches on.
INTERNAL = "about:blank"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    description: str
    # A typical ``detail`` (used as the example in the OpenAPI document).
    example: str

    @property
    def type(self) -> str:
        return PREFIX + self.slug

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase


_ALL = (
    ProblemType(
        "validation",
        422,
        "The request is invalid: a field, parameter or header is missing, has the wrong type or"
        " breaks a rule. `errors` lists each one with its location (`loc`) and a message.",
        "body.ends_on: must not be before starts_on",
    ),
    ProblemType(
        "unauthorized",
        401,
        "No valid bearer token (missing, expired or revoked), or a wrong username or password at"
        " sign-in. Sign in again at `POST /api/v1/auth/token`.",
        "wrong username or password",
    ),
    ProblemType(
        "forbidden",
        403,
        "Your role may not do this (for example a viewer writing, or a liaison officer approving"
        " a programme).",
        "a liaison officer may not set a programme's status to approved",
    ),
    ProblemType(
        "not-found",
        404,
        "No such resource, or one you may not see (another partner's data answers exactly like"
        " an id that does not exist).",
        "no such programme",
    ),
    ProblemType(
        "method-not-allowed",
        405,
        "This path does not support the method; the `Allow` header lists those it does.",
        "PUT is not supported here; use DELETE, GET, PATCH",
    ),
    ProblemType(
        "not-acceptable",
        406,
        "The endpoint cannot produce the representation asked for (`format` or `Accept`).",
        "this endpoint produces application/json or text/csv; Accept was 'image/png'",
    ),
    ProblemType(
        "conflict-unique",
        409,
        "A value that must be unique is already taken (for example a code); `errors` names the"
        " field. Choose another value.",
        "code: this value is already taken",
    ),
    ProblemType(
        "conflict-children",
        409,
        "The resource cannot be deleted while other resources still belong to it (a partner"
        " with programmes, a programme with projects, a project with milestones, a pillar used"
        " by projects, a framework with members). Delete or move those first.",
        "cannot delete: it still has projects",
    ),
    ProblemType(
        "conflict-state",
        409,
        "The change breaks a rule of the resource's current state: a status change the"
        " workflow does not allow, dates frozen since approval, or an account change that would"
        " lock everyone out. `errors` may name the field.",
        "status cannot change from draft to active",
    ),
    ProblemType(
        "conflict-in-flight",
        409,
        "Another request is still working on this: the first request with the same"
        " `Idempotency-Key` has not finished, or the resource is being changed at this moment."
        " Try again shortly.",
        "a request with this Idempotency-Key is still in progress",
    ),
    ProblemType(
        "stale-version",
        412,
        "`If-Match` names a version that is no longer current: someone changed the resource"
        " since you read it. Read it again (new `ETag`) and re-apply your change. Nothing was"
        " changed.",
        'If-Match "3" does not match the current version "4"',
    ),
    ProblemType(
        "payload-too-large",
        413,
        "The request body is too large (over 1 MiB).",
        "the request body is over 1048576 bytes",
    ),
    ProblemType(
        "too-many-requests",
        429,
        "Too many failed sign-ins for this username: wait the seconds `Retry-After` gives.",
        "too many failed logins for this username; try again later",
    ),
    ProblemType(
        "unavailable",
        503,
        "The service cannot reach its database just now; wait the seconds `Retry-After` gives"
        " and try again.",
        "the database is unavailable; try again shortly",
    ),
)

PROBLEM_TYPES: dict[str, ProblemType] = {kind.slug: kind for kind in _ALL}

# The slug of a status when nothing more specific is known (409 has several: see ApiError).
BY_STATUS: dict[int, str] = {
    422: "validation",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict-state",
    412: "stale-version",
    413: "payload-too-large",
    429: "too-many-requests",
    503: "unavailable",
}


def type_uri(status: int, slug: str | None = None) -> str:
    """The ``type`` of a problem: its slug's URI, else the status's, else ``about:blank``."""
    slug = slug or BY_STATUS.get(status)
    return PREFIX + slug if slug else INTERNAL


def for_status(status: int) -> list[ProblemType]:
    return [kind for kind in _ALL if kind.status == status]
