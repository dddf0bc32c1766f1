"""Pages of video briefings (hội nghị trực tuyến) and the mounting of the whole domain.

``setup_briefings`` is what :mod:`server.app` calls: the API and signaling socket from
:mod:`meetings.briefings.http`, then the pages here.
"""

from __future__ import annotations

from aiohttp import web

from meetings.briefings import MIGRATIONS as BRIEFINGS_MIGRATIONS
from meetings.briefings.http import setup as setup_api
from web.briefings import pages

__all__ = ["BRIEFINGS_MIGRATIONS", "setup_briefings"]


def setup_briefings(app: web.Application) -> None:
    setup_api(app)
    r = app.router
    r.add_get("/briefings", pages.index)
    r.add_post("/briefings", pages.create)
    r.add_get("/briefings/j/{code}", pages.join_link)
    r.add_get("/briefings/{briefing_id:\\d+}", pages.room)
