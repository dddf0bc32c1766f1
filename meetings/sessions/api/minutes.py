"""Conclusions and minutes: the printable PDF, and the copy the secretariat signed."""

from __future__ import annotations

import asyncio

from aiohttp import web

from meetings.sessions.actions import minutes
from meetings.sessions.api import TAGS, service
from meetings.sessions.bodies import Conclusions
from meetings.sessions.errors import BadInput
from meetings.sessions.minutes import render_minutes
from server.auth.principal import require_principal
from server.http.body import read_body
from server.http.jsonio import json_ok
from server.http.openapi import ApiRoutes
from server.http.params import path_int
from signing.binding import require_signed_by
from signing.remote import REMOTE_KEY

routes = ApiRoutes()


@routes.route(
    "PUT",
    "/api/v1/sessions/{sid}/conclusions",
    summary="Write the session's conclusions (kết luận)",
    tags=TAGS,
    body=Conclusions,
)
async def conclusions(request: web.Request) -> web.Response:
    p = require_principal(request)
    text = await read_body(request, Conclusions)
    await minutes.set_conclusions(service(request), p, path_int(request, "sid"), text)
    return json_ok({"ok": True})


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/minutes/signed",
    summary="Upload the minutes signed by the secretariat (checked with signing)",
    tags=TAGS,
    body={"type": "string", "format": "binary"},
    content_type="application/pdf",
)
async def upload_signed_minutes(request: web.Request) -> web.Response:
    p = require_principal(request)
    data = await request.read()
    if not data.startswith(b"%PDF-"):
        raise BadInput("Send the signed PDF as the body.", detail_vi="Hãy gửi tệp PDF đã ký số.")
    sid = path_int(request, "sid")
    await minutes.require_secretariat(service(request), p, sid)
    # signed with the uploader's own registered certificate, as when signing through the agent
    await require_signed_by(request.app[REMOTE_KEY].binding, p, data)
    return json_ok(await minutes.accept_signed_minutes(service(request), p, sid, data), status=201)


@routes.route(
    "GET", "/api/v1/sessions/{sid}/minutes/signed", summary="The signed minutes", tags=TAGS
)
async def signed_minutes_file(request: web.Request) -> web.StreamResponse:
    p = require_principal(request)
    path = await minutes.signed_minutes_path(service(request), p, path_int(request, "sid"))
    return web.FileResponse(
        path,
        headers={
            "Content-Type": "application/pdf",
            "Content-Disposition": 'attachment; filename="bien-ban-da-ky.pdf"',
        },
    )


@routes.route(
    "GET",
    "/api/v1/sessions/{sid}/minutes.pdf",
    summary="The minutes as PDF: attendance, vote results, conclusions",
    tags=TAGS,
)
async def minutes_pdf(request: web.Request) -> web.Response:
    p = require_principal(request)
    data = await minutes.minutes_data(service(request), p, path_int(request, "sid"))
    pdf = await asyncio.get_running_loop().run_in_executor(None, render_minutes, data)
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="bien-ban-ky-hop.pdf"'},
    )
