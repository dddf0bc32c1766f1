"""Votes and opinion collections over HTTP (tablets vote over the WebSocket: ``realtime.py``)."""

from __future__ import annotations

from aiohttp import web

from meetings.sessions.actions import votes
from meetings.sessions.api import TAGS, service
from meetings.sessions.bodies import CastVote, NewPoll
from server.auth.principal import require_principal
from server.http.body import read_body
from server.http.jsonio import json_ok
from server.http.openapi import ApiRoutes
from server.http.params import path_int

routes = ApiRoutes()


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/polls",
    summary="Prepare a vote, or with a deadline an opinion collection (secretariat)",
    tags=TAGS,
    body=NewPoll,
)
async def create_poll(request: web.Request) -> web.Response:
    p = require_principal(request)
    new = await read_body(request, NewPoll)
    poll = await votes.create_poll(service(request), p, path_int(request, "sid"), new)
    return json_ok(poll, status=201)


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/polls/{poll}/remind",
    summary="Remind members who have not answered",
    tags=TAGS,
)
async def remind(request: web.Request) -> web.Response:
    p = require_principal(request)
    sid, poll = path_int(request, "sid"), path_int(request, "poll")
    return json_ok({"reminded": await votes.remind(service(request), p, sid, poll)})


@routes.route("GET", "/api/v1/sessions/{sid}/polls/{poll}", summary="A vote", tags=TAGS)
async def poll_detail(request: web.Request) -> web.Response:
    p = require_principal(request)
    sid, poll = path_int(request, "sid"), path_int(request, "poll")
    return json_ok(await votes.poll_detail(service(request), p, sid, poll))


@routes.route("POST", "/api/v1/sessions/{sid}/polls/{poll}/open", summary="Open a vote", tags=TAGS)
async def open_poll(request: web.Request) -> web.Response:
    p = require_principal(request)
    sid, poll = path_int(request, "sid"), path_int(request, "poll")
    return json_ok(await votes.open_poll(service(request), p, sid, poll))


@routes.route(
    "POST", "/api/v1/sessions/{sid}/polls/{poll}/close", summary="Close and publish", tags=TAGS
)
async def close_poll(request: web.Request) -> web.Response:
    p = require_principal(request)
    sid, poll = path_int(request, "sid"), path_int(request, "poll")
    return json_ok(await votes.close_poll(service(request), p, sid, poll))


@routes.route(
    "POST",
    "/api/v1/sessions/{sid}/polls/{poll}/votes",
    summary="Vote over HTTP (tablets vote over the WebSocket: op 'vote')",
    tags=TAGS,
    body=CastVote,
)
async def cast_vote(request: web.Request) -> web.Response:
    p = require_principal(request)
    ballot = await read_body(request, CastVote)
    sid, poll = path_int(request, "sid"), path_int(request, "poll")
    outcome = await votes.cast(service(request), p, poll, ballot.choice, session_id=sid)
    return json_ok({"poll": poll, "status": outcome.status})
