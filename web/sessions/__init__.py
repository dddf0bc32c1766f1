"""Council sessions in the browser: the tablet reader, the secretariat desk and the wall screen.

:func:`setup_sessions` mounts the domain's API (``meetings.sessions``, ``meetings.papers``) and its
pages; the assembly calls it once.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from meetings.papers.api import setup as setup_papers_api
from meetings.sessions.http import setup as setup_sessions_api
from web.sessions.pages import add_pages

SESSIONS_MIGRATIONS = (
    Path(__file__).resolve().parent.parent.parent / "meetings" / "migrations_sessions"
)
"""The Alembic version directory of the sessions branch (sessions and papers)."""


def setup_sessions(app: web.Application) -> None:
    setup_sessions_api(app)
    setup_papers_api(app)
    add_pages(app)
