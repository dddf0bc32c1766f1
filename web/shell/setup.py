"""Mounting the shell's pages and the static assets on the application."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from server.http.keys import ERROR_PAGE_KEY
from web.shell import admin, agencies, certificates, pages
from web.shell.render import JINJA_KEY, make_env

STATIC = Path(__file__).resolve().parent.parent / "static"


def setup_web(app: web.Application) -> None:
    app[JINJA_KEY] = make_env()
    app[ERROR_PAGE_KEY] = pages.error_page
    r = app.router
    r.add_get("/", pages.home)
    r.add_get("/login", pages.login_get)
    r.add_post("/login", pages.login_post)
    r.add_post("/logout", pages.logout_post)
    r.add_get("/lang", pages.set_language)
    r.add_get("/account", pages.account_get)
    r.add_post("/account/tokens", pages.account_token_post)
    r.add_post("/account/password", pages.account_password_post)
    r.add_get("/admin", _admin_index)
    r.add_get("/admin/agencies", agencies.agencies_get)
    r.add_post("/admin/agencies", agencies.agencies_post)
    r.add_post("/admin/agencies/import", agencies.agencies_import)
    r.add_post("/admin/agencies/restructure", agencies.agencies_restructure)
    r.add_get("/admin/agencies/export.csv", agencies.agencies_export)
    r.add_get("/admin/users", admin.users_get)
    r.add_post("/admin/users", admin.users_post)
    r.add_post("/admin/users/{login}/roles", admin.user_roles_post)
    r.add_post("/admin/users/{login}/state", admin.user_state_post)
    r.add_post("/admin/certificates", certificates.certificate_post)
    r.add_post("/admin/users/{login}/certificates/{id}", certificates.certificate_decide_post)
    r.add_get("/admin/audit", admin.audit_get)
    r.add_get("/favicon.ico", _favicon)
    r.add_static("/static/", STATIC, append_version=True)


async def _favicon(request: web.Request) -> web.StreamResponse:
    """Browsers ask for ``/favicon.ico`` before reading the page's ``<link rel="icon">``."""
    return web.FileResponse(
        STATIC / "favicon.svg",
        headers={"Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400"},
    )


async def _admin_index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/admin/agencies")
