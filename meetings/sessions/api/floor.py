"""The floor of the sitting: the agenda, the item under discussion, attendance, speakers."""

from __future__ import annotations

from aiohttp import web

from meetings.sessions.actions import agenda, attendance, speakers
from meetings.sessions.api import TAGS, service
from meetings.sessions.bodies import (
    CurrentItem,
    Mark,
    NewItem,
    QueueOrder,
    Registration,
    SpeakerCommand,
)
from server.auth.principal import require_principal
from server.http.body import read_body
from server.http.jsonio import json_ok
from server.http.openapi import ApiRoutes
from server.http.params import path_int

routes = ApiRoutes()


@routes.route(
    "POST", "/api/v1/sessions/{sid}/agenda", summary="Add an agenda item", tags=TAGS, body=NewItem
)
async def add_item(request: web.Request) -> web.Response:
    p = require_principal(request)
    new = await read_body(request, NewItem)
    item = await agenda.add_item(service(request), p, path_int(request, "sid"), new)
    return json_ok(item, status=201)


@routes.route(
    "PUT",
    "/api/v1/sessions/{sid}/current",
    summary="Set the item under discussion",
    tags=TAGS,
    body=CurrentItem,
)
async def set_current(request: web.Request) -> web.Response:
    p = require_principal(request)
    current = await read_body(request, CurrentItem)
    await agenda.set_current_item(service(request), p, path_int(request, "sid"), current)
    return json_ok({"ok": True})


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/attendance",
    summary="Check in (self) or mark someone (secretariat)",
    tags=TAGS,
    body=Mark,
)
async def mark_attendance(request: web.Request) -> web.Response:
    p = require_principal(request)
    mark = await read_body(request, Mark)
    return json_ok(await attendance.check_in(service(request), p, path_int(request, "sid"), mark))


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/items/{item}/speakers",
    summary="Register to speak",
    tags=TAGS,
    body=Registration,
)
async def register_speaker(request: web.Request) -> web.Response:
    p = require_principal(request)
    reg = await read_body(request, Registration)
    sid, item = path_int(request, "sid"), path_int(request, "item")
    return json_ok(await speakers.register(service(request), p, sid, item, reg), status=201)


@routes.route(
    "PUT",
    "/api/v1/sessions/{sid}/items/{item}/speakers",
    summary="Order the speakers queue (secretariat)",
    tags=TAGS,
    body=QueueOrder,
)
async def order_speakers(request: web.Request) -> web.Response:
    p = require_principal(request)
    order = await read_body(request, QueueOrder)
    sid, item = path_int(request, "sid"), path_int(request, "item")
    return json_ok(await speakers.order_queue(service(request), p, sid, item, order))


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/speakers/{speaker}",
    summary="Start, pause, resume or reset the timer; stop or withdraw a speaker",
    tags=TAGS,
    body=SpeakerCommand,
)
async def speaker_command(request: web.Request) -> web.Response:
    p = require_principal(request)
    cmd = await read_body(request, SpeakerCommand)
    sid, speaker = path_int(request, "sid"), path_int(request, "speaker")
    return json_ok(await speakers.command(service(request), p, sid, speaker, cmd))
