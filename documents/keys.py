"""Typed application keys of the documents domain, and the app's one set of seal keys."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from documents.sealing import Seals, load_seals
from documents.services import Services
from server.http.keys import CONFIG_KEY

SERVICES_KEY = web.AppKey("documents", Services)
SEALS_KEY = web.AppKey("documents_seals", Seals)


def app_seals(app: web.Application) -> Seals:
    """The agencies' seal keys, one :class:`Seals` per app (each opens the token on first use):
    the drafts seal documents with it, the edXML envelopes are signed with it; closed at
    shutdown."""
    if SEALS_KEY not in app:
        seals = Seals(load_seals(app[CONFIG_KEY].data_dir))
        app[SEALS_KEY] = seals

        async def ctx(app: web.Application) -> AsyncIterator[None]:
            yield
            await seals.close()

        app.cleanup_ctx.append(ctx)
    return app[SEALS_KEY]
