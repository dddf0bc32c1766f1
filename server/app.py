"""The assembly: builds the aiohttp application from the platform and every domain package.

This module and :mod:`server.cli` are the only places that import the domains (``web``,
``documents``, ``meetings``, ``signing``), to mount them; everything else imports one way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from aiohttp import web

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
from web.briefings import BRIEFINGS_MIGRATIONS, setup_briefings
from web.documents import DOCUMENT_MIGRATIONS, setup_documents
from web.sessions import SESSIONS_MIGRATIONS, setup_sessions
from web.shell import setup_web
from web.signing import setup_signing

MIGRATION_DIRS: list[Path] = []
"""Alembic version directories of the domain packages, besides the platform's own."""
MIGRATION_DIRS.append(BRIEFINGS_MIGRATIONS)
MIGRATION_DIRS.append(SESSIONS_MIGRATIONS)
MIGRATION_DIRS.append(DOCUMENT_MIGRATIONS)

DemoSeeder = Callable[[Database, Config], Awaitable[str | None]]
"""Seeds a domain's demo data after the demo accounts (idempotent); returns a line to print."""


async def _demo_council_session(db: Database, config: Config) -> str | None:
    from meetings.sessions.demo import TITLE, seed_demo_session

    added = await seed_demo_session(db, config.files_dir)
    return f"Kỳ họp demo{' (mới)' if added else ''}: {TITLE} — /sessions"


async def _demo_briefing(db: Database, config: Config) -> str | None:
    from meetings.briefings.demo import TITLE, seed_demo_briefing

    added = await seed_demo_briefing(db)
    return f"Hội nghị trực tuyến demo{' (mới)' if added else ''}: {TITLE} — /briefings"


DEMO_SEEDERS: list[DemoSeeder] = [_demo_council_session, _demo_briefing]
"""What ``lienthong demo`` seeds besides the province and its accounts, in order."""


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
    setup_briefings(app)
    setup_sessions(app)
    setup_documents(app)
    setup_signing(app)
    return app
