"""The application factory and its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ipcp_api import __version__
from ipcp_api.api import include_api
from ipcp_api.auth.dependencies import KnownActors
from ipcp_api.auth.security import PasswordChecker, TokenVerifier, resolve_secret_keys
from ipcp_api.auth.throttle import LoginThrottle
from ipcp_api.common import i18n
from ipcp_api.common.pagination import cursor_key
from ipcp_api.config import Settings, get_settings
from ipcp_api.cors import Cors
from ipcp_api.db.replica import StandbyReads
from ipcp_api.db.session import bind_database, make_engine
from ipcp_api.docs import TAGS, install_docs
from ipcp_api.handlers import install_handlers
from ipcp_api.health.router import router as health_router
from ipcp_api.logs import configure_logging
from ipcp_api.metrics import MetricsMiddleware, worker_exiting
from ipcp_api.metrics import router as metrics_router
from ipcp_api.middleware import RequestContextMiddleware
from ipcp_api.openapi import install_openapi, operation_id
from ipcp_api.problems_router import router as problems_router
from ipcp_api.reports.slots import ReportSlots

DESCRIPTION = """
Tracks international partnership and cooperation programmes — such as NATO's Individual
Partnership and Cooperation Programme (IPCP) with the Kingdom of Bahrain, 2016–2018 —
from frameworks and partners down to projects, dated milestones and progress reports.

Sign in with **Authorize** (username and password), then try
`GET /api/v1/programmes/{id}/report`. Errors are RFC 9457 problem details.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Cheap on purpose: no migrations here (``ipcp-api serve`` migrates before starting).
    owns_engine = getattr(app.state, "engine", None) is None
    if owns_engine:
        bind_database(app.state, make_engine(app.state.settings))
    app.state.shutting_down = False
    try:
        yield
    finally:
        app.state.shutting_down = True
        worker_exiting()
        if owns_engine:
            await app.state.engine.dispose()
            app.state.engine = None
        await app.state.standby_reads.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level.value)
    app = FastAPI(
        title="IPCP API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        openapi_tags=TAGS,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    i18n.configure(settings.language_codes)
    app.state.engine = None
    keys = resolve_secret_keys(settings)  # newest first: sign with the first, accept any
    app.state.secret_key = keys[0]
    app.state.tokens = TokenVerifier(keys)
    app.state.known_actors = KnownActors()
    app.state.cursor_key = cursor_key(keys[0])
    app.state.old_cursor_keys = tuple(cursor_key(key) for key in keys[1:])
    app.state.login_throttle = LoginThrottle.from_settings(settings)
    app.state.password_checker = PasswordChecker(settings.password_concurrency)
    app.state.report_slots = ReportSlots(settings.report_concurrency)
    app.state.standby_reads = StandbyReads.from_settings(settings)
    install_handlers(app)
    install_docs(app)
    install_openapi(app)
    app.include_router(health_router)
    app.include_router(problems_router)
    app.include_router(metrics_router)
    include_api(app)
    app.add_middleware(RequestContextMiddleware)
    # outermost: also counts what RequestContextMiddleware answers itself (413)
    app.add_middleware(MetricsMiddleware)
    if settings.cors_origin_list:
        # around everything, so that every answer to a listed origin (a 413 too) is readable
        app.add_middleware(Cors, origins=settings.cors_origin_list)
    return app
