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

# The docs pages may load nothing from another host: on a closed network such a request hangs
# or leaks the page's address. ReDoc's bundle always shows its vendor's logo from a CDN (no
# option turns it off); the policy makes the browser refuse any such load before it reaches
# the network (tests/browser checks it in a real browser).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    )
)

TAGS = [
    {"name": "auth", "description": "Sign in: exchange a username and password for a token."},
    {"name": "reports", "description": "Progress as of any date: programme, partner, portfolio."},
    {"name": "programmes", "description": "Multi-year programmes agreed with a partner (IPCP...)."},
    {"name": "projects", "description": "Projects under a programme, one pillar each."},
    {"name": "milestones", "description": "Dated, weighted milestones of a project."},
    {
        "name": "reviews",
        "description": "Committee reviews of a programme with the partner (the 28+1 meetings).",
    },
    {"name": "decisions", "description": "What a review decided."},
    {"name": "action items", "description": "Follow-up agreed at a review, and who owns it."},
    {"name": "committees", "description": "The committees that review programmes (PCSC, NAC)."},
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
        page = get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} — Swagger UI",
            oauth2_redirect_url=f"{root}{redirect_url}",
            swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            # Never the online validator badge (an image from validator.swagger.io), whatever
            # the layout.
            swagger_ui_parameters={"validatorUrl": None, **(app.swagger_ui_parameters or {})},
        )
        page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return page

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        page = get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} — ReDoc",
            redoc_js_url=f"{root}{STATIC_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            with_google_fonts=False,
        )
        page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return page
