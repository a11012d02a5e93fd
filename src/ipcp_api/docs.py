"""Swagger UI and ReDoc served entirely by the application (closed networks have no CDN).

The JS/CSS assets come from the `fastapi-offline` package; the pages are FastAPI's own HTML
helpers pointed at them. URLs honour ``root_path`` so the docs work behind a path prefix.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

ASSETS = Path(fastapi_offline.__file__).parent / "static"
STATIC_URL = "/static/docs"

TAGS = [
    {"name": "auth", "description": "Sign in: exchange a username and password for a token."},
    {"name": "reports", "description": "Progress as of any date: programme, partner, portfolio."},
    {"name": "programmes", "description": "Multi-year programmes agreed with a partner (IPCP...)."},
    {"name": "projects", "description": "Projects under a programme, one pillar each."},
    {"name": "milestones", "description": "Dated, weighted milestones of a project."},
    {"name": "partners", "description": "Partner countries and organisations."},
    {
        "name": "frameworks",
        "description": "Partnership frameworks such as the Istanbul Cooperation Initiative.",
    },
    {"name": "pillars", "description": "Cooperation pillars shared by all programmes."},
    {"name": "users", "description": "Accounts and roles (admin only, except `/users/me`)."},
    {"name": "audit", "description": "Who changed what, and when (admin and staff)."},
    {"name": "health", "description": "Liveness and readiness probes."},
]


def install_docs(app: FastAPI) -> None:
    app.mount(STATIC_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    redirect_url = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} — Swagger UI",
            oauth2_redirect_url=f"{root}{redirect_url}",
            swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} — ReDoc",
            redoc_js_url=f"{root}{STATIC_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            with_google_fonts=False,
        )
