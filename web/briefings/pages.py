"""``/briefings``: the list, the form to open one, and the room page with the browser client."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from meetings.briefings.errors import BadBriefing
from meetings.briefings.repository import briefing_id_by_code_txn
from meetings.briefings.service import (
    ORGANISERS,
    NewBriefing,
    admit,
    create_briefing,
    list_briefings,
)
from server.auth.principal import get_principal
from server.http.keys import DB_KEY
from server.http.params import path_int
from web.briefings.texts import texts_for
from web.shell.admin import message_of
from web.shell.render import render


def _login_redirect(request: web.Request) -> web.HTTPFound:
    return web.HTTPFound(f"/login?next={request.path_qs}")


async def index(request: web.Request) -> web.StreamResponse:
    p = get_principal(request)
    if p is None:
        raise _login_redirect(request)
    views = await list_briefings(request.app[DB_KEY], p)
    return render(
        request,
        "briefings/index.html",
        {"briefings": views, "can_create": p.has(*ORGANISERS), "t": texts_for(request)},
    )


def _lines(value: object) -> list[str]:
    text = value if isinstance(value, str) else ""
    return [x.strip() for x in text.replace(",", "\n").splitlines() if x.strip()]


async def create(request: web.Request) -> web.StreamResponse:
    p = get_principal(request)
    if p is None:
        raise _login_redirect(request)
    form = await request.post()
    starts = form.get("starts_at")
    data = {
        "title": form.get("title") if isinstance(form.get("title"), str) else "",
        "starts_at": (starts + ":00+07:00") if isinstance(starts, str) and starts else None,
        "endpoints": _lines(form.get("endpoints")),
        "officials": _lines(form.get("officials")),
    }
    try:
        view = await create_briefing(request.app[DB_KEY], p, NewBriefing.from_json(data, p.login))
    except BadBriefing as exc:
        views = await list_briefings(request.app[DB_KEY], p)
        return render(
            request,
            "briefings/index.html",
            {
                "briefings": views,
                "can_create": p.has(*ORGANISERS),
                "error": message_of(request, exc),
                "t": texts_for(request),
            },
            status=422,
        )
    raise web.HTTPFound(f"/briefings/{view.id}")


async def join_link(request: web.Request) -> web.StreamResponse:
    p = get_principal(request)
    if p is None:
        raise _login_redirect(request)
    code = request.match_info["code"][:64]

    async def find(session: AsyncSession) -> int:
        return await briefing_id_by_code_txn(session, code)

    briefing_id = await request.app[DB_KEY].read("briefing_by_code", find)
    raise web.HTTPFound(f"/briefings/{briefing_id}")


async def room(request: web.Request) -> web.StreamResponse:
    return await _room_page(request, "briefings/room.html")


async def wall(request: web.Request) -> web.StreamResponse:
    """The hall's wall (màn hình hội trường): every commune, 25 tiles a page, for the roll call."""
    return await _room_page(request, "briefings/wall.html")


async def _room_page(request: web.Request, template: str) -> web.StreamResponse:
    p = get_principal(request)
    if p is None:
        raise _login_redirect(request)
    admission = await admit(
        request.app[DB_KEY], p, path_int(request, "briefing_id"), allow_ended=True
    )
    return render(
        request,
        template,
        {"a": admission, "b": admission.briefing, "t": texts_for(request)},
    )
