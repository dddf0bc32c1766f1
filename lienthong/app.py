"""The application: the platform's middlewares and API, then each domain's API and pages.

Route order matters where a fixed path shares a prefix with a parameterised one (the drafts'
``/api/v1/documents/drafts`` before ``/api/v1/documents/{id}``), so the mounting below is explicit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from documents.drafts_http import setup_drafts as mount_drafts_api
from documents.http import setup as mount_documents_api
from lienthong.demo import DEMO_SEEDERS, DemoSeeder
from lienthong.migrations import MIGRATION_DIRS
from meetings.briefings.http import setup as mount_briefings_api
from meetings.sessions.http import setup as mount_sessions_api
from meetings.sessions.papers.api import setup as mount_papers_api
from server.api import ROUTES as PLATFORM_ROUTES
from server.auth.middleware import auth_middleware
from server.config import Config
from server.db import Database
from server.http.health import healthz, metrics, metrics_middleware, readyz
from server.http.keys import CONFIG_KEY, DB_KEY
from server.http.openapi import OPENAPI_KEY, ApiRoutes, openapi_handler
from server.http.problems import problems_middleware
from server.http.security import security_headers_middleware
from server.realtime import setup_realtime
from signing.http import setup as mount_signing_api
from web.briefings import add_briefing_pages
from web.documents import add_document_pages
from web.sessions import add_session_pages
from web.shell import setup_web
from web.signing import add_signing_pages

__all__ = ["DEMO_SEEDERS", "MIGRATION_DIRS", "DemoSeeder", "create_app"]


def create_app(config: Config, *, database: Database | None = None) -> web.Application:
    """Build the application; the database opens on start-up and closes on shutdown.

    ``database`` lets tests share one already-migrated :class:`Database`; the app then leaves it
    open at shutdown.
    """
    app = web.Application(
        middlewares=[
            problems_middleware,
            security_headers_middleware,
            metrics_middleware,
            auth_middleware,
        ],
        client_max_size=config.http.max_body_bytes,
    )
    app[CONFIG_KEY] = config

    async def database_ctx(app: web.Application) -> AsyncIterator[None]:
        db = database or Database(config.database.url.reveal(), echo=config.database.echo)
        app[DB_KEY] = db
        yield
        if database is None:
            await db.close()

    app.cleanup_ctx.append(database_ctx)

    api: list[ApiRoutes] = list(PLATFORM_ROUTES)
    app[OPENAPI_KEY] = api
    for table in api:
        app.router.add_routes(table.table)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/v1/openapi.json", openapi_handler)
    setup_realtime(app, config)
    setup_web(app)
    mount_briefings_api(app)
    add_briefing_pages(app)
    mount_sessions_api(app)
    mount_papers_api(app)
    add_session_pages(app)
    mount_drafts_api(app)  # ``/api/v1/documents/drafts`` before ``/api/v1/documents/{id}``
    mount_documents_api(app)
    add_document_pages(app)
    mount_signing_api(app)
    add_signing_pages(app)
    return app
