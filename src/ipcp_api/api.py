"""Mounts every domain router under /api/v1."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from ipcp_api.action_items.router import router as action_items_router
from ipcp_api.audit.router import router as audit_router
from ipcp_api.auth.dependencies import token_caller
from ipcp_api.auth.router import router as auth_router
from ipcp_api.baselines.router import router as baselines_router
from ipcp_api.committees.router import router as committees_router
from ipcp_api.common.http import forbid_unknown_query
from ipcp_api.common.responses import errors
from ipcp_api.decisions.router import router as decisions_router
from ipcp_api.frameworks.router import router as frameworks_router
from ipcp_api.imports.router import router as imports_router
from ipcp_api.milestones.router import router as milestones_router
from ipcp_api.partners.router import router as partners_router
from ipcp_api.pillars.router import router as pillars_router
from ipcp_api.programmes.router import router as programmes_router
from ipcp_api.projects.router import router as projects_router
from ipcp_api.reports.router import router as reports_router
from ipcp_api.reviews.router import router as reviews_router
from ipcp_api.users.router import router as users_router

PREFIX = "/api/v1"

# Every router behind the token check; tag order in the docs is set by docs.TAGS.
PROTECTED_ROUTERS = (
    frameworks_router,
    partners_router,
    pillars_router,
    programmes_router,
    projects_router,
    milestones_router,
    committees_router,
    reviews_router,
    decisions_router,
    action_items_router,
    imports_router,
    reports_router,
    baselines_router,
    users_router,
    audit_router,
)


def include_api(app: FastAPI) -> None:
    """Mount every domain router on the app itself under /api/v1, one level deep.

    Errors every route can answer are declared here once: an unknown query parameter (422)
    and an unreachable database (503) anywhere; no valid bearer token (401) behind the token
    check. Each router is included directly (not inside an /api/v1 router inside a
    "protected" router): FastAPI scans an included router's whole subtree to decide whether
    it matches, then scans it again to dispatch, at every level, so each level of nesting
    multiplies the route matching every request pays (bench/README.md).
    """
    app.include_router(
        auth_router,
        prefix=PREFIX,
        dependencies=[Depends(forbid_unknown_query)],
        responses=errors(422, 503),
    )
    for router in PROTECTED_ROUTERS:
        app.include_router(
            router,
            prefix=PREFIX,
            dependencies=[
                Depends(forbid_unknown_query),
                # The token only (401 without a database): each route then checks the user,
                # by ``CurrentActor`` or in its own statement (the list and detail reads).
                Depends(token_caller),
            ],
            responses=errors(401, 422, 503),
        )
