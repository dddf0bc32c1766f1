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
from server.http.jsonio import json_ok, read_json_object
from server.http.openapi import ApiRoutes
from server.http.params import path_int
from signing.http import remote_owner, sign_options
from signing.remote import REMOTE_KEY, parse_signature, parse_signer, prepared_dict

routes = ApiRoutes()


def _context(session_id: int) -> str:
    return f"minutes:{session_id}"


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/minutes/sign/prepare",
    summary="Sign the minutes, step 1: the secretariat's certificate → what the agent signs",
    tags=TAGS,
    body={
        "type": "object",
        "properties": {
            "certificate_b64": {"type": "string"},
            "chain_b64": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["certificate_b64"],
    },
)
async def prepare_minutes(request: web.Request) -> web.Response:
    p = require_principal(request)
    sid = path_int(request, "sid")
    svc = request.app[SERVICE_KEY]
    await require_secretariat(svc, p, sid)
    cert, chain = parse_signer(await read_json_object(request))
    data = await minutes_data(svc, p, sid)
    pdf = await asyncio.get_running_loop().run_in_executor(None, render_minutes, data)
    remote = request.app[REMOTE_KEY]
    prepared = await remote.prepare(
        pdf,
        cert,
        chain,
        sign_options({}, remote.tsa_url),
        owner=remote_owner(p),
        context=_context(sid),
    )
    return json_ok(prepared_dict(prepared, remote.ttl))


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/minutes/sign/finish",
    summary="Sign the minutes, step 2: the agent's signature → the signed minutes, checked and kept",
    tags=TAGS,
    body={
        "type": "object",
        "properties": {"request_id": {"type": "string"}, "signature_b64": {"type": "string"}},
        "required": ["request_id", "signature_b64"],
    },
)
async def finish_minutes(request: web.Request) -> web.Response:
    p = require_principal(request)
    sid = path_int(request, "sid")
    request_id, signature = parse_signature(await read_json_object(request))
    signed = await request.app[REMOTE_KEY].finish(
        request_id, signature, owner=remote_owner(p), context=_context(sid)
    )
    result = await accept_signed_minutes(request.app[SERVICE_KEY], p, sid, signed)
    return json_ok(result, status=201)
