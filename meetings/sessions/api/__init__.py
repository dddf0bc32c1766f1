"""``/api/v1/sessions``: each handler authenticates, reads its declared body, makes one call to an
action (``meetings/sessions/actions``) and answers.  One module per part of the API; ``http.py``
mounts their route tables."""

from __future__ import annotations

from aiohttp import web

from meetings.sessions.service import SERVICE_KEY, SessionsService

TAGS = ("sessions",)


def service(request: web.Request) -> SessionsService:
    """The sessions runtime of the app serving ``request``."""
    return request.app[SERVICE_KEY]
