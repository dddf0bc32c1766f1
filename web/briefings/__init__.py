"""Pages of video briefings (hội nghị trực tuyến); the assembly mounts the domain's API first."""

from __future__ import annotations

from aiohttp import web

from web.briefings import pages

__all__ = ["add_briefing_pages"]


def add_briefing_pages(app: web.Application) -> None:
    r = app.router
    r.add_get("/briefings", pages.index)
    r.add_post("/briefings", pages.create)
    r.add_get("/briefings/j/{code}", pages.join_link)
    r.add_get("/briefings/{briefing_id:\\d+}", pages.room)
    r.add_get("/briefings/{briefing_id:\\d+}/wall", pages.wall)
