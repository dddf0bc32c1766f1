"""Typed application keys of the documents domain."""

from __future__ import annotations

from aiohttp import web

from documents.services import Services

SERVICES_KEY = web.AppKey("documents", Services)
