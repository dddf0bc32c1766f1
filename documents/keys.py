"""Typed application keys of the documents domain."""

from __future__ import annotations

from aiohttp import web

from documents.federation.exchange import Federation
from documents.service import Services

SERVICES_KEY = web.AppKey("documents", Services)
FEDERATION_KEY = web.AppKey("documents_federation", Federation)
