"""Signing the minutes from the session page: two-phase signing with the secretariat's own token.

``POST …/minutes/sign/prepare`` renders the minutes as they stand and prepares them for the
certificate the local signing agent reported (``signing.remote``); the agent asks the PIN and signs
on the token; ``POST …/minutes/sign/finish`` completes the file and keeps it exactly as an upload
of signed minutes would be kept — only once ``signing`` finds the signature valid and trusted.
The server never holds the secretariat's key; the pending request belongs to the person who
prepared it and to this session's minutes only.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from meetings.sessions.actions.minutes import (
    accept_signed_minutes,
    minutes_data,
    require_secretariat,
)
from meetings.sessions.api import TAGS
from meetings.sessions.minutes import render_minutes
from meetings.sessions.service import SERVICE_KEY
from server.auth.principal import require_principal
from server.http.body import read_body
from server.http.jsonio import json_ok
from server.http.openapi import ApiRoutes
from server.http.params import path_int
from signing.remote import REMOTE_KEY
from signing.twophase import (
    FinishBody,
    PrepareBody,
    Prepared,
    finish_for,
    finish_route,
    prepare_for,
    prepare_route,
)

routes = ApiRoutes()
MINUTES = "/api/v1/sessions/{sid}/minutes"


def _context(session_id: int) -> str:
    return f"minutes:{session_id}"


@prepare_route(
    routes, MINUTES, "Sign the minutes, 1: certificate → what the agent signs", TAGS, Prepared
)
async def prepare_minutes(request: web.Request) -> web.Response:
    p = require_principal(request)
    sid = path_int(request, "sid")
    svc = request.app[SERVICE_KEY]
    await require_secretariat(svc, p, sid)
    body = await read_body(request, PrepareBody)

    title: list[str] = []

    async def minutes_pdf() -> bytes:
        """The minutes as they stand, rendered off the loop."""
        data = await minutes_data(svc, p, sid)
        title.append(str(data["session"]["title"]))
        return await asyncio.get_running_loop().run_in_executor(None, render_minutes, data)

    remote = request.app[REMOTE_KEY]
    prepared = await prepare_for(remote, body, minutes_pdf, principal=p, context=_context(sid))
    # what the agent's PIN prompt shows the signer beside the hash (as a draft's number/subject)
    return json_ok(
        {
            **prepared,
            "document_number": f"Biên bản kỳ họp số {sid}",
            "subject": f"Biên bản kỳ họp: {title[0] if title else ''}",
        }
    )


@finish_route(
    routes, MINUTES, "Sign the minutes, 2: signature → the minutes, checked, kept", TAGS, None
)
async def finish_minutes(request: web.Request) -> web.Response:
    p = require_principal(request)
    sid = path_int(request, "sid")
    body = await read_body(request, FinishBody)
    remote = request.app[REMOTE_KEY]
    signed = await finish_for(remote, body, principal=p, context=_context(sid))
    result = await accept_signed_minutes(request.app[SERVICE_KEY], p, sid, signed)
    return json_ok(result, status=201)
