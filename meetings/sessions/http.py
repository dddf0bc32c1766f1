"""Mounting the sessions domain: API routes, channel rules, the vote handler, the runtime."""

from __future__ import annotations

from aiohttp import web

from meetings.sessions.actions.votes import deadline_sweeper
from meetings.sessions.api import floor, minutes, sessions, votes
from meetings.sessions.minutes_signing import routes as minutes_routes
from meetings.sessions.realtime import make_channel_rule, make_vote_handler
from meetings.sessions.service import SERVICE_KEY, SessionsService
from server.http.openapi import OPENAPI_KEY
from server.realtime import HUB_KEY


def setup(app: web.Application) -> SessionsService:
    """Add the routes and realtime hooks; the runtime starts with the app (after the database),
    the opinion deadlines' sweeper after it."""
    hub = app[HUB_KEY]
    svc = SessionsService(hub)
    app[SERVICE_KEY] = svc
    app.cleanup_ctx.append(svc.cleanup_ctx)
    app.cleanup_ctx.append(deadline_sweeper(svc))
    for module in (sessions, floor, votes, minutes):
        app.router.add_routes(module.routes.table)
        app[OPENAPI_KEY].append(module.routes)
    app.router.add_routes(minutes_routes.table)
    app[OPENAPI_KEY].append(minutes_routes)
    hub.add_channel_rule("session:", make_channel_rule(svc))
    hub.add_message_handler("vote", make_vote_handler(svc))
    return svc
