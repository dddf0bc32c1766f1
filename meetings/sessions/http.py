"""Mounting the sessions domain: API routes, channel rules, the vote handler, the service."""

from __future__ import annotations

from aiohttp import web

from meetings.sessions.api import SERVICE_KEY, routes
from meetings.sessions.minutes_signing import routes as minutes_routes
from meetings.sessions.realtime import make_channel_rule, make_vote_handler
from meetings.sessions.service import SessionsService
from server.http.openapi import OPENAPI_KEY
from server.realtime import HUB_KEY


def setup(app: web.Application) -> SessionsService:
    """Add the routes and realtime hooks; the service starts with the app (after the database)."""
    hub = app[HUB_KEY]
    svc = SessionsService(hub)
    app[SERVICE_KEY] = svc
    app.cleanup_ctx.append(svc.cleanup_ctx)
    for table in (routes, minutes_routes):
        app.router.add_routes(table.table)
        app[OPENAPI_KEY].append(table)
    hub.add_channel_rule("session:", make_channel_rule(svc))
    hub.add_message_handler("vote", make_vote_handler(svc))
    return svc
