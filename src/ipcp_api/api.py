"""Mounts every domain router under /api/v1."""

from __future__ import annotations

import importlib

from fastapi import APIRouter, Depends

from ipcp_api.auth.dependencies import current_actor
from ipcp_api.auth.router import router as auth_router
from ipcp_api.common.http import forbid_unknown_query
from ipcp_api.common.idempotency import idempotency_guard
from ipcp_api.common.responses import errors

# Domains in the order their tags appear in the docs. Each has a router.py with `router`.
DOMAINS = (
    "frameworks",
    "partners",
    "pillars",
    "programmes",
    "projects",
    "milestones",
    "reports",
    "users",
    "audit",
)


def build_router() -> APIRouter:
    # Errors every route can answer, declared once: an unknown query parameter (422) and an
    # unreachable database (503) anywhere; no valid bearer token (401) behind the token check.
    api = APIRouter(
        prefix="/api/v1",
        dependencies=[Depends(forbid_unknown_query)],
        responses=errors(422, 503),
    )
    api.include_router(auth_router)
    protected = APIRouter(
        dependencies=[Depends(current_actor), Depends(idempotency_guard)],
        responses=errors(401),
    )
    for name in DOMAINS:
        try:
            module = importlib.import_module(f"ipcp_api.{name}.router")
        except ModuleNotFoundError as exc:
            if exc.name != f"ipcp_api.{name}.router":
                raise
            continue
        protected.include_router(module.router)
    api.include_router(protected)
    return api
