"""Admin pages: people (roles, disabling, password resets) and the audit log; the agencies'
pages are in :mod:`web.shell.agencies`."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.agencies import list_agencies_txn, live_rows
from server.accounts.certificates import all_certificates_txn
from server.accounts.service import Actor, add_user, change_roles
from server.accounts.users import (
    list_users_txn,
    parse_roles,
)
from server.audit.log import latest_txn, verify_txn
from server.audit.models import AuditEntry
from server.auth.lifecycle import reset_password, set_active
from server.auth.principal import Principal, Role, require_principal
from server.errors import LienThongError
from server.http.keys import DB_KEY
from server.realtime import HUB_KEY
from web.i18n import lang_of, translate
from web.shell.audit_labels import action_label
from web.shell.pages import login_required
from web.shell.render import render


def admin_only(request: web.Request) -> Principal:
    login_required(request)
    return require_principal(request, Role.ADMIN)


def message_of(request: web.Request, err: LienThongError) -> str:
    return err.detail_vi if lang_of(request) == "vi" else err.detail


async def _users_page(
    request: web.Request, *, error: str | None = None, notice: str | None = None, status: int = 200
) -> web.Response:
    db = request.app[DB_KEY]
    q = request.query.get("q", "")[:100]
    users = await db.read("list_users", lambda s: list_users_txn(s, None, q))
    agencies = live_rows(await db.read("list_agencies", list_agencies_txn))
    context: dict[str, Any] = {
        "users": users,
        "q": q,
        "certificates": await db.read("list_certificates", all_certificates_txn),
        "agencies": agencies,
        "roles": [r.value for r in Role],
        "error": error,
        "notice": notice,
    }
    return render(request, "admin_users.html", context, status=status)


async def users_get(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    return await _users_page(request)


async def users_post(request: web.Request) -> web.StreamResponse:
    p = admin_only(request)
    form = await request.post()
    try:
        roles = parse_roles(str(v) for v in form.getall("roles", []))
        await add_user(
            request.app[DB_KEY],
            Actor.of(p),
            login=str(form.get("login", "")),
            full_name=str(form.get("full_name", "")),
            agency_code=str(form.get("agency_code", "")),
            roles=roles,
            password=str(form.get("password", "")),
        )
    except LienThongError as err:
        return await _users_page(request, error=message_of(request, err), status=err.status)
    return await _users_page(request, notice=translate("saved", lang_of(request)))


async def user_roles_post(request: web.Request) -> web.StreamResponse:
    p = admin_only(request)
    form = await request.post()
    login = request.match_info["login"]
    try:
        roles = parse_roles(str(v) for v in form.getall("roles", []))

        user_id = await change_roles(request.app[DB_KEY], Actor.of(p), login, roles)
        # open sockets keep the roles they connected with: drop them so they re-authorise
        request.app[HUB_KEY].drop_user(user_id)
    except LienThongError as err:
        return await _users_page(request, error=message_of(request, err), status=err.status)
    return await _users_page(request, notice=translate("saved", lang_of(request)))


async def user_state_post(request: web.Request) -> web.StreamResponse:
    """Disable or re-enable an account (``action`` = disable / enable), or reset its password
    (``action`` = reset with ``password``): sessions, tokens and sockets end at once."""
    p = admin_only(request)
    form = await request.post()
    login = request.match_info["login"]
    action = str(form.get("action", ""))
    db = request.app[DB_KEY]
    try:
        if action == "reset":
            ended = await reset_password(db, Actor.of(p), login, str(form.get("password", "")))
            notice = translate("user.reset_done", lang_of(request), login=login)
        else:
            ended = await set_active(db, Actor.of(p), login, action == "enable")
            notice = translate("saved", lang_of(request))
        request.app[HUB_KEY].drop_user(ended.user_id)
    except LienThongError as err:
        return await _users_page(request, error=message_of(request, err), status=err.status)
    return await _users_page(request, notice=notice)


async def audit_get(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    db = request.app[DB_KEY]
    result = await db.read("audit_verify", verify_txn)

    async def latest(session: AsyncSession) -> list[AuditEntry]:
        return await latest_txn(session, 200)

    entries = await db.read("list_audit", latest)
    lang = lang_of(request)
    ctx = {"result": result, "entries": entries, "action": lambda c: action_label(c, lang)}
    return render(request, "admin_audit.html", ctx)
