"""Sessions, their status, invitations and sittings."""

from __future__ import annotations

from aiohttp import web

from meetings.sessions.actions import invitations, sessions
from meetings.sessions.actions.state import members_page, state_answer
from meetings.sessions.api import TAGS, service
from meetings.sessions.bodies import Invitations, NewSession, NewSitting, StatusChange
from server.auth.principal import require_principal
from server.http.body import read_body
from server.http.jsonio import json_ok
from server.http.openapi import ApiRoutes
from server.http.params import path_int, query_int

routes = ApiRoutes()


@routes.route("GET", "/api/v1/sessions", summary="Sessions I am invited to", tags=TAGS)
async def list_sessions(request: web.Request) -> web.Response:
    p = require_principal(request)
    return json_ok(await sessions.list_sessions(service(request), p))


@routes.route(
    "POST", "/api/v1/sessions", summary="Create a session (secretariat)", tags=TAGS, body=NewSession
)
async def create_session(request: web.Request) -> web.Response:
    p = require_principal(request)
    new = await read_body(request, NewSession)
    return json_ok(await sessions.create_session(service(request), p, new), status=201)


@routes.route(
    "GET",
    "/api/v1/sessions/{sid}",
    summary="A session's live state (ETag, If-None-Match → 304; X-Session-Seq: last event seen)",
    tags=TAGS,
)
async def state(request: web.Request) -> web.Response:
    p = require_principal(request)
    raw = request.headers.get("X-Session-Seq", "")
    seen = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 12 else None
    answer = await state_answer(
        service(request),
        p,
        path_int(request, "sid"),
        if_none_match=request.headers.get("If-None-Match"),
        seen_seq=seen,
    )
    # private: one person's answer (their own votes and attendance); no-cache: always revalidate
    headers = {"ETag": answer.etag, "Cache-Control": "private, no-cache"}
    if answer.body is None:
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=answer.body, content_type="application/json", charset="utf-8", headers=headers
    )


@routes.route(
    "GET",
    "/api/v1/sessions/{sid}/members",
    summary="Everyone invited, with attendance, a page at a time (chair and secretariat)",
    tags=TAGS,
)
async def members(request: web.Request) -> web.Response:
    p = require_principal(request)
    page = query_int(request, "page", 1, low=1, high=100_000)
    per_page = query_int(request, "per_page", 100, low=1, high=500)
    sid = path_int(request, "sid")
    return json_ok(await members_page(service(request), p, sid, page, per_page))


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/status",
    summary="Open or close a session",
    tags=TAGS,
    body=StatusChange,
)
async def set_status(request: web.Request) -> web.Response:
    p = require_principal(request)
    change = await read_body(request, StatusChange)
    await sessions.set_status(service(request), p, path_int(request, "sid"), change)
    return json_ok({"ok": True})


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/invitations",
    summary="Invite a member, guest or secretary (login), or several at once (logins)",
    tags=TAGS,
    body=Invitations,
)
async def invite(request: web.Request) -> web.Response:
    p = require_principal(request)
    inv = await read_body(request, Invitations)
    count = await invitations.invite(service(request), p, path_int(request, "sid"), inv)
    return json_ok({"ok": True, "invited": count}, status=201)


@routes.route(
    "GET",
    "/api/v1/sessions/{sid}/candidates",
    summary="People who may be invited (secretariat), matching ?q=",
    tags=TAGS,
)
async def candidates(request: web.Request) -> web.Response:
    p = require_principal(request)
    q = request.query.get("q", "").strip()[:100]
    return json_ok(await invitations.candidates(service(request), p, path_int(request, "sid"), q))


@routes.route(
    "POST", "/api/v1/sessions/{sid}/sittings", summary="Add a sitting", tags=TAGS, body=NewSitting
)
async def add_sitting(request: web.Request) -> web.Response:
    p = require_principal(request)
    new = await read_body(request, NewSitting)
    sitting = await invitations.add_sitting(service(request), p, path_int(request, "sid"), new)
    return json_ok(sitting, status=201)


@routes.route(
    "POST", "/api/v1/sessions/{sid}/sittings/{sitting}/start", summary="Start a sitting", tags=TAGS
)
async def start_sitting(request: web.Request) -> web.Response:
    p = require_principal(request)
    sid, sitting = path_int(request, "sid"), path_int(request, "sitting")
    await invitations.start_sitting(service(request), p, sid, sitting)
    return json_ok({"ok": True})
