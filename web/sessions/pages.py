"""The session pages: the list, the tablet page, the paper reader and the wall screen.

Pages are shells: the server renders who is asking and which session; ``web/static/sessions/*.js``
loads the live state over the API and listens on the realtime hub (no inline scripts: the CSP
allows ``script-src 'self'`` only).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from meetings.sessions.actions.sessions import list_sessions
from meetings.sessions.actions.state import session_state
from meetings.sessions.papers.api import PAPERS_KEY
from meetings.sessions.service import SERVICE_KEY
from server.auth.principal import Role, require_principal
from server.http.params import path_int as _int
from web.sessions.texts import texts_for
from web.shell.render import render


async def sessions_list(request: web.Request) -> web.StreamResponse:
    p = require_principal(request)
    sessions = await list_sessions(request.app[SERVICE_KEY], p)
    return render(
        request,
        "sessions/list.html",
        {"t": texts_for(request), "sessions": sessions, "can_create": p.has(Role.SECRETARIAT)},
    )


async def session_page(request: web.Request) -> web.StreamResponse:
    p = require_principal(request)
    sid = _int(request, "sid")
    state = await session_state(request.app[SERVICE_KEY], p, sid)  # 404 when not invited
    return render(
        request, "sessions/session.html", {"t": texts_for(request), "s": state["session"]}
    )


async def reader_page(request: web.Request) -> web.StreamResponse:
    p = require_principal(request)
    sid, pid = _int(request, "sid"), _int(request, "pid")
    paper = await request.app[PAPERS_KEY].detail(p, sid, pid)
    return render(
        request, "sessions/reader.html", {"t": texts_for(request), "sid": sid, "paper": paper}
    )


async def invitations_page(request: web.Request) -> web.StreamResponse:
    """The secretariat's invitation screen: who is invited as what, and a search to invite more."""
    p = require_principal(request)
    sid = _int(request, "sid")
    state = await session_state(request.app[SERVICE_KEY], p, sid)  # 404 when not invited
    if state["session"]["role"] != "secretariat" or not p.has(Role.SECRETARIAT):
        raise web.HTTPForbidden()
    return render(
        request, "sessions/invitations.html", {"t": texts_for(request), "s": state["session"]}
    )


async def wall_page(request: web.Request) -> web.StreamResponse:
    p = require_principal(request)
    sid = _int(request, "sid")
    state = await session_state(request.app[SERVICE_KEY], p, sid)
    return render(request, "sessions/wall.html", {"t": texts_for(request), "s": state["session"]})


SERVICE_WORKER = Path(__file__).resolve().parent.parent / "static" / "sessions" / "sw.js"


async def service_worker(request: web.Request) -> web.StreamResponse:
    """The offline worker, served under /sessions/ so that its scope covers the session pages."""
    return web.FileResponse(
        SERVICE_WORKER,
        headers={"Content-Type": "text/javascript", "Cache-Control": "no-cache"},
    )


def add_pages(app: web.Application) -> None:
    r = app.router
    r.add_get("/sessions/sw.js", service_worker)
    r.add_get("/sessions", sessions_list)
    r.add_get("/sessions/{sid:\\d+}", session_page)
    r.add_get("/sessions/{sid:\\d+}/papers/{pid:\\d+}", reader_page)
    r.add_get("/sessions/{sid:\\d+}/wall", wall_page)
    r.add_get("/sessions/{sid:\\d+}/invitations", invitations_page)
