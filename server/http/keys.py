"""Typed keys of the objects the application holds for its whole life."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from server.config import Config
from server.db import Database
from server.errors import LienThongError

CONFIG_KEY = web.AppKey("config", Config)
DB_KEY = web.AppKey("db", Database)

ErrorPageRenderer = Callable[[web.Request, LienThongError], Awaitable[web.StreamResponse]]
ERROR_PAGE_KEY: web.AppKey[ErrorPageRenderer] = web.AppKey("error_page")
"""Set by the web package: renders an error as a Vietnamese HTML page for browser requests."""
